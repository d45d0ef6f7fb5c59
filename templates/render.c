/*
 * render.c - parsing and rendering the mustache subset of render.h.
 *
 * Templates are parsed once into a tree of nodes; rendering walks the tree
 * with a stack of variable scopes, innermost first, as mustache does.
 */
#include <glib.h>
#include <stdarg.h>
#include <string.h>

#include "templates/render.h"

#define MAX_NESTING 16

typedef struct tval {
	char *str;		/* a value, or NULL for a list */
	GPtrArray *items;	/* tvars items of a list */
} tval;

struct tvars {
	GHashTable *vals;	/* name -> tval */
};

typedef enum { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED } node_type;

typedef struct node {
	node_type type;
	char *s;		/* text, or the variable/section name */
	int line;
	GPtrArray *children;	/* sections */
} node;

typedef struct part {
	char *file;
	int first_line;
	GPtrArray *nodes;	/* NULL when the part does not exist */
} part;

struct tmpl {
	char *name;
	part subject, text, html;
};

/* ---- variables ---- */

static void
tval_free(gpointer p)
{
	tval *v = p;

	g_free(v->str);
	if (v->items)
		g_ptr_array_free(v->items, TRUE);
	g_free(v);
}

tvars *
tvars_new(void)
{
	tvars *v = g_new0(tvars, 1);

	v->vals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    tval_free);
	return v;
}

void
tvars_free(tvars *v)
{
	if (v == NULL)
		return;
	g_hash_table_destroy(v->vals);
	g_free(v);
}

void
tvars_set(tvars *v, const char *name, const char *value)
{
	tval *t = g_new0(tval, 1);

	t->str = g_strdup(value ? value : "");
	g_hash_table_replace(v->vals, g_strdup(name), t);
}

void
tvars_setf(tvars *v, const char *name, const char *fmt, ...)
{
	va_list ap;
	tval *t = g_new0(tval, 1);

	va_start(ap, fmt);
	t->str = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_hash_table_replace(v->vals, g_strdup(name), t);
}

static tval *
list_get(tvars *v, const char *name)
{
	tval *t = g_hash_table_lookup(v->vals, name);

	if (t == NULL || t->items == NULL) {
		t = g_new0(tval, 1);
		t->items = g_ptr_array_new_with_free_func(
		    (GDestroyNotify)tvars_free);
		g_hash_table_replace(v->vals, g_strdup(name), t);
	}
	return t;
}

void
tvars_list(tvars *v, const char *name)
{
	list_get(v, name);
}

tvars *
tvars_add(tvars *v, const char *name)
{
	tvars *item = tvars_new();

	g_ptr_array_add(list_get(v, name)->items, item);
	return item;
}

/* ---- parsing ---- */

static void
node_free(gpointer p)
{
	node *n = p;

	g_free(n->s);
	if (n->children)
		g_ptr_array_free(n->children, TRUE);
	g_free(n);
}

static GPtrArray *
nodes_new(void)
{
	return g_ptr_array_new_with_free_func(node_free);
}

static void
add_text(GPtrArray *nodes, const char *s, size_t len, int line)
{
	node *n;

	if (len == 0)
		return;
	n = g_new0(node, 1);
	n->type = N_TEXT;
	n->s = g_strndup(s, len);
	n->line = line;
	g_ptr_array_add(nodes, n);
}

static int
count_lines(const char *s, const char *end)
{
	int n = 0;

	for (; s < end; s++)
		if (*s == '\n')
			n++;
	return n;
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* Parses src into *out.  Errors name file:line. */
static mp_status
parse(const char *src, const char *file, int first_line, GPtrArray **out,
    char **err)
{
	GPtrArray *stack[MAX_NESTING];
	node *open[MAX_NESTING];
	int depth = 0, line = first_line;
	const char *p = src, *text = src;

	stack[0] = nodes_new();
	*out = NULL;
	while ((p = strstr(p, "{{")) != NULL) {
		int triple = p[2] == '{';
		const char *close = strstr(p + 2, triple ? "}}}" : "}}");
		const char *after, *ls, *le;
		char kind, *name;
		int tag_line = line + count_lines(text, p);
		int standalone;

		if (close == NULL) {
			*err = g_strdup_printf("%s:%d: unclosed tag", file,
			    tag_line);
			goto fail;
		}
		after = close + (triple ? 3 : 2);
		kind = triple ? '{' : p[2];
		name = g_strstrip(g_strndup(p + (triple || strchr("#^/!&",
		    kind) ? 3 : 2), close - p - (triple || strchr("#^/!&",
		    kind) ? 3 : 2)));
		if (!triple && strchr("#^/!&", kind) == NULL)
			kind = 'v';
		/* A section or comment tag alone on its line takes the line. */
		for (ls = p; ls > src && (ls[-1] == ' ' || ls[-1] == '\t');)
			ls--;
		for (le = after; *le == ' ' || *le == '\t' || *le == '\r';)
			le++;
		standalone = strchr("#^/!", kind) && (ls == src ||
		    ls[-1] == '\n') && (*le == '\n' || *le == '\0');
		add_text(stack[depth], text, (size_t)((standalone ? ls : p) -
		    text), line);
		line = tag_line + count_lines(p, after);
		text = after;
		if (standalone) {
			text = *le == '\n' ? le + 1 : le;
			line += *le == '\n';
		}
		p = text;
		if (kind == '!') {
			g_free(name);
			continue;
		}
		if (!valid_name(name)) {
			*err = g_strdup_printf("%s:%d: bad tag name '%s'",
			    file, tag_line, name);
			g_free(name);
			goto fail;
		}
		if (kind == '/') {
			if (depth == 0 || strcmp(open[depth - 1]->s, name)) {
				*err = g_strdup_printf("%s:%d: {{/%s}} closes "
				    "no open section", file, tag_line, name);
				g_free(name);
				goto fail;
			}
			g_free(name);
			depth--;
			continue;
		}
		{
			node *n = g_new0(node, 1);

			n->s = name;
			n->line = tag_line;
			n->type = kind == '#' ? N_SECTION : kind == '^' ?
			    N_INVERTED : (kind == '{' || kind == '&') ? N_RAW :
			    N_VAR;
			g_ptr_array_add(stack[depth], n);
			if (n->type == N_SECTION || n->type == N_INVERTED) {
				if (depth + 1 >= MAX_NESTING) {
					*err = g_strdup_printf("%s:%d: "
					    "sections nested too deep", file,
					    tag_line);
					goto fail;
				}
				n->children = nodes_new();
				open[depth] = n;
				stack[++depth] = n->children;
			}
		}
	}
	add_text(stack[depth], text, strlen(text), line);
	if (depth > 0) {
		*err = g_strdup_printf("%s:%d: section {{#%s}} is not closed",
		    file, open[depth - 1]->line, open[depth - 1]->s);
		goto fail;
	}
	*out = stack[0];
	return MP_OK;
fail:
	g_ptr_array_free(stack[0], TRUE);
	return MP_ERR_CONFIG;
}

/* Finds name in dirs; returns the path of the first that exists. */
static char *
find_file(const char *const *dirs, const char *name)
{
	for (int i = 0; dirs && dirs[i]; i++) {
		char *path = g_build_filename(dirs[i], name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
			return path;
		g_free(path);
	}
	return NULL;
}

static void
part_clear(part *p)
{
	g_free(p->file);
	if (p->nodes)
		g_ptr_array_free(p->nodes, TRUE);
}

void
tmpl_free(tmpl *t)
{
	if (t == NULL)
		return;
	g_free(t->name);
	part_clear(&t->subject);
	part_clear(&t->text);
	part_clear(&t->html);
	g_free(t);
}

int
tmpl_has_html(const tmpl *t)
{
	return t->html.nodes != NULL;
}

mp_status
tmpl_load(const char *const *dirs, const char *name, tmpl **out, char **err)
{
	tmpl *t = g_new0(tmpl, 1);
	char *file = g_strdup_printf("%s.txt", name), *hfile;
	char *src = NULL, *body, *nl;
	mp_status rc = MP_ERR_CONFIG;

	*out = NULL;
	*err = NULL;
	t->name = g_strdup(name);
	t->text.file = find_file(dirs, file);
	if (t->text.file == NULL) {
		*err = g_strdup_printf("template %s not found", file);
		goto done;
	}
	if (!g_file_get_contents(t->text.file, &src, NULL, NULL) ||
	    !g_utf8_validate(src, -1, NULL)) {
		*err = g_strdup_printf("%s: cannot read, or not UTF-8",
		    t->text.file);
		goto done;
	}
	if (!g_str_has_prefix(src, "Subject:")) {
		*err = g_strdup_printf("%s:1: the first line must be "
		    "'Subject: ...'", t->text.file);
		goto done;
	}
	nl = strchr(src, '\n');
	body = nl ? nl + 1 : src + strlen(src);
	if (nl)
		*nl = '\0';
	t->subject.file = g_strdup(t->text.file);
	rc = parse(g_strstrip(src + 8), t->text.file, 1, &t->subject.nodes,
	    err);
	if (rc)
		goto done;
	if (*body == '\n')
		body++;
	else if (*body != '\0') {
		*err = g_strdup_printf("%s:2: a blank line must follow the "
		    "Subject line", t->text.file);
		rc = MP_ERR_CONFIG;
		goto done;
	}
	rc = parse(body, t->text.file, 3, &t->text.nodes, err);
	if (rc)
		goto done;
	hfile = g_strdup_printf("%s.html", name);
	t->html.file = find_file(dirs, hfile);
	g_free(hfile);
	if (t->html.file) {
		g_free(src);
		src = NULL;
		if (!g_file_get_contents(t->html.file, &src, NULL, NULL) ||
		    !g_utf8_validate(src, -1, NULL)) {
			*err = g_strdup_printf("%s: cannot read, or not "
			    "UTF-8", t->html.file);
			rc = MP_ERR_CONFIG;
			goto done;
		}
		rc = parse(src, t->html.file, 1, &t->html.nodes, err);
		if (rc)
			goto done;
	}
	*out = t;
	t = NULL;
done:
	g_free(file);
	g_free(src);
	tmpl_free(t);
	return rc;
}

/* ---- rendering ---- */

typedef struct scope {
	const tvars *stack[MAX_NESTING + 1];
	int depth;
} scope;

static const tval *
lookup(const scope *sc, const char *name)
{
	for (int i = sc->depth - 1; i >= 0; i--) {
		const tval *t = g_hash_table_lookup(sc->stack[i]->vals, name);

		if (t)
			return t;
	}
	return NULL;
}

static void
append_html(GString *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		case '&': g_string_append(out, "&amp;"); break;
		case '"': g_string_append(out, "&quot;"); break;
		case '\'': g_string_append(out, "&#39;"); break;
		default: g_string_append_c(out, *s);
		}
	}
}

static mp_status
render_nodes(GPtrArray *nodes, scope *sc, int html, const char *file,
    GString *out, char **err)
{
	for (guint i = 0; i < nodes->len; i++) {
		node *n = nodes->pdata[i];
		const tval *v;
		int truthy;

		if (n->type == N_TEXT) {
			g_string_append(out, n->s);
			continue;
		}
		v = lookup(sc, n->s);
		if (v == NULL) {
			*err = g_strdup_printf("%s:%d: variable '%s' is not "
			    "set", file, n->line, n->s);
			return MP_ERR_CONFIG;
		}
		if (n->type == N_VAR || n->type == N_RAW) {
			if (v->str == NULL) {
				*err = g_strdup_printf("%s:%d: '%s' is a list, "
				    "use {{#%s}}", file, n->line, n->s, n->s);
				return MP_ERR_CONFIG;
			}
			if (html && n->type == N_VAR)
				append_html(out, v->str);
			else
				g_string_append(out, v->str);
			continue;
		}
		truthy = v->str ? *v->str != '\0' : v->items->len > 0;
		if (n->type == N_INVERTED) {
			if (!truthy && render_nodes(n->children, sc, html,
			    file, out, err))
				return MP_ERR_CONFIG;
			continue;
		}
		if (!truthy)
			continue;
		if (v->str) {
			if (render_nodes(n->children, sc, html, file, out, err))
				return MP_ERR_CONFIG;
			continue;
		}
		if (sc->depth >= MAX_NESTING) {
			*err = g_strdup_printf("%s:%d: lists nested too deep",
			    file, n->line);
			return MP_ERR_CONFIG;
		}
		for (guint k = 0; k < v->items->len; k++) {
			mp_status rc;

			sc->stack[sc->depth++] = v->items->pdata[k];
			rc = render_nodes(n->children, sc, html, file, out,
			    err);
			sc->depth--;
			if (rc)
				return rc;
		}
	}
	return MP_OK;
}

static mp_status
render_part(const part *p, const tvars *v, int html, char **out, char **err)
{
	scope sc = { .stack = { v }, .depth = 1 };
	GString *s = g_string_new(NULL);
	mp_status rc = render_nodes(p->nodes, &sc, html, p->file, s, err);

	if (rc) {
		g_string_free(s, TRUE);
		*out = NULL;
		return rc;
	}
	*out = g_string_free(s, FALSE);
	return MP_OK;
}

mp_status
tmpl_render(const tmpl *t, const tvars *v, char **subject, char **text,
    char **html, char **err)
{
	mp_status rc;

	*subject = *text = *html = NULL;
	*err = NULL;
	rc = render_part(&t->subject, v, 0, subject, err);
	if (!rc)
		rc = render_part(&t->text, v, 0, text, err);
	if (!rc && t->html.nodes)
		rc = render_part(&t->html, v, 1, html, err);
	if (rc) {
		g_free(*subject);
		g_free(*text);
		g_free(*html);
		*subject = *text = *html = NULL;
	}
	return rc;
}

/* ---- checking ---- */

static int
known_name(const char *const *known, const char *const *path, int depth,
    const char *name)
{
	for (int d = depth; d >= 0; d--) {
		char *full = d == 0 ? g_strdup(name) : g_strdup_printf(
		    "%s.%s", path[d - 1], name);
		int found = 0;

		for (int i = 0; known[i] && !found; i++)
			found = strcmp(known[i], full) == 0;
		g_free(full);
		if (found)
			return 1;
	}
	return 0;
}

static mp_status
check_nodes(GPtrArray *nodes, const char *const *known, const char **path,
    int depth, const char *file, char **err)
{
	for (guint i = 0; i < nodes->len; i++) {
		node *n = nodes->pdata[i];

		if (n->type == N_TEXT)
			continue;
		if (!known_name(known, path, depth, n->s)) {
			*err = g_strdup_printf("%s:%d: unknown variable '%s'",
			    file, n->line, n->s);
			return MP_ERR_CONFIG;
		}
		if (n->children) {
			path[depth] = n->s;
			if (check_nodes(n->children, known, path, depth + 1,
			    file, err))
				return MP_ERR_CONFIG;
		}
	}
	return MP_OK;
}

mp_status
tmpl_check(const tmpl *t, const char *const *known, char **err)
{
	const char *path[MAX_NESTING + 1];
	const part *parts[] = { &t->subject, &t->text, &t->html };

	*err = NULL;
	for (int i = 0; i < 3; i++)
		if (parts[i]->nodes && check_nodes(parts[i]->nodes, known,
		    path, 0, parts[i]->file, err))
			return MP_ERR_CONFIG;
	return MP_OK;
}

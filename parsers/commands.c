/*
 * commands.c - finding the command block and the macro fields.
 */
#include <glib.h>
#include <string.h>

#include "parsers/commands.h"

#define LINE_MAX_CMD 1000	/* longer lines are not commands */

const char *const macro_keys[MACRO_N_FIELDS] = {
	"customer_details", "issue_link", "summary", "consequences",
	"time_considerations", "additional_information",
};

const char *const macro_labels[MACRO_N_FIELDS] = {
	"Customer details", "Issue link", "Summary", "Consequences",
	"Time considerations", "Additional information",
};

/* Label spellings people use, normalised (lower case, single spaces). */
static const struct {
	const char *label;
	int field;
	int prefix;		/* 1: any label starting with this */
} label_map[] = {
	{ "customer details", MACRO_CUSTOMER_DETAILS, 0 },
	{ "customer detail", MACRO_CUSTOMER_DETAILS, 0 },
	{ "customer", MACRO_CUSTOMER_DETAILS, 0 },
	{ "issue link", MACRO_ISSUE_LINK, 0 },
	{ "link to issue", MACRO_ISSUE_LINK, 0 },
	{ "link to the issue", MACRO_ISSUE_LINK, 0 },
	{ "issue url", MACRO_ISSUE_LINK, 0 },
	{ "link", MACRO_ISSUE_LINK, 0 },
	{ "summary", MACRO_SUMMARY, 1 },
	{ "detailed summary", MACRO_SUMMARY, 1 },
	{ "consequence", MACRO_CONSEQUENCES, 1 },
	{ "time consideration", MACRO_TIME_CONSIDERATIONS, 1 },
	{ "deadline", MACRO_TIME_CONSIDERATIONS, 1 },
	{ "additional info", MACRO_ADDITIONAL_INFORMATION, 1 },
	{ "additional notes", MACRO_ADDITIONAL_INFORMATION, 0 },
};

static char *
tidy(const char *s)
{
	GString *out = g_string_new(NULL);
	char **lines = g_strsplit(s, "\n", -1);
	int blank = 0;

	for (int i = 0; lines[i]; i++) {
		char *l = g_strchomp(lines[i]);

		if (*l == '\0') {
			blank = out->len > 0;
			continue;
		}
		if (blank)
			g_string_append_c(out, '\n');
		if (out->len)
			g_string_append_c(out, '\n');
		g_string_append(out, l);
		blank = 0;
	}
	g_strfreev(lines);
	return g_string_free(out, FALSE);
}

cmd_block *
cmd_parse(const char *text)
{
	cmd_block *b = g_new0(cmd_block, 1);
	GArray *cmds = g_array_new(FALSE, TRUE, sizeof(cmd));
	char **lines = g_strsplit(text ? text : "", "\n", -1);
	int i = 0;
	GString *rest = g_string_new(NULL);

	for (; lines[i]; i++) {
		char *l = g_strstrip(g_strdup(lines[i]));
		cmd c = { 0 };
		char *sp;

		if (*l == '\0') {
			g_free(l);
			continue;
		}
		if (*l != '/' || strlen(l) > LINE_MAX_CMD || l[1] == '\0' ||
		    !g_ascii_isalpha(l[1])) {
			g_free(l);
			break;
		}
		if (cmds->len >= CMD_MAX) {
			b->too_many = 1;
			g_free(l);
			continue;
		}
		sp = l + 1;
		while (g_ascii_isalnum(*sp) || *sp == '-')
			sp++;
		if (*sp && !g_ascii_isspace(*sp)) {
			/* "/usr/bin is missing" is text, not a command. */
			g_free(l);
			break;
		}
		c.name = g_ascii_strdown(l + 1, sp - l - 1);
		c.args = g_strstrip(g_strdup(sp));
		c.line = i + 1;
		g_array_append_val(cmds, c);
		g_free(l);
	}
	for (; lines[i]; i++) {
		g_string_append(rest, lines[i]);
		g_string_append_c(rest, '\n');
	}
	g_strfreev(lines);
	b->rest = tidy(rest->str);
	g_string_free(rest, TRUE);
	b->n = cmds->len;
	b->cmds = (cmd *)g_array_free(cmds, FALSE);
	return b;
}

void
cmd_block_free(cmd_block *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		g_free(b->cmds[i].name);
		g_free(b->cmds[i].args);
	}
	g_free(b->cmds);
	g_free(b->rest);
	g_free(b);
}

int
url_is_http(const char *s)
{
	GUri *u;
	int ok;

	if (s == NULL || strpbrk(s, " \t\r\n<>\"") != NULL)
		return 0;
	if (g_ascii_strncasecmp(s, "http://", 7) != 0 &&
	    g_ascii_strncasecmp(s, "https://", 8) != 0)
		return 0;
	u = g_uri_parse(s, G_URI_FLAGS_NONE, NULL);
	if (u == NULL)
		return 0;
	ok = g_uri_get_host(u) != NULL && *g_uri_get_host(u) != '\0';
	g_uri_unref(u);
	return ok;
}

/* Splits "label: value" into a normalised label and the value; returns 0
 * when the line has no label (no colon within the first 60 bytes). */
static int
split_label(const char *line, char **label, char **value)
{
	const char *p = line, *colon;
	GString *l;
	int space = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	/* bullets: -, *, •, "1." or "1)" */
	if ((*p == '-' || *p == '*') && p[1] == ' ')
		p += 2;
	else if (g_str_has_prefix(p, "\xe2\x80\xa2"))
		p += 3;
	else if (g_ascii_isdigit(*p)) {
		const char *q = p;

		while (g_ascii_isdigit(*q))
			q++;
		if ((*q == '.' || *q == ')') && q[1] == ' ')
			p = q + 2;
	}
	colon = strchr(p, ':');
	if (colon == NULL || colon - p > 60)
		return 0;
	l = g_string_new(NULL);
	for (const char *q = p; q < colon; q++) {
		if (*q == '*' || *q == '_')
			continue;
		if (g_ascii_isspace(*q)) {
			space = l->len > 0;
			continue;
		}
		if (!g_ascii_isalnum(*q) && *q != '(' && *q != ')' &&
		    *q != '-' && *q != '/' && *q != '\'') {
			g_string_free(l, TRUE);
			return 0;
		}
		if (space)
			g_string_append_c(l, ' ');
		space = 0;
		g_string_append_c(l, g_ascii_tolower(*q));
	}
	if (l->len == 0) {
		g_string_free(l, TRUE);
		return 0;
	}
	*label = g_string_free(l, FALSE);
	p = colon + 1;
	while (*p == '*' || *p == '_')	/* "**Label:** value" */
		p++;
	*value = g_strstrip(g_strdup(p));
	return 1;
}

static int
field_of(const char *label)
{
	for (size_t i = 0; i < G_N_ELEMENTS(label_map); i++) {
		size_t n = strlen(label_map[i].label);

		if (strcmp(label, label_map[i].label) == 0 ||
		    (label_map[i].prefix && strncmp(label, label_map[i].label,
		    n) == 0))
			return label_map[i].field;
	}
	return -1;
}

/* "Jira <https://...>" (an HTML link made text) gives the URL. */
static char *
link_value(const char *v)
{
	const char *lt = strstr(v, "<http");
	const char *gt = lt ? strchr(lt, '>') : NULL;

	if (lt && gt)
		return g_strndup(lt + 1, gt - lt - 1);
	return g_strdup(v);
}

macro_fields *
macro_parse(const char *text)
{
	macro_fields *f = g_new0(macro_fields, 1);
	GPtrArray *problems = g_ptr_array_new();
	GString *cur[MACRO_N_FIELDS] = { NULL };
	char **lines = g_strsplit(text ? text : "", "\n", -1);
	int open = -1;

	for (int i = 0; lines[i]; i++) {
		char *line = lines[i], *label = NULL, *value = NULL;
		int field;

		/* A blank line ends a wrapped value. */
		{
			char *t = g_strstrip(g_strdup(line));
			int blank = *t == '\0';

			g_free(t);
			if (blank) {
				open = -1;
				continue;
			}
		}
		if (split_label(line, &label, &value)) {
			field = field_of(label);
			if (field >= 0) {
				if (cur[field] == NULL)
					cur[field] = g_string_new(value);
				else
					g_string_assign(cur[field], value);
				open = field;
			} else if ((line[0] == ' ' || line[0] == '\t') &&
			    open >= 0) {
				char *t = g_strstrip(g_strdup(line));

				g_string_append_printf(cur[open], " %s", t);
				g_free(t);
			} else {
				g_ptr_array_add(problems, g_strdup_printf(
				    "line %d: '%s' is not a field of the "
				    "macro", i + 1, label));
				open = -1;
			}
			g_free(label);
			g_free(value);
			continue;
		}
		if (open >= 0) {
			char *t = g_strstrip(g_strdup(line));

			g_string_append_printf(cur[open], "%s%s",
			    cur[open]->len ? " " : "", t);
			g_free(t);
		} else {
			char *t = g_strstrip(g_strdup(line));

			g_ptr_array_add(problems, g_strdup_printf("line %d: "
			    "'%.40s' is not a 'Field: value' line", i + 1, t));
			g_free(t);
		}
	}
	g_strfreev(lines);
	for (int k = 0; k < MACRO_N_FIELDS; k++) {
		if (cur[k] == NULL)
			continue;
		f->value[k] = g_string_free(cur[k], FALSE);
		if (*f->value[k] == '\0') {
			g_free(f->value[k]);
			f->value[k] = NULL;
		}
	}
	if (f->value[MACRO_ISSUE_LINK]) {
		char *u = link_value(f->value[MACRO_ISSUE_LINK]);

		g_free(f->value[MACRO_ISSUE_LINK]);
		f->value[MACRO_ISSUE_LINK] = u;
		if (!url_is_http(u))
			g_ptr_array_add(problems, g_strdup_printf("Issue link "
			    "'%.80s' is not an http(s) URL", u));
	}
	for (int k = 0; k < MACRO_ADDITIONAL_INFORMATION; k++)
		if (f->value[k] == NULL)
			g_ptr_array_add(problems, g_strdup_printf("the macro "
			    "is missing '%s:'", macro_labels[k]));
	g_ptr_array_add(problems, NULL);
	f->problems = (char **)g_ptr_array_free(problems, FALSE);
	return f;
}

void
macro_fields_free(macro_fields *f)
{
	if (f == NULL)
		return;
	for (int k = 0; k < MACRO_N_FIELDS; k++)
		g_free(f->value[k]);
	g_strfreev(f->problems);
	g_free(f);
}

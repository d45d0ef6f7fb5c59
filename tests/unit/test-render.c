/*
 * test-render - the template language of templates/render.h.
 */
#include <glib.h>
#include <glib/gstdio.h>

#include "templates/render.h"
#include "tests/unit/tap.h"

static char *dir;

static void
write_file(const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	g_file_set_contents(path, text, -1, NULL);
	g_free(path);
}

/* Loads NAME from dir and renders it with v; returns text or the error. */
static char *
render(const char *name, tvars *v, char **subject, char **html)
{
	const char *dirs[] = { dir, NULL };
	char *text = NULL, *err = NULL, *s = NULL, *h = NULL;
	tmpl *t = NULL;

	if (tmpl_load(dirs, name, &t, &err) == MP_OK &&
	    tmpl_render(t, v, &s, &text, &h, &err) == MP_OK) {
		tmpl_free(t);
		if (subject)
			*subject = s;
		else
			g_free(s);
		if (html)
			*html = h;
		else
			g_free(h);
		return text;
	}
	tmpl_free(t);
	return err;
}

int
main(void)
{
	tvars *v = tvars_new(), *item;
	char *out, *subject = NULL, *html = NULL, *err = NULL;
	tmpl *t = NULL;
	const char *dirs[2];

	dir = g_dir_make_tmp("render-XXXXXX", NULL);
	dirs[0] = dir;
	dirs[1] = NULL;

	tvars_set(v, "name", "Jane <jane@x>");
	tvars_set(v, "empty", "");
	tvars_list(v, "none");
	item = tvars_add(v, "items");
	tvars_set(item, "n", "1");
	item = tvars_add(v, "items");
	tvars_set(item, "n", "2");

	write_file("a.txt", "Subject: [TS-1] {{name}}\n\nHi {{name}}!\n");
	out = render("a", v, &subject, NULL);
	is_str(out, "Hi Jane <jane@x>!\n", "variable in text is not escaped");
	is_str(subject, "[TS-1] Jane <jane@x>", "subject line rendered");
	g_free(out);
	g_free(subject);

	write_file("b.txt", "Subject: s\n\n{{#items}}\n- {{n}} of {{name}}\n"
	    "{{/items}}\nend\n");
	out = render("b", v, NULL, NULL);
	is_str(out, "- 1 of Jane <jane@x>\n- 2 of Jane <jane@x>\nend\n",
	    "list section repeats, standalone tags take their line, outer "
	    "scope visible");
	g_free(out);

	write_file("c.txt", "Subject: s\n\n{{^none}}no items{{/none}}|"
	    "{{#empty}}x{{/empty}}|{{^empty}}empty{{/empty}}|"
	    "{{#name}}has name{{/name}}{{! a comment }}\n");
	out = render("c", v, NULL, NULL);
	is_str(out, "no items||empty|has name\n", "inverted and value "
	    "sections, comments");
	g_free(out);

	write_file("d.txt", "Subject: s\n\nHello {{missing}}\n");
	out = render("d", v, NULL, NULL);
	ok(out && strstr(out, "d.txt:3: variable 'missing' is not set") != NULL,
	    "a missing variable is an error naming file:line (%s)", out);
	g_free(out);

	write_file("e.txt", "Subject: s\n\ntext {{name}}\n");
	write_file("e.html", "<p>{{name}} {{{name}}}</p>\n");
	out = render("e", v, NULL, &html);
	is_str(html, "<p>Jane &lt;jane@x&gt; Jane <jane@x></p>\n",
	    "HTML alternative escapes {{x}} but not {{{x}}}");
	g_free(out);
	g_free(html);

	write_file("f.txt", "Subject: s\n\n{{#items}}open\n");
	out = render("f", v, NULL, NULL);
	ok(out && strstr(out, "is not closed") != NULL, "unclosed section "
	    "reported (%s)", out);
	g_free(out);

	write_file("g.txt", "Subject: s\n\n{{/items}}\n");
	out = render("g", v, NULL, NULL);
	ok(out && strstr(out, "closes no open section") != NULL,
	    "stray close reported (%s)", out);
	g_free(out);

	write_file("h.txt", "no subject\n");
	out = render("h", v, NULL, NULL);
	ok(out && strstr(out, "h.txt:1:") != NULL, "missing Subject line "
	    "reported (%s)", out);
	g_free(out);

	out = render("nosuch", v, NULL, NULL);
	ok(out && strstr(out, "not found") != NULL, "missing template "
	    "reported");
	g_free(out);

	write_file("i.txt", "Subject: {{name}}\n\n{{#items}}{{n}}{{/items}} "
	    "{{other}}\n");
	if (tmpl_load(dirs, "i", &t, &err) == MP_OK) {
		const char *known[] = { "name", "items", "items.n", NULL };
		const char *more[] = { "name", "items", "items.n", "other",
		    NULL };

		ok(tmpl_check(t, known, &err) == MP_ERR_CONFIG && err &&
		    strstr(err, "i.txt:3: unknown variable 'other'"),
		    "check names an unknown variable with file:line (%s)",
		    err);
		g_free(err);
		err = NULL;
		ok(tmpl_check(t, more, &err) == MP_OK, "check accepts known "
		    "variables and list fields");
		tmpl_free(t);
	} else {
		ok(0, "load i: %s", err);
		ok(0, "load i");
	}
	g_free(err);

	tvars_free(v);
	{
		GDir *dd = g_dir_open(dir, 0, NULL);
		const char *n;

		while ((n = g_dir_read_name(dd)) != NULL) {
			char *p = g_build_filename(dir, n, NULL);

			g_unlink(p);
			g_free(p);
		}
		g_dir_close(dd);
		g_rmdir(dir);
	}
	g_free(dir);
	return tap_done();
}

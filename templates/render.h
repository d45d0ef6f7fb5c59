/*
 * render.h - operator-editable message templates, a mustache subset.
 *
 * A template NAME is the file NAME.txt, whose first line is
 * "Subject: ..." followed by a blank line and the plain-text body, and an
 * optional NAME.html alternative.  Tags: {{name}} (HTML-escaped in .html),
 * {{{name}}} (never escaped), {{#name}}...{{/name}} (repeated for each item
 * of a list, or once when a value is non-empty), {{^name}}...{{/name}}
 * (when a list is empty or a value is empty), {{! comment}}.  A line
 * holding only a section tag or comment disappears.  A name not set is an
 * error, never an empty hole.
 */
#ifndef MP_RENDER_H
#define MP_RENDER_H

#include "mailproc/status.h"

typedef struct tvars tvars;
typedef struct tmpl tmpl;

/* Returns a new empty set of variables (tvars_free()). */
tvars *tvars_new(void);
void tvars_free(tvars *v);
/* Sets name to a copy of value (NULL counts as ""). */
void tvars_set(tvars *v, const char *name, const char *value);
void tvars_setf(tvars *v, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Declares list name (empty until items are added). */
void tvars_list(tvars *v, const char *name);
/* Appends a new item to list name and returns it (owned by v). */
tvars *tvars_add(tvars *v, const char *name);

/* Loads template name, looking in each of dirs (NULL-terminated, first
 * wins per file).  *err says which file and line is wrong. */
mp_status tmpl_load(const char *const *dirs, const char *name, tmpl **out,
    char **err);
void tmpl_free(tmpl *t);
int tmpl_has_html(const tmpl *t);

/* Renders t.  *html is NULL when t has no HTML alternative.  All outputs
 * are owned by the caller.  MP_ERR_CONFIG with *err naming the template,
 * line and variable when a name is not set. */
mp_status tmpl_render(const tmpl *t, const tvars *v, char **subject,
    char **text, char **html, char **err);

/* Checks that every name t uses is one of known (NULL-terminated);
 * section names may also be names of list items' fields (given as
 * "list.field").  *err names the first unknown one with file:line. */
mp_status tmpl_check(const tmpl *t, const char *const *known, char **err);

#endif

/*
 * authres.c - a tokenizer for RFC 8601 resinfo lists.
 */
#include <glib.h>
#include <string.h>

#include "parsers/authres.h"

#define AUTHRES_MAX 8192

/* Stands in for a separator inside a quoted string: no token holds it. */
#define QUOTED_SEP '\x01'

/* A quoted string is one value (RFC 8601 2.2, pvalue): the ';' and white
 * space inside it must not split it. */
static char
quoted_char(char c)
{
	return c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n' ?
	    QUOTED_SEP : c;
}

/* Copies value without RFC 5322 comments (nested parentheses, quoted
 * pairs) and with quoted strings' quotes removed, their separators
 * replaced by QUOTED_SEP: a value the sender chooses, such as
 * smtp.mailfrom="x;dmarc=pass "@evil.example, cannot start a result or a
 * property of its own. */
static char *
strip_comments(const char *v)
{
	GString *out = g_string_sized_new(strlen(v));
	int depth = 0, quoted = 0;

	for (const char *p = v; *p; p++) {
		if (*p == '\\' && p[1] && (depth || quoted)) {
			if (!depth)
				g_string_append_c(out, quoted_char(p[1]));
			p++;
			continue;
		}
		if (quoted) {
			if (*p == '"')
				quoted = 0;
			else
				g_string_append_c(out, quoted_char(*p));
			continue;
		}
		if (*p == '(') {
			depth++;
			continue;
		}
		if (*p == ')' && depth) {
			depth--;
			if (!depth)
				g_string_append_c(out, ' ');
			continue;
		}
		if (depth)
			continue;
		if (*p == '"') {
			quoted = 1;
			continue;
		}
		g_string_append_c(out, *p == '\t' || *p == '\r' ||
		    *p == '\n' ? ' ' : *p);
	}
	return g_string_free(out, FALSE);
}

/* 1 when d is from_domain or a parent domain of it (at least one dot). */
static int
aligned(const char *d, const char *from)
{
	size_t dl = strlen(d), fl = strlen(from);

	if (dl == 0 || strchr(d, '.') == NULL)
		return 0;
	if (g_ascii_strcasecmp(d, from) == 0)
		return 1;
	return fl > dl && from[fl - dl - 1] == '.' &&
	    g_ascii_strcasecmp(from + fl - dl, d) == 0;
}

/* Examines one resinfo ("method=result ptype.prop=value ..."). */
static int
resinfo_passes(char *info, const char *from_domain)
{
	char **tok = g_strsplit_set(g_strstrip(info), " ", -1);
	const char *method = NULL, *result = NULL;
	const char *header_d = NULL, *header_from = NULL;
	int pass = 0, ambiguous = 0;

	for (int i = 0; tok[i]; i++) {
		char *eq = strchr(tok[i], '=');

		if (eq == NULL || eq == tok[i])
			continue;
		*eq = '\0';
		if (method == NULL) {
			method = tok[i];
			result = eq + 1;
			continue;
		}
		/* A property given twice is ambiguous: no pass. */
		if (g_ascii_strcasecmp(tok[i], "header.d") == 0) {
			ambiguous |= header_d != NULL;
			header_d = eq + 1;
		} else if (g_ascii_strcasecmp(tok[i], "header.from") == 0) {
			ambiguous |= header_from != NULL;
			header_from = eq + 1;
		}
	}
	if (method && result && !ambiguous &&
	    g_ascii_strcasecmp(result, "pass") == 0) {
		if (g_ascii_strcasecmp(method, "dmarc") == 0)
			pass = header_from == NULL ||
			    g_ascii_strcasecmp(header_from, from_domain) == 0;
		else if (g_ascii_strcasecmp(method, "dkim") == 0)
			pass = header_d != NULL && aligned(header_d,
			    from_domain);
	}
	g_strfreev(tok);
	return pass;
}

int
authres_passes(const char *value, const char *authserv_id,
    const char *from_domain)
{
	char *clean, *semi, *id;
	char **infos;
	int pass = 0;

	if (value == NULL || authserv_id == NULL || from_domain == NULL ||
	    *from_domain == '\0' || strlen(value) > AUTHRES_MAX)
		return 0;
	clean = strip_comments(value);
	semi = strchr(clean, ';');
	if (semi == NULL) {
		g_free(clean);
		return 0;
	}
	*semi = '\0';
	/* authserv-id [ CFWS authres-version ] */
	id = g_strstrip(clean);
	{
		char *sp = strchr(id, ' ');

		if (sp)
			*sp = '\0';
	}
	if (g_ascii_strcasecmp(id, authserv_id) != 0) {
		g_free(clean);
		return 0;
	}
	infos = g_strsplit(semi + 1, ";", 64);
	for (int i = 0; infos[i] && !pass; i++)
		pass = resinfo_passes(infos[i], from_domain);
	g_strfreev(infos);
	g_free(clean);
	return pass;
}

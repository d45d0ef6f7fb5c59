/*
 * config.c - loading and checking the configuration file.
 *
 * GKeyFile parses the values; a first pass over the lines records where
 * each group and key is, because GKeyFile's errors carry no line numbers.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "mailproc/config.h"

/* Keys a section may hold; "mailbox.*" matches every mailbox section. */
static const struct {
	const char *group;
	const char *keys[16];
} known_keys[] = {
	{ "store", { "path", "busy_timeout_ms", NULL } },
	{ "imap", { "host", "port", "tls", "ca_file", "pin_sha256", "user",
	    "password_file", "poll_seconds", "timeout_seconds", "folder",
	    "processed_folder", NULL } },
	{ "mailbox.*", { "kind", "address", "host", "port", "tls", "ca_file",
	    "pin_sha256", "user", "password_file", "poll_seconds",
	    "timeout_seconds", "folder", "processed_folder", NULL } },
	{ "smtp", { "url", "user", "password_file", "ca_file",
	    "bounce_address", "tls", NULL } },
	{ "staff", { "staff_domains", "authserv_id",
	    "require_authenticated_staff", "admin", NULL } },
	{ "roles", { "ce", "se", "ie", "pm", "ae", NULL } },
	{ "teams", { "trial_support", "support_engineering", "implementation",
	    NULL } },
	{ "digest.trial-queue", { "recipients", NULL } },
	{ "digest.backlog", { "recipients", NULL } },
	{ "limits", { "max_message_bytes", "max_autoreplies_per_hour",
	    "stale_hours", NULL } },
	{ "templates", { "dir", NULL } },
};

static const char *const role_names[] = { "ce", "se", "ie", "pm", "ae" };

typedef struct loader {
	const char *path;
	char *dir;
	GKeyFile *kf;
	GHashTable *lines;	/* "group\nkey" or "group" -> line number */
	char *err;
} loader;

static int
line_of(loader *l, const char *group, const char *key)
{
	char *k = key ? g_strdup_printf("%s\n%s", group, key) :
	    g_strdup(group);
	int line = GPOINTER_TO_INT(g_hash_table_lookup(l->lines, k));

	g_free(k);
	return line;
}

static mp_status
bad(loader *l, const char *group, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static mp_status
bad(loader *l, const char *group, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	l->err = g_strdup_printf("%s:%d: %s", l->path,
	    line_of(l, group, key), what);
	g_free(what);
	return MP_ERR_CONFIG;
}

static int
key_known(const char *group, const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(known_keys); i++) {
		const char *g = known_keys[i].group;
		int match = strcmp(g, group) == 0 ||
		    (strcmp(g, "mailbox.*") == 0 &&
		    g_str_has_prefix(group, "mailbox."));

		if (!match)
			continue;
		for (int k = 0; known_keys[i].keys[k]; k++)
			if (strcmp(known_keys[i].keys[k], key) == 0)
				return 1;
		return 0;
	}
	return 0;
}

static int
group_known(const char *group)
{
	for (size_t i = 0; i < G_N_ELEMENTS(known_keys); i++)
		if (strcmp(known_keys[i].group, group) == 0)
			return 1;
	return g_str_has_prefix(group, "mailbox.") && group[8] != '\0';
}

/* Checks the line syntax, records positions and warns of unknown keys. */
static mp_status
scan_lines(loader *l, const char *text)
{
	char **lines = g_strsplit(text, "\n", -1);
	char *group = NULL;
	mp_status rc = MP_OK;

	for (int i = 0; lines[i]; i++) {
		char *t = g_strstrip(lines[i]);
		int n = i + 1;

		if (*t == '\0' || *t == '#' || *t == ';')
			continue;
		if (*t == '[') {
			char *end = strchr(t, ']');

			if (end == NULL || end[1] != '\0' || end == t + 1) {
				l->err = g_strdup_printf("%s:%d: malformed "
				    "section header '%s'", l->path, n, t);
				rc = MP_ERR_CONFIG;
				break;
			}
			g_free(group);
			group = g_strndup(t + 1, end - t - 1);
			g_hash_table_insert(l->lines, g_strdup(group),
			    GINT_TO_POINTER(n));
			if (!group_known(group))
				fprintf(stderr, "mailproc: %s:%d: warning: "
				    "unknown section [%s] ignored\n", l->path,
				    n, group);
			continue;
		}
		{
			char *eq = strchr(t, '=');
			char *key;

			if (eq == NULL || group == NULL || eq == t) {
				l->err = g_strdup_printf("%s:%d: expected "
				    "'key = value'%s, got '%.60s'", l->path, n,
				    group ? "" : " inside a [section]", t);
				rc = MP_ERR_CONFIG;
				break;
			}
			key = g_strstrip(g_strndup(t, eq - t));
			g_hash_table_insert(l->lines, g_strdup_printf("%s\n%s",
			    group, key), GINT_TO_POINTER(n));
			if (group_known(group) && !key_known(group, key))
				fprintf(stderr, "mailproc: %s:%d: warning: "
				    "unknown key '%s' in [%s] ignored\n",
				    l->path, n, key, group);
			g_free(key);
		}
	}
	g_free(group);
	g_strfreev(lines);
	return rc;
}

static char *
get_str(loader *l, const char *group, const char *key, const char *def)
{
	char *v = g_key_file_get_string(l->kf, group, key, NULL);

	if (v == NULL)
		return def ? g_strdup(def) : NULL;
	g_strstrip(v);
	if (*v == '\0') {
		g_free(v);
		return def ? g_strdup(def) : NULL;
	}
	return v;
}

/* A path value: relative paths are resolved against the file's dir. */
static char *
get_path(loader *l, const char *group, const char *key, const char *def)
{
	char *v = get_str(l, group, key, def);
	char *abs;

	if (v == NULL || g_path_is_absolute(v))
		return v;
	abs = g_build_filename(l->dir, v, NULL);
	g_free(v);
	return abs;
}

static mp_status
get_int(loader *l, const char *group, const char *key, long long def,
    long long min, long long max, long long *out)
{
	char *v = get_str(l, group, key, NULL);
	char *end;
	long long n;

	*out = def;
	if (v == NULL)
		return MP_OK;
	n = g_ascii_strtoll(v, &end, 10);
	if (*end != '\0' || end == v || n < min || n > max) {
		mp_status rc = bad(l, group, key, "%s must be a whole number "
		    "from %lld to %lld, not '%s'", key, min, max, v);

		g_free(v);
		return rc;
	}
	g_free(v);
	*out = n;
	return MP_OK;
}

static mp_status
get_bool(loader *l, const char *group, const char *key, int def, int *out)
{
	char *v = get_str(l, group, key, NULL);

	*out = def;
	if (v == NULL)
		return MP_OK;
	if (g_ascii_strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    g_ascii_strcasecmp(v, "yes") == 0)
		*out = 1;
	else if (g_ascii_strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    g_ascii_strcasecmp(v, "no") == 0)
		*out = 0;
	else {
		mp_status rc = bad(l, group, key, "%s must be true or false, "
		    "not '%s'", key, v);

		g_free(v);
		return rc;
	}
	g_free(v);
	return MP_OK;
}

/* A list of addresses or domains: comma, semicolon or space separated,
 * lower-cased.  Addresses must contain one @. */
static mp_status
get_list(loader *l, const char *group, const char *key, int addresses,
    char ***out)
{
	char *v = get_str(l, group, key, NULL);
	GPtrArray *arr = g_ptr_array_new();
	char **parts;
	mp_status rc = MP_OK;

	*out = NULL;
	parts = g_strsplit_set(v ? v : "", ",; \t", -1);
	for (int i = 0; parts[i]; i++) {
		char *p = g_strstrip(parts[i]);

		if (*p == '\0')
			continue;
		if (addresses && (strchr(p, '@') == NULL || strchr(p, '@') !=
		    strrchr(p, '@') || p[0] == '@' || p[strlen(p) - 1] == '@')) {
			rc = bad(l, group, key, "'%s' in %s is not a mail "
			    "address", p, key);
			break;
		}
		g_ptr_array_add(arr, g_ascii_strdown(p, -1));
	}
	g_strfreev(parts);
	g_free(v);
	g_ptr_array_add(arr, NULL);
	*out = (char **)g_ptr_array_free(arr, FALSE);
	return rc;
}

static int
is_loopback(const char *host)
{
	return g_str_has_prefix(host, "127.") || strcmp(host, "::1") == 0 ||
	    strcmp(host, "[::1]") == 0 || g_ascii_strcasecmp(host,
	    "localhost") == 0;
}

static mp_status
load_imap(loader *l, const char *group, const cfg_imap *def, cfg_imap *out)
{
	long long n;
	mp_status rc;

	out->host = get_str(l, group, "host", def ? def->host : NULL);
	out->tls = get_str(l, group, "tls", def ? def->tls : "implicit");
	if (strcmp(out->tls, "implicit") != 0 &&
	    strcmp(out->tls, "starttls") != 0 && strcmp(out->tls, "none") != 0)
		return bad(l, group, "tls", "tls must be implicit, starttls "
		    "or none, not '%s'", out->tls);
	/* A mailbox that chooses its own tls gets that tls's port unless it
	 * names one. */
	rc = get_int(l, group, "port", def && !(g_key_file_has_key(l->kf,
	    group, "tls", NULL) && strcmp(group, "imap") != 0) ? def->port :
	    (strcmp(out->tls, "implicit") == 0 ? 993 : 143), 1, 65535, &n);
	if (rc)
		return rc;
	out->port = (int)n;
	if (strcmp(out->tls, "none") == 0 && out->host && !is_loopback(
	    out->host))
		return bad(l, group, "tls", "tls = none sends the password in "
		    "plain text: it is allowed only to a loopback host, not %s",
		    out->host);
	out->ca_file = get_path(l, group, "ca_file", def ? def->ca_file : NULL);
	out->pin_sha256 = get_str(l, group, "pin_sha256",
	    def ? def->pin_sha256 : NULL);
	out->user = get_str(l, group, "user", def ? def->user : NULL);
	out->password_file = get_path(l, group, "password_file",
	    def ? def->password_file : NULL);
	rc = get_int(l, group, "poll_seconds", def ? def->poll_seconds : 60,
	    1, 86400, &n);
	if (rc)
		return rc;
	out->poll_seconds = (int)n;
	rc = get_int(l, group, "timeout_seconds", def ? def->timeout_seconds :
	    60, 1, 3600, &n);
	if (rc)
		return rc;
	out->timeout_seconds = (int)n;
	out->folder = get_str(l, group, "folder", def ? def->folder : "INBOX");
	out->processed_folder = get_str(l, group, "processed_folder",
	    def ? def->processed_folder : NULL);
	return MP_OK;
}

static void
imap_free(cfg_imap *i)
{
	g_free(i->host);
	g_free(i->tls);
	g_free(i->ca_file);
	g_free(i->pin_sha256);
	g_free(i->user);
	g_free(i->password_file);
	g_free(i->folder);
	g_free(i->processed_folder);
}

static mp_status
load_mailboxes(loader *l, config *c, const cfg_imap *def)
{
	gsize n = 0;
	char **groups = g_key_file_get_groups(l->kf, &n);
	GArray *arr = g_array_new(FALSE, TRUE, sizeof(cfg_mailbox));
	mp_status rc = MP_OK;

	for (gsize i = 0; i < n && !rc; i++) {
		cfg_mailbox mb = { 0 };
		char *kind, *addr;

		if (!g_str_has_prefix(groups[i], "mailbox.") ||
		    groups[i][8] == '\0')
			continue;
		mb.name = g_strdup(groups[i] + 8);
		kind = get_str(l, groups[i], "kind", NULL);
		addr = get_str(l, groups[i], "address", NULL);
		if (kind == NULL)
			rc = bad(l, groups[i], NULL, "[%s] needs kind = "
			    "trial-support or implementation", groups[i]);
		else if (strcmp(kind, "trial-support") == 0)
			mb.kind = MAILBOX_TRIAL_SUPPORT;
		else if (strcmp(kind, "implementation") == 0)
			mb.kind = MAILBOX_IMPLEMENTATION;
		else
			rc = bad(l, groups[i], "kind", "kind must be "
			    "trial-support or implementation, not '%s'", kind);
		if (!rc && (addr == NULL || strchr(addr, '@') == NULL))
			rc = bad(l, groups[i], addr ? "address" : NULL,
			    "[%s] needs address = the mailbox's own mail "
			    "address", groups[i]);
		if (!rc)
			mb.address = g_ascii_strdown(addr, -1);
		if (!rc)
			rc = load_imap(l, groups[i], def, &mb.imap);
		g_free(kind);
		g_free(addr);
		g_array_append_val(arr, mb);
	}
	g_strfreev(groups);
	c->n_mailboxes = arr->len;
	c->mailboxes = (cfg_mailbox *)g_array_free(arr, FALSE);
	if (!rc && c->n_mailboxes == 0)
		rc = bad(l, "", NULL, "no [mailbox.NAME] section: at least "
		    "one mailbox is needed");
	return rc;
}

static mp_status
load_all(loader *l, config *c)
{
	cfg_imap def = { 0 };
	long long n;
	mp_status rc;

	c->store_path = get_path(l, "store", "path",
	    "/var/lib/mailproc/mailproc.db");
	rc = get_int(l, "store", "busy_timeout_ms", 5000, 0, 600000, &n);
	if (rc)
		return rc;
	c->busy_timeout_ms = (int)n;
	rc = load_imap(l, "imap", NULL, &def);
	if (!rc)
		rc = load_mailboxes(l, c, &def);
	imap_free(&def);
	if (rc)
		return rc;
	c->smtp.url = get_str(l, "smtp", "url", NULL);
	c->smtp.user = get_str(l, "smtp", "user", NULL);
	c->smtp.password_file = get_path(l, "smtp", "password_file", NULL);
	c->smtp.ca_file = get_path(l, "smtp", "ca_file", NULL);
	c->smtp.bounce_address = get_str(l, "smtp", "bounce_address", NULL);
	/* smtps:// is implicit TLS; smtp:// requires STARTTLS unless
	 * tls = none says otherwise (loopback tests only). */
	c->smtp.tls = get_str(l, "smtp", "tls", c->smtp.url &&
	    g_str_has_prefix(c->smtp.url, "smtps://") ? "implicit" :
	    "starttls");
	if (strcmp(c->smtp.tls, "implicit") != 0 &&
	    strcmp(c->smtp.tls, "starttls") != 0 &&
	    strcmp(c->smtp.tls, "none") != 0)
		return bad(l, "smtp", "tls", "tls must be implicit, starttls "
		    "or none, not '%s'", c->smtp.tls);
	if (c->smtp.url && (strcmp(c->smtp.tls, "implicit") == 0) !=
	    g_str_has_prefix(c->smtp.url, "smtps://"))
		return bad(l, "smtp", "tls", "tls = %s does not fit url %s: "
		    "implicit TLS is smtps://, starttls and none are smtp://",
		    c->smtp.tls, c->smtp.url);
	rc = get_list(l, "staff", "staff_domains", 0, &c->staff_domains);
	if (rc)
		return rc;
	c->authserv_id = get_str(l, "staff", "authserv_id", NULL);
	rc = get_bool(l, "staff", "require_authenticated_staff", 1,
	    &c->require_authenticated_staff);
	if (rc)
		return rc;
	if (c->require_authenticated_staff && c->authserv_id == NULL &&
	    c->staff_domains[0])
		return bad(l, "staff", NULL, "authserv_id is needed when "
		    "require_authenticated_staff is true");
	c->admin = get_str(l, "staff", "admin", NULL);
	for (int r = 0; r < 5; r++) {
		rc = get_list(l, "roles", role_names[r], 1, &c->roles[r]);
		if (rc)
			return rc;
	}
	if ((rc = get_list(l, "teams", "trial_support", 1,
	    &c->team_trial_support)) ||
	    (rc = get_list(l, "teams", "support_engineering", 1,
	    &c->team_support_engineering)) ||
	    (rc = get_list(l, "teams", "implementation", 1,
	    &c->team_implementation)) ||
	    (rc = get_list(l, "digest.trial-queue", "recipients", 1,
	    &c->digest_trial_queue)) ||
	    (rc = get_list(l, "digest.backlog", "recipients", 1,
	    &c->digest_backlog)))
		return rc;
	rc = get_int(l, "limits", "max_message_bytes", 25 << 20, 1024,
	    1LL << 30, &n);
	if (rc)
		return rc;
	c->max_message_bytes = (size_t)n;
	rc = get_int(l, "limits", "max_autoreplies_per_hour", 5, 0, 10000, &n);
	if (rc)
		return rc;
	c->max_autoreplies_per_hour = (int)n;
	rc = get_int(l, "limits", "stale_hours", 24, 1, 24 * 365, &n);
	if (rc)
		return rc;
	c->stale_hours = (int)n;
	c->templates_dir = get_path(l, "templates", "dir", NULL);
	return MP_OK;
}

mp_status
config_load(const char *path, config **out, char **err)
{
	loader l = { 0 };
	char *text = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	config *c = NULL;
	mp_status rc;

	*out = NULL;
	*err = NULL;
	l.path = path;
	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		*err = g_strdup_printf("%s: cannot read configuration: %s",
		    path, gerr->message);
		g_error_free(gerr);
		return MP_ERR_CONFIG;
	}
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		*err = g_strdup_printf("%s:1: configuration is not valid "
		    "UTF-8", path);
		g_free(text);
		return MP_ERR_CONFIG;
	}
	l.lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	l.dir = g_path_get_dirname(path);
	rc = scan_lines(&l, text);
	if (rc)
		goto done;
	l.kf = g_key_file_new();
	g_key_file_set_list_separator(l.kf, ',');
	if (!g_key_file_load_from_data(l.kf, text, len, G_KEY_FILE_NONE,
	    &gerr)) {
		l.err = g_strdup_printf("%s: %s", path, gerr->message);
		g_error_free(gerr);
		rc = MP_ERR_CONFIG;
		goto done;
	}
	c = g_new0(config, 1);
	c->path = g_strdup(path);
	rc = load_all(&l, c);
	if (rc)
		goto done;
	*out = c;
	c = NULL;
done:
	*err = l.err;
	config_free(c);
	g_free(text);
	g_free(l.dir);
	if (l.kf)
		g_key_file_free(l.kf);
	g_hash_table_destroy(l.lines);
	return rc;
}

void
config_free(config *c)
{
	if (c == NULL)
		return;
	g_free(c->path);
	g_free(c->store_path);
	for (size_t i = 0; i < c->n_mailboxes; i++) {
		g_free(c->mailboxes[i].name);
		g_free(c->mailboxes[i].address);
		imap_free(&c->mailboxes[i].imap);
	}
	g_free(c->mailboxes);
	g_free(c->smtp.url);
	g_free(c->smtp.user);
	g_free(c->smtp.password_file);
	g_free(c->smtp.ca_file);
	g_free(c->smtp.bounce_address);
	g_free(c->smtp.tls);
	g_strfreev(c->staff_domains);
	g_free(c->authserv_id);
	g_free(c->admin);
	for (int r = 0; r < 5; r++)
		g_strfreev(c->roles[r]);
	g_strfreev(c->team_trial_support);
	g_strfreev(c->team_support_engineering);
	g_strfreev(c->team_implementation);
	g_strfreev(c->digest_trial_queue);
	g_strfreev(c->digest_backlog);
	g_free(c->templates_dir);
	g_free(c);
}

const cfg_mailbox *
config_mailbox(const config *c, const char *name)
{
	for (size_t i = 0; i < c->n_mailboxes; i++)
		if (strcmp(c->mailboxes[i].name, name) == 0)
			return &c->mailboxes[i];
	return NULL;
}

const cfg_mailbox *
config_mailbox_of_kind(const config *c, mailbox_kind k)
{
	for (size_t i = 0; i < c->n_mailboxes; i++)
		if (c->mailboxes[i].kind == k)
			return &c->mailboxes[i];
	return NULL;
}

int
config_is_staff_domain(const config *c, const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	if (at == NULL)
		return 0;
	for (int i = 0; c->staff_domains && c->staff_domains[i]; i++) {
		const char *d = c->staff_domains[i];
		size_t dl = strlen(d), al = strlen(at + 1);

		if (g_ascii_strcasecmp(at + 1, d) == 0)
			return 1;
		if (al > dl && at[1 + al - dl - 1] == '.' &&
		    g_ascii_strcasecmp(at + 1 + al - dl, d) == 0)
			return 1;
	}
	return 0;
}

int
config_is_own_address(const config *c, const char *addr)
{
	if (addr == NULL)
		return 0;
	for (size_t i = 0; i < c->n_mailboxes; i++)
		if (g_ascii_strcasecmp(c->mailboxes[i].address, addr) == 0)
			return 1;
	if (c->smtp.bounce_address &&
	    g_ascii_strcasecmp(c->smtp.bounce_address, addr) == 0)
		return 1;
	return 0;
}

int
config_has_role(const config *c, const char *addr, cfg_role r)
{
	for (int i = 0; addr && c->roles[r] && c->roles[r][i]; i++)
		if (g_ascii_strcasecmp(c->roles[r][i], addr) == 0)
			return 1;
	return 0;
}

const char *
config_role_name(const config *c, const char *addr)
{
	for (int r = ROLE_SE; r <= ROLE_AE; r++)
		if (config_has_role(c, addr, (cfg_role)r))
			return role_names[r];
	return "ce";
}

/*
 * desk.c - opening what the workflow needs.
 */
#include <stdlib.h>

#include "mailproc/desk.h"
#include "templates/render.h"

#ifndef MP_TEMPLATES_DIR
#define MP_TEMPLATES_DIR "/usr/local/share/mailproc/templates"
#endif

const char *
desk_shipped_templates(void)
{
	const char *env = getenv("MAILPROC_TEMPLATES");

	return env && *env ? env : MP_TEMPLATES_DIR;
}

mp_status
desk_open(config *cfg, const char *db_path, desk **out, char **err)
{
	desk *d = g_new0(desk, 1);
	int i = 0;
	mp_status rc;

	*out = NULL;
	d->cfg = cfg;
	msg_limits_default(&d->limits);
	d->limits.max_bytes = cfg->max_message_bytes;
	if (cfg->templates_dir)
		d->template_dirs[i++] = g_strdup(cfg->templates_dir);
	d->template_dirs[i] = g_strdup(desk_shipped_templates());
	d->templates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)tmpl_free);
	rc = store_open(db_path ? db_path : cfg->store_path,
	    cfg->busy_timeout_ms, &d->st, err);
	if (rc) {
		d->borrowed_cfg = 1;	/* the caller keeps cfg on failure */
		desk_close(d);
		return rc;
	}
	*out = d;
	return MP_OK;
}

mp_status
desk_open_shared(config *cfg, const char *db_path, desk **out, char **err)
{
	mp_status rc = desk_open(cfg, db_path, out, err);

	if (rc == MP_OK)
		(*out)->borrowed_cfg = 1;
	return rc;
}

void
desk_close(desk *d)
{
	if (d == NULL)
		return;
	store_close(d->st);
	if (!d->borrowed_cfg)
		config_free(d->cfg);
	for (int i = 0; i < 3; i++)
		g_free(d->template_dirs[i]);
	g_hash_table_destroy(d->templates);
	g_free(d);
}

/*
 * config.h - the INI configuration (GLib key-file syntax), SPEC 6 and 9.
 *
 * Relative paths in the file are taken relative to the file's directory.
 * Errors name file:line; unknown keys are warnings on stderr.
 */
#ifndef MP_CONFIG_H
#define MP_CONFIG_H

#include <stddef.h>

#include "mailproc/status.h"

typedef enum {
	MAILBOX_TRIAL_SUPPORT = 1,
	MAILBOX_IMPLEMENTATION,
} mailbox_kind;

typedef struct cfg_imap {
	char *host;
	int port;
	char *tls;		/* implicit, starttls, none */
	char *ca_file;
	char *pin_sha256;
	char *user;
	char *password_file;
	int poll_seconds;
	int timeout_seconds;	/* connect and each read or write */
	char *folder;
	char *processed_folder;
} cfg_imap;

typedef struct cfg_mailbox {
	char *name;		/* the NAME of [mailbox.NAME] */
	mailbox_kind kind;
	char *address;		/* the mailbox's own address, lower case */
	cfg_imap imap;		/* [imap] defaults with this mailbox's keys */
} cfg_mailbox;

typedef struct config {
	char *path;
	char *store_path;
	int busy_timeout_ms;
	cfg_mailbox *mailboxes;
	size_t n_mailboxes;
	struct {
		char *url, *user, *password_file, *ca_file, *bounce_address;
		char *tls;	/* implicit, starttls or none */
	} smtp;
	char **staff_domains;
	char *authserv_id;
	int require_authenticated_staff;
	char *admin;
	char **roles[5];		/* indexed by cfg_role */
	char **team_trial_support;
	char **team_support_engineering;
	char **team_implementation;
	char **digest_trial_queue;
	char **digest_backlog;
	size_t max_message_bytes;
	int max_autoreplies_per_hour;
	int stale_hours;
	char *templates_dir;	/* operator overrides, or NULL */
} config;

typedef enum { ROLE_CE, ROLE_SE, ROLE_IE, ROLE_PM, ROLE_AE } cfg_role;

/* Loads path.  On failure *err is "path:line: what" (g_free()) and the
 * status MP_ERR_CONFIG (or MP_ERR_IO when the file cannot be read). */
mp_status config_load(const char *path, config **out, char **err);
void config_free(config *c);

/* Returns the mailbox named name, or NULL. */
const cfg_mailbox *config_mailbox(const config *c, const char *name);
/* Returns the first mailbox of kind, or NULL. */
const cfg_mailbox *config_mailbox_of_kind(const config *c, mailbox_kind k);

/* 1 when addr's domain is one of staff_domains (or a subdomain of one). */
int config_is_staff_domain(const config *c, const char *addr);
/* 1 when addr is one of the configured mailbox addresses. */
int config_is_own_address(const config *c, const char *addr);
/* 1 when addr has role r in [roles]. */
int config_has_role(const config *c, const char *addr, cfg_role r);
/* The role name an address acts as: its first configured role, else
 * "ce" (staff without a role act as customer engineers). */
const char *config_role_name(const config *c, const char *addr);

#endif

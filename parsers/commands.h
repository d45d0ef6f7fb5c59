/*
 * commands.h - the slash-command block of a staff message (SPEC 2) and
 * the Customer Support Ticket Request macro fields (SPEC 1.1).
 *
 * Pure.  Whether a command exists, who may run it and what it does is the
 * workflow's business; this module only finds the lines.
 */
#ifndef MP_COMMANDS_H
#define MP_COMMANDS_H

#include <stddef.h>

#define CMD_MAX 32		/* commands read from one message */

typedef struct cmd {
	char *name;		/* lower case, without the slash */
	char *args;		/* trimmed, "" when none */
	int line;		/* 1-based line in the new text */
} cmd;

typedef struct cmd_block {
	cmd *cmds;
	size_t n;
	int too_many;		/* more than CMD_MAX command lines */
	char *rest;		/* the text after the block, tidied */
} cmd_block;

/*
 * Reads the command block at the top of text (a message's new text):
 * lines starting with '/' before any other non-blank line; blank lines
 * between commands are allowed.  Returns a block owned by the caller
 * (cmd_block_free()); n is 0 when the text starts with no command, and
 * rest is then the whole text.
 */
cmd_block *cmd_parse(const char *text);
void cmd_block_free(cmd_block *b);

/* The macro fields, in the order of SPEC 1.1, with their JSON keys. */
enum {
	MACRO_CUSTOMER_DETAILS,
	MACRO_ISSUE_LINK,
	MACRO_SUMMARY,
	MACRO_CONSEQUENCES,
	MACRO_TIME_CONSIDERATIONS,
	MACRO_ADDITIONAL_INFORMATION,
	MACRO_N_FIELDS
};

extern const char *const macro_keys[MACRO_N_FIELDS];	/* snake_case */
extern const char *const macro_labels[MACRO_N_FIELDS];	/* as people write */

typedef struct macro_fields {
	char *value[MACRO_N_FIELDS];	/* NULL when absent */
	char **problems;		/* NULL-terminated, one per problem */
} macro_fields;

/*
 * Parses "Field: value" lines (names case-insensitive, values may wrap
 * onto following indented lines, bullets and **bold** labels tolerated).
 * problems lists each missing required field, an issue link that is not
 * an http(s) URL, and lines that name no field.  Owned by the caller
 * (macro_fields_free()).
 */
macro_fields *macro_parse(const char *text);
void macro_fields_free(macro_fields *f);

/* Returns 1 when s is one absolute http:// or https:// URL with a host. */
int url_is_http(const char *s);

#endif

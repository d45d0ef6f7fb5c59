/*
 * form.h - the Jointly-Managed Implementation Request form (SPEC 1.2, 9).
 *
 * Pure: no I/O, no clock.  Finds the form's "Label: value" lines wherever
 * they sit in plain text (the body, an inline forward, a quoted reply, an
 * attached message, HTML made text, a table made "Label<TAB>Value" rows),
 * checks each value and normalises it.  Whether a form with problems still
 * opens an entry, and who is told, is the backlog workflow's business.
 *
 * Bounds: at most FORM_TEXTS_MAX texts and FORM_LINES_MAX lines of each
 * are read; lines longer than FORM_LINE_MAX bytes are skipped (and end a
 * wrapped value); a value keeps at most FORM_VALUE_MAX bytes.
 */
#ifndef MP_FORM_H
#define MP_FORM_H

#include <stddef.h>

#define FORM_TEXTS_MAX	64	/* texts read from one texts array */
#define FORM_LINES_MAX	10000	/* lines read from one text */
#define FORM_LINE_MAX	4000	/* longer lines are skipped, in bytes */
#define FORM_VALUE_MAX	2000	/* bytes kept of one value */

/* The fields, in the order of SPEC 1.2; the first five are required. */
enum {
	FORM_CUSTOMER_NAME,
	FORM_SALESFORCE_URL,
	FORM_TDD_URL,
	FORM_DEPLOYMENT_TYPE,
	FORM_HOSTING_PROVIDER,
	FORM_ADDITIONAL_INFO,
	FORM_SEGMENT,
	FORM_AE,
	FORM_ARR,
	FORM_EXPECTED_USERS,
	FORM_EXPECTED_REPOS,
	FORM_CODE_HOSTS,
	FORM_N_FIELDS
};

#define FORM_N_REQUIRED	5	/* FORM_CUSTOMER_NAME .. FORM_HOSTING_PROVIDER */

/* snake_case keys of SPEC 9 ("customer_name", ...). */
extern const char *const form_keys[FORM_N_FIELDS];
/* The labels as the form prints them ("Customer Name", ...). */
extern const char *const form_labels[FORM_N_FIELDS];

typedef struct form_invalid {
	int field;		/* FORM_* */
	char *reason;		/* one line, quotes at most 80 characters of
				 * the value, e.g. "Link to TDD 'see drive'
				 * is not an http(s) URL" */
} form_invalid;

typedef struct form {
	/*
	 * Normalised valid values (valid UTF-8, one line, trimmed, runs of
	 * white space made one space), NULL when absent or invalid:
	 *  - salesforce_url, tdd_url: one http(s) URL (from "URL",
	 *    "text <URL>", "<URL>" or "[text](URL)");
	 *  - segment: exactly "SMB", "MM", "Enterprise" or "Strategic";
	 *  - ae: one lower-cased bare address (from "addr" or "Name <addr>");
	 *  - arr: whole US dollars as decimal digits ("250000" from "$250k");
	 *  - every other field: the text as written.
	 */
	char *value[FORM_N_FIELDS];
	/* 1 for each required field that is absent (not for invalid ones). */
	int missing[FORM_N_FIELDS];
	/* Fields present but invalid, in field order, at most one each;
	 * NULL when n_invalid is 0. */
	form_invalid *invalid;
	size_t n_invalid;
	/* Fields found with a non-empty value, valid or not (an empty value,
	 * as in the blank template, counts as absent). */
	int n_found;
} form;

/*
 * Parses every text in texts (NULL-terminated, each NUL-terminated; the
 * body text first, then the texts of attached messages).  A field found
 * in an earlier text wins over a later one, and within one text the first
 * non-empty occurrence wins.  texts may be NULL (no text: everything
 * missing).  Returns a form owned by the caller (form_free()), never NULL.
 */
form *form_parse(const char *const *texts);

/* Frees f and everything in it; NULL is a no-op. */
void form_free(form *f);

#endif

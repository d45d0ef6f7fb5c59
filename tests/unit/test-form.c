/*
 * test-form.c - the Jointly-Managed Implementation Request parser: label,
 * layout and value rules on text snippets, its bounds on hostile input,
 * and every .eml in tests/fixtures/form through msg_parse() and
 * form_parse() against its .json (both canonicalised by jq -S -c).
 */
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "mailproc/json.h"
#include "parsers/form.h"
#include "parsers/message.h"
#include "tests/unit/tap.h"

/*
 * Layout rows.  want lists, in field order, "key=value" for each valid
 * value and "key!reason" for each invalid field; every other field must
 * be absent.  Which required fields are missing is checked separately,
 * for every form, by check_form().
 */
struct row {
	const char *name;
	const char *text;
	const char *text2;	/* a second text (an attached message), or NULL */
	const char *want;
};

static const struct row rows[] = {
	{ "the SPEC form, filled in",
	    "Jointly-Managed Implementation Request\n"
	    "- Customer Name: Acme Corp\n"
	    "- Link to Salesforce Opportunity: https://sf.example/006A\n"
	    "- Link to TDD: https://docs.example/tdd/1\n"
	    "- Expected Deployment Type: Kubernetes\n"
	    "- Expected Hosting Provider: AWS\n"
	    "- Additional Information (if needed): none\n", NULL,
	    "customer_name=Acme Corp\nsalesforce_url=https://sf.example/006A\n"
	    "tdd_url=https://docs.example/tdd/1\ndeployment_type=Kubernetes\n"
	    "hosting_provider=AWS\nadditional_info=none\n" },
	{ "no text", "", NULL, "" },
	{ "prose is not a form",
	    "Hi team,\nthe customer: Acme said hello.\n"
	    "Notes from the call: none\nOpportunity is big: yes\n", NULL, "" },
	{ "labels in any case, extra spaces, runs collapsed",
	    "  CUSTOMER   name  :   Acme \t  Corp  \n"
	    "link TO tdd:https://d.example/t\n", NULL,
	    "customer_name=Acme Corp\ntdd_url=https://d.example/t\n" },
	{ "the title, in any case, bold or a heading, is no field",
	    "# **JOINTLY-MANAGED IMPLEMENTATION REQUEST**\nCustomer Name: A\n",
	    NULL, "customer_name=A\n" },
	{ "the title ends a wrapped value",
	    "Notes: first\njointly managed implementation request\n"
	    "Customer: B\n", NULL,
	    "customer_name=B\nadditional_info=first\n" },
	{ "bullets - * + and numbers 1. 2) 10.",
	    "- Customer Name: A\n* Link to TDD: https://d.example/t\n"
	    "+ Deployment Type: VM\n1. Hosting: AWS\n2) Segment: SMB\n"
	    "10. ARR: 5\n", NULL,
	    "customer_name=A\ntdd_url=https://d.example/t\n"
	    "deployment_type=VM\nhosting_provider=AWS\nsegment=SMB\narr=5\n" },
	{ "Unicode bullets",
	    "\xe2\x80\xa2 Customer Name: A\n\xe2\x80\xa2\tHosting: GCP\n"
	    "\xe2\x97\xa6 Users: 10\n\xc2\xb7 Repos: 20\n"
	    "\xe2\x80\xa2" "Code hosts: GitHub\n", NULL,
	    "customer_name=A\nhosting_provider=GCP\nexpected_users=10\n"
	    "expected_repos=20\ncode_hosts=GitHub\n" },
	{ "bold labels, the colon inside or outside",
	    "**Customer Name:** A\n**Link to TDD**: https://d.example/t\n"
	    "__Deployment Type__: VM\n__Hosting:__ AWS\n* **Segment:** MM\n"
	    "**Notes: all bold**\n", NULL,
	    "customer_name=A\ntdd_url=https://d.example/t\n"
	    "deployment_type=VM\nhosting_provider=AWS\n"
	    "additional_info=all bold\nsegment=MM\n" },
	{ "a bold value loses its markers",
	    "Customer Name: **Acme**\n**Hosting:** **AWS**\n", NULL,
	    "customer_name=Acme\nhosting_provider=AWS\n" },
	{ "table rows: a TAB instead of the colon",
	    "Customer Name\tAcme\n"
	    "Link to Salesforce Opportunity\tAcme opp <https://sf.example/1>\n"
	    "Link to TDD:\thttps://d.example/t\nSegment\t:\tEnterprise\n"
	    "Code Hosts\tGitHub\tGitLab\n", NULL,
	    "customer_name=Acme\nsalesforce_url=https://sf.example/1\n"
	    "tdd_url=https://d.example/t\nsegment=Enterprise\n"
	    "code_hosts=GitHub GitLab\n" },
	{ "a Markdown table",
	    "| Field | Value |\n|---|---|\n| Customer Name | Acme |\n"
	    "| TDD | <https://d.example/t> |\n", NULL,
	    "customer_name=Acme\ntdd_url=https://d.example/t\n" },
	{ "an empty table cell is an absent value",
	    "Customer Name\nLink to TDD\thttps://d.example/t\n", NULL,
	    "tdd_url=https://d.example/t\n" },
	{ "quoted at any depth",
	    "> Customer Name: A\n>> Link to TDD: https://d.example/t\n"
	    "> > > Hosting: AWS\n>\tDeployment: VM\n", NULL,
	    "customer_name=A\ntdd_url=https://d.example/t\n"
	    "deployment_type=VM\nhosting_provider=AWS\n" },
	{ "a quoted value wraps inside its quote",
	    "> Notes: one\n> two\n>\n> three\n", NULL,
	    "additional_info=one two\n" },
	{ "a change of quote depth ends a value",
	    "Notes: new text\n> old quoted text\n", NULL,
	    "additional_info=new text\n" },
	{ "indented lines continue a value",
	    "Deployment Type: Kubernetes\n   with Helm\n\tand Argo CD\n", NULL,
	    "deployment_type=Kubernetes with Helm and Argo CD\n" },
	{ "a line that starts no label continues a value",
	    "Additional Information: first line\nsecond line\n"
	    "Timeline: Q3\n", NULL,
	    "additional_info=first line second line Timeline: Q3\n" },
	{ "the value may start on the next line",
	    "Customer Name:\nAcme Corp\nLink to TDD:\n  https://d.example/t\n",
	    NULL, "customer_name=Acme Corp\ntdd_url=https://d.example/t\n" },
	{ "a blank line ends a value", "Notes: a\n\nb\n", NULL,
	    "additional_info=a\n" },
	{ "a known label ends a value", "Notes: a\nCustomer: B\n", NULL,
	    "customer_name=B\nadditional_info=a\n" },
	{ "an indented known label still starts its field",
	    "Deployment Type: Kubernetes\n    Hosting: AWS\n  - Notes: x\n",
	    NULL, "deployment_type=Kubernetes\nhosting_provider=AWS\n"
	    "additional_info=x\n" },
	{ "labels on the lines of one HTML list item",
	    "- Customer Name: A\n  Link to TDD: https://d.example/t\n", NULL,
	    "customer_name=A\ntdd_url=https://d.example/t\n" },
	{ "a form indented as a whole",
	    "    Customer Name: A\n    Hosting: AWS\n", NULL,
	    "customer_name=A\nhosting_provider=AWS\n" },
	{ "a signature ends a value", "Notes: a\n-- \nJamie\n", NULL,
	    "additional_info=a\n" },
	{ "forward and reply markers end a value",
	    "Notes: a\n---------- Forwarded message ---------\nx\n"
	    "Customer: B\n-----Original Message-----\ny\n"
	    "Hosting: AWS\nBegin forwarded message:\nz\n"
	    "Deployment: VM\n-------- Forwarded Message --------\nw\n"
	    "Users: 5\nOn Mon, 4 Mar 2024 at 10:00, Jamie "
	    "<j@corp.example> wrote:\nv\n"
	    "Repos: 6\nFrom: Jamie <j@corp.example>\nSent: Monday\n"
	    "Code Hosts: GitHub\n________________________________\nu\n"
	    "Segment: MM\nSent from my iPhone\n", NULL,
	    "customer_name=B\ndeployment_type=VM\nhosting_provider=AWS\n"
	    "additional_info=a\nsegment=MM\nexpected_users=5\n"
	    "expected_repos=6\ncode_hosts=GitHub\n" },
	{ "an empty value is absent",
	    "- Customer Name:\n- Link to TDD:   \n- AE:\n**Segment:**\n", NULL,
	    "" },
	{ "a later value fills an earlier empty one",
	    "Customer Name:\n\nCustomer Name: Acme\n", NULL,
	    "customer_name=Acme\n" },
	{ "the first occurrence in a text wins",
	    "Customer Name: New\n\n> Customer Name: Old\n"
	    "> TDD: https://d.example/old\n", NULL,
	    "customer_name=New\ntdd_url=https://d.example/old\n" },
	{ "an earlier text wins over a later one, valid or not",
	    "Customer: A\nTDD: see drive\n",
	    "Customer: B\nTDD: https://d.example/t\nHosting: AWS\n",
	    "customer_name=A\n"
	    "tdd_url!Link to TDD 'see drive' is not an http(s) URL\n"
	    "hosting_provider=AWS\n" },
	{ "a form only in the second text",
	    "Please see the attached request.\n",
	    "Customer Name: A\nLink to TDD: https://d.example/t\n",
	    "customer_name=A\ntdd_url=https://d.example/t\n" },
	{ "link forms: text <URL>, [text](URL), <URL>, bare",
	    "Salesforce link: Acme opp <https://sf.example/006>\n"
	    "TDD: [TDD v2](https://d.example/t)\n", NULL,
	    "salesforce_url=https://sf.example/006\n"
	    "tdd_url=https://d.example/t\n" },
	{ "links keep their spelling",
	    "SFDC: <HTTPS://SF.EXAMPLE/1>\n"
	    "Link to TDD: http://d.example/t?x=1&y=2#z\n", NULL,
	    "salesforce_url=HTTPS://SF.EXAMPLE/1\n"
	    "tdd_url=http://d.example/t?x=1&y=2#z\n" },
	{ "links that are no http(s) URL are invalid",
	    "Opportunity: ftp://sf.example/1\n"
	    "Link to TDD: see the shared drive\n", NULL,
	    "salesforce_url!Link to Salesforce Opportunity "
	    "'ftp://sf.example/1' is not an http(s) URL\n"
	    "tdd_url!Link to TDD 'see the shared drive' is not an http(s) "
	    "URL\n" },
	{ "javascript:, host-less and scheme-less links are invalid",
	    "SFDC: javascript:alert(1)\nTDD: https://\n"
	    "Hosting: AWS\n", "Opportunity: www.sf.example/1\n",
	    "salesforce_url!Link to Salesforce Opportunity "
	    "'javascript:alert(1)' is not an http(s) URL\n"
	    "tdd_url!Link to TDD 'https://' is not an http(s) URL\n"
	    "hosting_provider=AWS\n" },
	{ "a link split by a space is invalid",
	    "TDD: https://d.example/a b\n", NULL,
	    "tdd_url!Link to TDD 'https://d.example/a b' is not an http(s) "
	    "URL\n" },
	{ "invalid extras say why",
	    "Segment: Large\nAE: the new AE\nARR: TBD\n", NULL,
	    "segment!Segment 'Large' is not one of SMB, MM, Enterprise, "
	    "Strategic\nae!AE 'the new AE' is not one mail address\n"
	    "arr!ARR 'TBD' is not an amount such as 250000, $250k or 1.2M\n" },
	{ "text fields keep their text",
	    "Expected Users: ~2,000 (phase 1)\nExpected Repos: about 4k\n"
	    "Code Hosts: GitHub.com, Gerrit\n", NULL,
	    "expected_users=~2,000 (phase 1)\nexpected_repos=about 4k\n"
	    "code_hosts=GitHub.com, Gerrit\n" },
	{ "no-break and zero-width spaces are spaces",
	    "Customer\xc2\xa0Name:\xc2\xa0\xc2\xa0" "Acme\xe2\x80\x8b Corp\n",
	    NULL, "customer_name=Acme Corp\n" },
	{ "CRLF and CR end lines; Bcc: ends a value",
	    "Customer Name: Acme\r\nBcc: evil@x.example\r\nSubject: hi\r\n"
	    "\r\nAE: a@b.example\rBcc: evil@x.example\r", NULL,
	    "customer_name=Acme\nae=a@b.example\n" },
	{ "header injection text stays one line, and an AE with it is "
	    "invalid",
	    "Customer Name: Acme%0d%0aBcc: x\nAE: a@b.example\n"
	    "bcc@evil.example\n", NULL,
	    "customer_name=Acme%0d%0aBcc: x\n"
	    "ae!AE 'a@b.example bcc@evil.example' is not one mail address\n" },
	{ "control characters become spaces",
	    "Customer Name: A\x01\x02" "B\x1b[31m\x7f" "C\n", NULL,
	    "customer_name=A B [31m C\n" },
	{ "invalid UTF-8 is replaced",
	    "Customer Name: A\xff\xfe" "B\n", NULL,
	    "customer_name=A\xef\xbf\xbd\xef\xbf\xbd" "B\n" },
	{ "the incomplete notice quoted back adds nothing",
	    "Link to TDD: https://d.example/t\n\n> Missing or invalid:\n"
	    ">   - Link to TDD\n>   - Expected Hosting Provider\n>\n"
	    "> - Customer Name:\n> - Expected Hosting Provider:\n>\n"
	    "> Both links must be http(s) URLs. Optional: Segment (SMB, MM, "
	    "Enterprise,\n> Strategic), AE, ARR, Expected Users.\n", NULL,
	    "tdd_url=https://d.example/t\n" },
};

/* Label spellings: each must name its field, and only that field. */
static const struct {
	const char *label;
	int field;
} labels[] = {
	{ "Customer Name", FORM_CUSTOMER_NAME },
	{ "Customer", FORM_CUSTOMER_NAME },
	{ "Customer name/Company", FORM_CUSTOMER_NAME },
	{ "Customer Name / Company", FORM_CUSTOMER_NAME },
	{ "Account Name", FORM_CUSTOMER_NAME },
	{ "Account", FORM_CUSTOMER_NAME },
	{ "Link to Salesforce Opportunity", FORM_SALESFORCE_URL },
	{ "Salesforce Opportunity", FORM_SALESFORCE_URL },
	{ "SFDC Opportunity", FORM_SALESFORCE_URL },
	{ "Link to SFDC Opportunity", FORM_SALESFORCE_URL },
	{ "Salesforce link", FORM_SALESFORCE_URL },
	{ "SFDC link", FORM_SALESFORCE_URL },
	{ "SFDC", FORM_SALESFORCE_URL },
	{ "Opportunity link", FORM_SALESFORCE_URL },
	{ "Opportunity", FORM_SALESFORCE_URL },
	{ "Link to TDD", FORM_TDD_URL },
	{ "TDD", FORM_TDD_URL },
	{ "TDD link", FORM_TDD_URL },
	{ "Link to Technical Design Document", FORM_TDD_URL },
	{ "Technical Design Document", FORM_TDD_URL },
	{ "Link to TDD (Google Doc)", FORM_TDD_URL },
	{ "Expected Deployment Type", FORM_DEPLOYMENT_TYPE },
	{ "Deployment Type", FORM_DEPLOYMENT_TYPE },
	{ "Deployment", FORM_DEPLOYMENT_TYPE },
	{ "Expected Hosting Provider", FORM_HOSTING_PROVIDER },
	{ "Hosting Provider", FORM_HOSTING_PROVIDER },
	{ "Hosting", FORM_HOSTING_PROVIDER },
	{ "Cloud provider", FORM_HOSTING_PROVIDER },
	{ "Additional Information (if needed)", FORM_ADDITIONAL_INFO },
	{ "Additional Information", FORM_ADDITIONAL_INFO },
	{ "Additional Info", FORM_ADDITIONAL_INFO },
	{ "Notes", FORM_ADDITIONAL_INFO },
	{ "Segment", FORM_SEGMENT },
	{ "AE", FORM_AE },
	{ "Account Executive", FORM_AE },
	{ "AE email", FORM_AE },
	{ "ARR", FORM_ARR },
	{ "ARR (USD)", FORM_ARR },
	{ "Expected Users", FORM_EXPECTED_USERS },
	{ "Users", FORM_EXPECTED_USERS },
	{ "Expected user count", FORM_EXPECTED_USERS },
	{ "# of users", FORM_EXPECTED_USERS },
	{ "Expected Repos", FORM_EXPECTED_REPOS },
	{ "Repos", FORM_EXPECTED_REPOS },
	{ "Expected repositories", FORM_EXPECTED_REPOS },
	{ "# of repos", FORM_EXPECTED_REPOS },
	{ "Code Hosts", FORM_CODE_HOSTS },
	{ "Code host", FORM_CODE_HOSTS },
	{ "Code Host(s)", FORM_CODE_HOSTS },
};

/* A valid value for each field, for the label rows. */
static const char *const samples[FORM_N_FIELDS] = {
	"X", "https://v.example/", "https://v.example/", "X", "X", "X",
	"SMB", "a@b.example", "1", "X", "X", "X",
};

/* Value rules: "Label: raw" gives want, or is invalid when want is NULL. */
static const struct {
	int field;
	const char *raw, *want;
} values[] = {
	{ FORM_SEGMENT, "SMB", "SMB" },
	{ FORM_SEGMENT, "smb", "SMB" },
	{ FORM_SEGMENT, "MM", "MM" },
	{ FORM_SEGMENT, "Mid-Market", "MM" },
	{ FORM_SEGMENT, "mid market", "MM" },
	{ FORM_SEGMENT, "Midmarket", "MM" },
	{ FORM_SEGMENT, "Ent", "Enterprise" },
	{ FORM_SEGMENT, "ENT.", "Enterprise" },
	{ FORM_SEGMENT, "enterprise", "Enterprise" },
	{ FORM_SEGMENT, "STRATEGIC", "Strategic" },
	{ FORM_SEGMENT, "Large", NULL },
	{ FORM_SEGMENT, "SMB/MM", NULL },
	{ FORM_AE, "Alex AE <Alex.AE@corp.example>", "alex.ae@corp.example" },
	{ FORM_AE, "alex.ae@corp.example", "alex.ae@corp.example" },
	{ FORM_AE, "ALEX.AE@CORP.EXAMPLE", "alex.ae@corp.example" },
	{ FORM_AE, "Alex <mailto:alex.ae@corp.example>",
	    "alex.ae@corp.example" },
	{ FORM_AE, "\"AE, Alex\" <alex.ae@corp.example>",
	    "alex.ae@corp.example" },
	{ FORM_AE, "<o'neil+sales@corp.example>", "o'neil+sales@corp.example" },
	{ FORM_AE, "Alex", NULL },
	{ FORM_AE, "alex.ae@corp.example, dana@corp.example", NULL },
	{ FORM_AE, "alex@localhost", NULL },
	{ FORM_AE, "<alex.ae@corp.example> (EMEA)", NULL },
	{ FORM_AE, "alex..ae@corp.example", NULL },
	{ FORM_AE, "@corp.example", NULL },
	{ FORM_AE, "alex@-corp.example", NULL },
	{ FORM_AE, "Alex <alex@corp.example", NULL },
	{ FORM_ARR, "250000", "250000" },
	{ FORM_ARR, "250,000", "250000" },
	{ FORM_ARR, "$250k", "250000" },
	{ FORM_ARR, "250K", "250000" },
	{ FORM_ARR, "1.2M", "1200000" },
	{ FORM_ARR, "$1,200,000 USD", "1200000" },
	{ FORM_ARR, "~$1.5 million", "1500000" },
	{ FORM_ARR, "USD 90,000.00", "90000" },
	{ FORM_ARR, "2.5mm", "2500000" },
	{ FORM_ARR, "$300k/yr", "300000" },
	{ FORM_ARR, "0.5k", "500" },
	{ FORM_ARR, "0250000", "250000" },
	{ FORM_ARR, "TBD", NULL },
	{ FORM_ARR, "1,2M", NULL },
	{ FORM_ARR, "1,2345", NULL },
	{ FORM_ARR, "\xe2\x82\xac" "250k", NULL },
	{ FORM_ARR, "250k-300k", NULL },
	{ FORM_ARR, "12345678901234567890", NULL },
	{ FORM_ARR, "999999999999999M", NULL },
	{ FORM_ARR, "$", NULL },
	{ FORM_ARR, "1.2345678M", NULL },
	{ FORM_TDD_URL, "TDD <https://d.example/t>", "https://d.example/t" },
	{ FORM_TDD_URL, "<https://d.example/t>", "https://d.example/t" },
	{ FORM_TDD_URL, "see <mailto:x@y.example>", NULL },
	{ FORM_EXPECTED_USERS, "~2,000", "~2,000" },
};

static int
find_invalid(const form *f, int field)
{
	for (size_t i = 0; i < f->n_invalid; i++)
		if (f->invalid[i].field == field)
			return (int)i;
	return -1;
}

/* Renders f's values and invalid fields as in struct row's want. */
static char *
render(const form *f)
{
	GString *s = g_string_new(NULL);

	for (int k = 0; k < FORM_N_FIELDS; k++) {
		int i = find_invalid(f, k);

		if (f->value[k] != NULL)
			g_string_append_printf(s, "%s=%s\n", form_keys[k],
			    f->value[k]);
		if (i >= 0)
			g_string_append_printf(s, "%s!%s\n", form_keys[k],
			    f->invalid[i].reason);
	}
	return g_string_free(s, FALSE);
}

/* Returns NULL when f keeps every promise of form.h, else what it broke. */
static const char *
broken(const form *f)
{
	int found = 0, last = -1;

	if (f == NULL)
		return "form_parse() returned NULL";
	for (size_t i = 0; i < f->n_invalid; i++) {
		const form_invalid *b = &f->invalid[i];

		if (b->field <= last || b->field >= FORM_N_FIELDS)
			return "invalid fields out of order";
		last = b->field;
		if (f->value[b->field] != NULL)
			return "an invalid field has a value";
		if (b->reason == NULL || !g_utf8_validate(b->reason, -1,
		    NULL) || strpbrk(b->reason, "\r\n") != NULL ||
		    !g_str_has_prefix(b->reason, form_labels[b->field]))
			return "a reason is not one line naming its field";
	}
	if ((f->n_invalid == 0) != (f->invalid == NULL))
		return "invalid is NULL exactly when n_invalid is 0";
	for (int k = 0; k < FORM_N_FIELDS; k++) {
		const char *v = f->value[k];
		int absent = v == NULL && find_invalid(f, k) < 0;

		if (f->missing[k] != (k < FORM_N_REQUIRED && absent))
			return "missing is not the absent required fields";
		found += !absent;
		if (v == NULL)
			continue;
		if (*v == '\0' || !g_utf8_validate(v, -1, NULL) ||
		    strlen(v) > FORM_VALUE_MAX || v[0] == ' ' ||
		    v[strlen(v) - 1] == ' ' || strstr(v, "  ") != NULL)
			return "a value is empty, invalid UTF-8, too long or "
			    "untrimmed";
		for (const unsigned char *p = (const unsigned char *)v; *p;
		    p++)
			if (*p < 0x20 || *p == 0x7f)
				return "a value has a control character";
	}
	if (found != f->n_found)
		return "n_found does not count the fields found";
	return NULL;
}

static int
check_form(const form *f, const char *name)
{
	const char *why = broken(f);

	if (!ok(why == NULL, "%s: keeps form.h's promises", name))
		printf("#   %s\n", why);
	return why == NULL;
}

static form *
parse1(const char *text)
{
	const char *texts[] = { text, NULL };

	return form_parse(texts);
}

static void
test_rows(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const char *texts[] = { rows[i].text, rows[i].text2, NULL };
		form *f = form_parse(texts);
		char *got = render(f);

		is_str(got, rows[i].want, rows[i].name);
		check_form(f, rows[i].name);
		g_free(got);
		form_free(f);
	}
}

static void
test_labels(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(labels); i++) {
		int k = labels[i].field;
		char *text = g_strdup_printf("%s: %s", labels[i].label,
		    samples[k]);
		form *f = parse1(text);

		ok(f->value[k] != NULL && f->n_found == 1 && f->n_invalid == 0,
		    "label '%s' names %s", labels[i].label, form_keys[k]);
		form_free(f);
		g_free(text);
	}
}

static void
test_values(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		int k = values[i].field;
		char *text = g_strdup_printf("%s: %s", form_labels[k],
		    values[i].raw);
		char *name = g_strdup_printf("%s '%s'", form_keys[k],
		    values[i].raw);
		form *f = parse1(text);

		is_str(f->value[k], values[i].want, name);
		if (values[i].want == NULL)
			ok(find_invalid(f, k) == 0 && f->n_invalid == 1,
			    "  ... is listed invalid");
		form_free(f);
		g_free(name);
		g_free(text);
	}
}

/* Returns n bytes of c. */
static char *
repeat(char c, size_t n)
{
	char *s = g_malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_bounds(void)
{
	char *mb = repeat('A', 1024 * 1024), *text, *want;
	GString *g;
	GRand *rnd;
	form *f;

	/* A 1 MB single line is skipped whole. */
	text = g_strconcat("Customer Name: ", mb, NULL);
	f = parse1(text);
	ok(f->n_found == 0 && f->missing[FORM_CUSTOMER_NAME],
	    "a 1 MB line is skipped");
	check_form(f, "1 MB line");
	form_free(f);
	g_free(text);

	text = g_strconcat(mb, "\r\nCustomer Name: A\n", NULL);
	f = parse1(text);
	is_str(f->value[FORM_CUSTOMER_NAME], "A",
	    "the line after a 1 MB line is read");
	form_free(f);
	g_free(text);

	text = g_strconcat("Notes: a\n", mb, "\nb\n", NULL);
	f = parse1(text);
	is_str(f->value[FORM_ADDITIONAL_INFO], "a",
	    "a skipped line ends a wrapped value");
	form_free(f);
	g_free(text);

	/* FORM_LINE_MAX bytes are read, one more are not. */
	mb[FORM_LINE_MAX - 15] = '\0';
	text = g_strconcat("Customer Name: ", mb, NULL);
	mb[FORM_LINE_MAX - 15] = 'A';
	f = parse1(text);
	is_int(strlen(text), FORM_LINE_MAX, "  (a line of FORM_LINE_MAX)");
	is_int(f->value[FORM_CUSTOMER_NAME] ?
	    (long long)strlen(f->value[FORM_CUSTOMER_NAME]) : -1,
	    FORM_VALUE_MAX, "a line of FORM_LINE_MAX bytes is read, its "
	    "value capped");
	form_free(f);
	g_free(text);
	mb[FORM_LINE_MAX - 14] = '\0';
	text = g_strconcat("Customer Name: ", mb, NULL);
	mb[FORM_LINE_MAX - 14] = 'A';
	f = parse1(text);
	ok(f->value[FORM_CUSTOMER_NAME] == NULL, "a line of FORM_LINE_MAX "
	    "+ 1 bytes is skipped");
	form_free(f);
	g_free(text);

	/* The cap cuts at a character boundary. */
	mb[FORM_VALUE_MAX - 1] = '\0';
	text = g_strconcat("Customer Name: ", mb, "\xc3\xa9zzz", NULL);
	want = g_strdup(mb);
	mb[FORM_VALUE_MAX - 1] = 'A';
	f = parse1(text);
	is_str(f->value[FORM_CUSTOMER_NAME], want,
	    "a value is cut before a character that crosses the cap");
	form_free(f);
	g_free(text);
	g_free(want);

	/* 50,000 lines: only the first FORM_LINES_MAX are read. */
	g = g_string_new("Customer Name: A\n");
	for (int i = 2; i <= 50000; i++)
		g_string_append(g, i == FORM_LINES_MAX ? "Hosting: AWS\n" :
		    i == FORM_LINES_MAX + 1 ? "TDD: https://d.example/t\n" :
		    "\n");
	f = parse1(g->str);
	is_str(f->value[FORM_HOSTING_PROVIDER], "AWS",
	    "line FORM_LINES_MAX is read");
	ok(f->value[FORM_TDD_URL] == NULL && f->missing[FORM_TDD_URL],
	    "line FORM_LINES_MAX + 1 is not");
	is_str(f->value[FORM_CUSTOMER_NAME], "A", "  ... line 1 is");
	check_form(f, "50,000 lines");
	form_free(f);
	g_string_free(g, TRUE);

	/* 50,000 continuation lines: the value stays capped. */
	g = g_string_new("Notes: a\n");
	for (int i = 0; i < 50000; i++)
		g_string_append(g, "continued text\n");
	f = parse1(g->str);
	ok(f->value[FORM_ADDITIONAL_INFO] != NULL &&
	    strlen(f->value[FORM_ADDITIONAL_INFO]) <= FORM_VALUE_MAX &&
	    strlen(f->value[FORM_ADDITIONAL_INFO]) > FORM_VALUE_MAX - 20,
	    "a value wrapped over 50,000 lines is capped");
	form_free(f);
	g_string_free(g, TRUE);

	/* A reason quotes at most 80 characters of the value. */
	g = g_string_new("Link to TDD: ");
	for (int i = 0; i < 200; i++)
		g_string_append(g, "\xc3\xa9");
	f = parse1(g->str);
	g_string_assign(g, "Link to TDD '");
	for (int i = 0; i < 80; i++)
		g_string_append(g, "\xc3\xa9");
	g_string_append(g, "...' is not an http(s) URL");
	is_str(f->n_invalid == 1 ? f->invalid[0].reason : NULL, g->str,
	    "a reason quotes 80 characters of a long value");
	form_free(f);
	g_string_free(g, TRUE);

	/* NUL-free binary garbage, alone and before a form. */
	rnd = g_rand_new_with_seed(20240301);
	g = g_string_new(NULL);
	for (int i = 0; i < 256 * 1024; i++)
		g_string_append_c(g, (char)g_rand_int_range(rnd, 1, 256));
	f = parse1(g->str);
	check_form(f, "256 KiB of binary garbage");
	form_free(f);
	g_string_append(g, "\n\nCustomer Name: A\n");
	f = parse1(g->str);
	is_str(f->value[FORM_CUSTOMER_NAME], "A",
	    "a form after binary garbage is read");
	form_free(f);
	g_string_free(g, TRUE);
	g_rand_free(rnd);

	/* Many texts: only the first FORM_TEXTS_MAX are read. */
	{
		const char *texts[FORM_TEXTS_MAX + 2];

		for (int i = 0; i < FORM_TEXTS_MAX + 1; i++)
			texts[i] = "nothing here";
		texts[FORM_TEXTS_MAX - 1] = "Customer: A";
		texts[FORM_TEXTS_MAX] = "Hosting: AWS";
		texts[FORM_TEXTS_MAX + 1] = NULL;
		f = form_parse(texts);
		ok(f->value[FORM_CUSTOMER_NAME] != NULL &&
		    f->value[FORM_HOSTING_PROVIDER] == NULL,
		    "only the first FORM_TEXTS_MAX texts are read");
		form_free(f);
	}

	/* No texts at all. */
	f = form_parse(NULL);
	ok(f != NULL && f->n_found == 0 && f->missing[FORM_CUSTOMER_NAME] &&
	    f->missing[FORM_HOSTING_PROVIDER] &&
	    !f->missing[FORM_ADDITIONAL_INFO], "NULL texts: required fields "
	    "missing");
	check_form(f, "NULL texts");
	form_free(f);
	form_free(NULL);
	g_free(mb);
}

/* ---- fixtures ---------------------------------------------------------- */

/* Returns the form rendered in the shape of the fixtures' .json. */
static char *
form_json(const form *f)
{
	json_out *j = json_new();

	json_object_begin(j);
	json_key(j, "values");
	json_object_begin(j);
	for (int k = 0; k < FORM_N_FIELDS; k++) {
		json_key(j, form_keys[k]);
		if (f->value[k] != NULL)
			json_string(j, f->value[k]);
		else
			json_null(j);
	}
	json_object_end(j);
	json_key(j, "missing");
	json_array_begin(j);
	for (int k = 0; k < FORM_N_FIELDS; k++)
		if (f->missing[k])
			json_string(j, form_keys[k]);
	json_array_end(j);
	json_key(j, "invalid");
	json_array_begin(j);
	for (size_t i = 0; i < f->n_invalid; i++)
		json_string(j, form_keys[f->invalid[i].field]);
	json_array_end(j);
	json_object_end(j);
	return json_finish(j);
}

/* Returns `jq -S -c . path`'s output, or NULL when jq fails. */
static char *
jq_canon(const char *path)
{
	char *argv[] = { "jq", "-S", "-c", ".", (char *)path, NULL };
	char *out = NULL, *err = NULL;
	int status = 0;

	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
	    &out, &err, &status, NULL) || !g_spawn_check_wait_status(status,
	    NULL)) {
		printf("# jq %s: %s\n", path, err ? err : "cannot run");
		g_free(out);
		out = NULL;
	}
	g_free(err);
	return out;
}

static int
by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_fixtures(void)
{
	const char *top = g_getenv("MP_TOP") ? g_getenv("MP_TOP") : ".";
	char *dir = g_build_filename(top, "tests", "fixtures", "form", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	msg_limits lim;

	msg_library_init();
	msg_limits_default(&lim);
	while (d != NULL && (name = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(name, ".eml"))
			g_ptr_array_add(names, g_strdup(name));
	if (d != NULL)
		g_dir_close(d);
	g_ptr_array_sort(names, by_name);
	ok(names->len >= 22, "at least 22 form fixtures in %s (%u)", dir,
	    names->len);
	for (guint i = 0; i < names->len; i++) {
		char *eml = g_build_filename(dir, names->pdata[i], NULL);
		char *base = g_strndup(eml, strlen(eml) - 4);
		char *json = g_strconcat(base, ".json", NULL);
		char *raw = NULL, *reason = NULL;
		char *got = NULL, *tmp = NULL, *got_c = NULL, *want_c = NULL;
		GPtrArray *texts = g_ptr_array_new();
		gsize len = 0;
		msg *m = NULL;
		form *f = NULL;
		int fd = -1;

		if (!g_file_get_contents(eml, &raw, &len, NULL) ||
		    msg_parse(raw, len, &lim, &m, &reason) != MP_OK) {
			ok(0, "%s parses (%s)", (char *)names->pdata[i],
			    reason ? reason : "unreadable");
			goto next;
		}
		g_ptr_array_add(texts, m->text);
		for (int k = 0; m->attached_texts[k] != NULL; k++)
			g_ptr_array_add(texts, m->attached_texts[k]);
		g_ptr_array_add(texts, NULL);
		f = form_parse((const char *const *)texts->pdata);
		got = form_json(f);
		if ((fd = g_file_open_tmp("test-form-XXXXXX.json", &tmp,
		    NULL)) < 0 || write(fd, got, strlen(got)) !=
		    (ssize_t)strlen(got)) {
			ok(0, "%s: temporary file", (char *)names->pdata[i]);
			goto next;
		}
		got_c = jq_canon(tmp);
		want_c = jq_canon(json);
		if (got_c == NULL || want_c == NULL)
			ok(0, "%s: jq canonicalises both", (char *)names->pdata[i]);
		else if (!is_str(got_c, want_c, names->pdata[i]))
			printf("#   (%s)\n", got);
		check_form(f, names->pdata[i]);
next:
		if (fd >= 0)
			close(fd);
		if (tmp != NULL)
			g_unlink(tmp);
		g_free(tmp);
		g_free(got_c);
		g_free(want_c);
		g_free(got);
		form_free(f);
		g_ptr_array_free(texts, TRUE);
		msg_free(m);
		g_free(reason);
		g_free(raw);
		g_free(json);
		g_free(base);
		g_free(eml);
	}
	g_ptr_array_free(names, TRUE);
	g_free(dir);
}

int
main(void)
{
	test_rows();
	test_labels();
	test_values();
	test_bounds();
	test_fixtures();
	return tap_done();
}

/*
 * test-authres - the staff-authentication rule of SPEC 2 and 9.
 */
#include "parsers/authres.h"
#include "tests/unit/tap.h"

static const struct {
	const char *name, *value, *from_domain;
	int want;
} cases[] = {
	{ "dmarc pass", "mx.corp.example; dmarc=pass header.from=corp.example",
	    "corp.example", 1 },
	{ "dkim pass aligned", "mx.corp.example; dkim=pass header.d=corp.example",
	    "corp.example", 1 },
	{ "dkim pass, parent domain", "mx.corp.example; dkim=pass "
	    "header.d=corp.example", "eu.corp.example", 1 },
	{ "dkim pass, child domain is not a parent", "mx.corp.example; "
	    "dkim=pass header.d=eu.corp.example", "corp.example", 0 },
	{ "dkim pass, other domain", "mx.corp.example; dkim=pass "
	    "header.d=evil.example", "corp.example", 0 },
	{ "dkim pass, suffix trick", "mx.corp.example; dkim=pass "
	    "header.d=p.example", "corp.example", 0 },
	{ "dkim pass, TLD only", "mx.corp.example; dkim=pass header.d=example",
	    "corp.example", 0 },
	{ "dkim pass without header.d", "mx.corp.example; dkim=pass",
	    "corp.example", 0 },
	{ "dmarc fail", "mx.corp.example; dmarc=fail header.from=corp.example",
	    "corp.example", 0 },
	{ "dmarc pass for another From", "mx.corp.example; dmarc=pass "
	    "header.from=evil.example", "corp.example", 0 },
	{ "wrong authserv-id", "mx.evil.example; dmarc=pass "
	    "header.from=corp.example", "corp.example", 0 },
	{ "authserv-id prefix is not enough", "mx.corp.example.evil; "
	    "dmarc=pass", "corp.example", 0 },
	{ "version after authserv-id", "mx.corp.example 1; spf=pass "
	    "smtp.mailfrom=corp.example; dkim=pass header.d=corp.example",
	    "corp.example", 1 },
	{ "comments are ignored", "mx.corp.example (our mx); dkim=pass "
	    "(good signature) header.d=corp.example header.s=sel",
	    "corp.example", 1 },
	{ "a comment cannot fake a pass", "mx.corp.example; dkim=fail "
	    "(dkim=pass header.d=corp.example) header.d=corp.example",
	    "corp.example", 0 },
	{ "quoted comment-like text", "mx.corp.example; dmarc=pass "
	    "header.from=\"corp.example\"", "corp.example", 1 },
	{ "none", "mx.corp.example; none", "corp.example", 0 },
	{ "case-insensitive", "MX.Corp.Example; DKIM=PASS "
	    "Header.D=Corp.Example", "corp.example", 1 },
	{ "second result passes", "mx.corp.example; spf=fail; dkim=fail "
	    "header.d=corp.example; dmarc=pass", "corp.example", 1 },
	{ "no semicolon", "mx.corp.example dkim=pass header.d=corp.example",
	    "corp.example", 0 },
	{ "empty", "", "corp.example", 0 },
	{ "unbalanced comment", "mx.corp.example; dkim=pass (header.d="
	    "corp.example", "corp.example", 0 },
	{ "folded value", "mx.corp.example;\r\n\tdkim=pass\r\n "
	    "header.d=corp.example", "corp.example", 1 },
	{ "a ';' in a quoted value starts no result", "mx.corp.example; "
	    "spf=none smtp.mailfrom=\"x;dmarc=pass \"@evil.example",
	    "corp.example", 0 },
	{ "a quoted-pair ';' starts no result", "mx.corp.example; "
	    "spf=none smtp.mailfrom=\"x\\;dmarc=pass \"@evil.example",
	    "corp.example", 0 },
	{ "a space in a quoted value starts no property", "mx.corp.example; "
	    "dkim=pass header.d=evil.example header.s=\"s "
	    "header.d=corp.example\"", "corp.example", 0 },
	{ "header.d given twice", "mx.corp.example; dkim=pass "
	    "header.d=evil.example header.d=corp.example", "corp.example", 0 },
	{ "header.from given twice", "mx.corp.example; dmarc=pass "
	    "header.from=corp.example header.from=evil.example",
	    "corp.example", 0 },
	{ "a quoted value with a space leaves the next result whole",
	    "mx.corp.example; "
	    "spf=pass smtp.mailfrom=\"a b\"@corp.example; dkim=pass "
	    "header.d=corp.example", "corp.example", 1 },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(authres_passes(cases[i].value, "mx.corp.example",
		    cases[i].from_domain), cases[i].want, cases[i].name);
	is_int(authres_passes(NULL, "mx.corp.example", "corp.example"), 0,
	    "NULL value");
	is_int(authres_passes("mx.corp.example; dmarc=pass", NULL,
	    "corp.example"), 0, "no authserv_id configured");
	return tap_done();
}

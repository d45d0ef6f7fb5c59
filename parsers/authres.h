/*
 * authres.h - the Authentication-Results header field (RFC 8601).
 *
 * Pure.  mailproc trusts only the topmost field, and only when its
 * authserv-id is the configured one (SPEC 9): the receiving server adds
 * its field on top, and a sender can plant any field below it.
 */
#ifndef MP_AUTHRES_H
#define MP_AUTHRES_H

/*
 * Returns 1 when value (the unfolded value of the topmost
 * Authentication-Results field) comes from authserv_id and shows that mail
 * from from_domain is authenticated: dmarc=pass (with header.from, when
 * given, equal to from_domain), or dkim=pass with header.d equal to
 * from_domain or a parent domain of it (relaxed alignment).  Comments in
 * parentheses are ignored; a quoted string is one value, whatever ';' or
 * spaces it holds; names compare case-insensitively.  A result naming
 * header.d or header.from twice does not pass.  Returns 0 otherwise,
 * including for NULL or malformed input.
 */
int authres_passes(const char *value, const char *authserv_id,
    const char *from_domain);

#endif

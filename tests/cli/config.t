#!/bin/bash
# config.t - configuration errors name file:line and exit 2; unknown keys
# are warnings naming file:line; unsafe transport settings are refused.
. "$(dirname "$0")/lib.sh"

try() { # try CONF-TEXT - runs `tickets` on it; sets $rc and $out (stderr)
	printf '%s\n' "$1" >"$work/c.conf"
	"$MAILPROC" -c "$work/c.conf" --db "$work/c.db" tickets >/dev/null 2>"$work/err"
	rc=$?
	out=$(cat "$work/err")
}
base=$'[mailbox.a]\nkind = trial-support\naddress = a@x.example'

try "$base"
is "$rc:$out" "0:" "a minimal configuration loads"
try $'[mailbox.a]\nkind = trial-support\naddress = a@x.example\nthis line is wrong'
is "$rc" "2" "a malformed line exits 2"
like "$out" "c.conf:4: expected 'key = value'" "and names file:line"
try "$base"$'\nfrobnicate = 1'
is "$rc" "0" "an unknown key is not an error"
like "$out" "c.conf:4: warning: unknown key 'frobnicate' in \[mailbox.a\] ignored" "but a warning naming file:line"
try $'[mailbox.a]\nkind = helpdesk\naddress = a@x.example'
like "$rc:$out" "^2:.*c.conf:2: kind must be trial-support or implementation, not 'helpdesk'" "a bad kind"
try $'[store]\npath = x.db'
like "$rc:$out" "^2:.*no \[mailbox.NAME\] section" "no mailbox"
try "$base"$'\n[limits]\nmax_autoreplies_per_hour = lots'
like "$rc:$out" "^2:.*c.conf:5: max_autoreplies_per_hour must be a whole number" "a bad number"
try "$base"$'\n[roles]\nse = not-an-address'
like "$rc:$out" "^2:.*c.conf:5: 'not-an-address' in se is not a mail address" "a bad address in a list"
try "$base"$'\n[staff]\nstaff_domains = corp.example'
like "$rc:$out" "^2:.*authserv_id is needed" "staff authentication needs authserv_id"
try "$base"$'\n[imap]\nhost = imap.example.com\ntls = none'
like "$rc:$out" "^2:.*c.conf:6: tls = none sends the password in plain text" "plain IMAP off loopback is refused"
try "$base"$'\n[imap]\nhost = 127.0.0.1\ntls = none'
is "$rc" "0" "plain IMAP to loopback is allowed (tests)"
try "$base"$'\n[smtp]\nurl = smtp://relay.example.com\ntls = implicit'
like "$rc:$out" "^2:.*c.conf:6: tls = implicit does not fit url" "SMTP tls must fit the URL"
"$MAILPROC" -c "$work/nonexistent.conf" tickets 2>"$work/err"
is "$?" "2" "a missing configuration file exits 2"
like "$(cat "$work/err")" "nonexistent.conf: cannot read configuration" "and says which file"

done_testing

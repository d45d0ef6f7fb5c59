#!/bin/bash
# daemon.t - `mailproc run` against a real Dovecot and a real SMTP server
# on 127.0.0.1, both started and stopped here (SPEC 4): two mailboxes,
# acknowledgements received with the right headers, IDLE pick-up, the
# processed_folder move, 451 retried then delivered once, 550 recorded,
# certificate verification and pinning, Dovecot restarted mid-run.
. "$(dirname "$0")/../cli/lib.sh"
. "$top/tests/system/dovecot.sh"
unset MAILPROC_NOW

if ! command -v /usr/sbin/dovecot >/dev/null || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP dovecot or python3-aiosmtpd missing (make check installs them)"
	exit 0
fi

srv=$(mktemp -d /tmp/mailproc-sys.XXXXXX)
chmod 755 "$srv"
smtp_dir=$srv/smtp
mkdir -p "$smtp_dir"
cleanup() {
	[ -n "${daemon_pid:-}" ] && kill -KILL "$daemon_pid" 2>/dev/null
	[ -n "${notify_pid:-}" ] && kill "$notify_pid" 2>/dev/null
	[ -f "$smtp_dir/smtpd.pid" ] && kill -TERM "$(cat "$smtp_dir/smtpd.pid")" 2>/dev/null
	dovecot_stop "$srv/dovecot" >/dev/null 2>&1
	rm -rf "$srv" "$work"
}
trap cleanup EXIT

dovecot_start "$srv/dovecot" || { echo "1..0 # SKIP dovecot would not start"; exit 0; }
smtp_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
smtpd_start "$smtp_dir" "$srv/smtpd.log" "$smtp_port"

printf 'secret\n' >"$work/imap-password"
write_conf() { # write_conf TLS PORT [EXTRA-IMAP-LINES]
	cat >"$conf" <<EOF
[store]
path = $db
busy_timeout_ms = 2000

[imap]
host = 127.0.0.1
port = $2
tls = $1
password_file = $work/imap-password
poll_seconds = 2
processed_folder = Processed
${3:-}

[mailbox.trialsupport]
kind = trial-support
address = trialsupport@corp.example
user = trialsupport

[mailbox.implementation]
kind = implementation
address = implementation@corp.example
user = implementation

[smtp]
url = smtp://127.0.0.1:$smtp_port
tls = none
bounce_address = bounces@corp.example

[staff]
staff_domains = corp.example
authserv_id = mx.corp.example
admin = admin@corp.example

[roles]
se = sam.se@corp.example
ie = ian.ie@corp.example
pm = paula.pm@corp.example

[teams]
trial_support = trial-team@corp.example
support_engineering = se-team@corp.example
implementation = impl-team@corp.example
EOF
}
write_conf none "$DOVECOT_PORT"
received() { ls "$smtp_dir"/*.eml 2>/dev/null | wc -l | tr -d ' '; }
# received_for ADDRESS - messages the SMTP server accepted for ADDRESS
received_for() { grep -l "\"$1\"" "$smtp_dir"/*.json 2>/dev/null | wc -l | tr -d ' '; }
wait_for() { # wait_for SECONDS COMMAND... - bounded polling
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.2; done
	return 1
}

demo=$top/tests/demo/mail
dovecot_deliver "$srv/dovecot" trialsupport "$demo/01-customer-request.eml"
dovecot_deliver "$srv/dovecot" trialsupport "$demo/02-customer-html-only.eml"
dovecot_deliver "$srv/dovecot" implementation "$demo/06-implementation-request.eml"

# --- run --once: two mailboxes, acknowledgements, the move -------------------
timeout 120 "$MAILPROC" -c "$conf" run --once 2>"$work/run1.log"
rc=$?
is "$rc" "0" "run --once drains both mailboxes and the outbox, exit 0"
[ "$rc" = 0 ] || sed 's/^/#   /' "$work/run1.log"
is "$(mp tickets --json | jq -r 'map(.id) | join(" ")')" "TS-1 TS-2" "two tickets from trialsupport"
is "$(mp backlog --json | jq -r 'map(.id + ":" + .status) | join(" ")')" "IE-1:requested" "one entry from implementation"
is "$(mp outbox --json | jq -r '[.[] | select(.status != "sent")] | length')" "0" "every notice sent"
is "$(received)" "$(mp outbox --json | jq '[.[] | .to | length] | add')" "the SMTP server got one message per recipient"
ack=$(grep -l '"jane.doe@acme.example"' "$smtp_dir"/*.json | head -1)
ack=${ack%.json}.eml
like "$(cat "$ack")" $'^Subject: \\[TS-1\\] ' "the acknowledgement arrived with the tag"
like "$(cat "$ack")" '^Auto-Submitted: auto-replied' "... auto-replied"
like "$(cat "$ack")" '^In-Reply-To: <CAF1x7demo0001@mail.acme.example>' "... threaded"
is "$(jq -r .mail_from "${ack%.eml}.json")" "bounces@corp.example" "envelope sender is bounce_address"
is "$(dovecot_count "$srv/dovecot" trialsupport INBOX)" "0" "INBOX emptied"
is "$(dovecot_count "$srv/dovecot" trialsupport Processed)" "2" "messages moved to processed_folder"
is "$(sqlite3 "$db" "SELECT last_uid FROM imap_state WHERE mailbox = 'trialsupport'")" "2" "checkpoint at the last UID"

before=$(received)
timeout 120 "$MAILPROC" -c "$conf" run --once 2>/dev/null
is "$(mp tickets --json | jq length) $(received)" "2 $before" "a second run changes nothing"

# --- 451, then delivered once; 550 failed and recorded ------------------------------
echo 'rcpt * 451' >"$smtp_dir/mode"
mail kim@globex.example "Help with SAML" "<kim1@globex.example>" >"$work/kim.eml"
dovecot_deliver "$srv/dovecot" trialsupport "$work/kim.eml"
timeout 120 "$MAILPROC" -c "$conf" run --once 2>/dev/null
row=$(mp outbox --json | jq -c '[.[] | select(.ticket == "TS-3" and .template == "ticket-ack")][0]')
is "$(printf '%s' "$row" | jq -r '.status + " " + (.attempts | tostring)')" "queued 1" "451: kept queued after one attempt"
like "$(printf '%s' "$row" | jq -r .error)" "451" "with the server's answer"
: >"$smtp_dir/mode"
MAILPROC_NOW=$(date -u -d '+2 minutes' +%Y-%m-%dT%H:%M:%SZ) mp send >/dev/null 2>>"$work/send.log"
is "$(mp outbox --json | jq -r '[.[] | select(.ticket == "TS-3" and .template == "ticket-ack")][0].status')" "sent" \
	"after the backoff the server takes it"
is "$(received_for kim@globex.example)" "1" "delivered exactly once"

echo 'rcpt lee@initech.example 550' >"$smtp_dir/mode"
mail lee@initech.example "Question" "<lee1@initech.example>" >"$work/lee.eml"
dovecot_deliver "$srv/dovecot" trialsupport "$work/lee.eml"
timeout 120 "$MAILPROC" -c "$conf" run --once 2>/dev/null
: >"$smtp_dir/mode"
is "$(mp outbox --json | jq -r '[.[] | select(.ticket == "TS-4" and .template == "ticket-ack")][0].status')" "failed" "550: failed"
like "$(mp show TS-4 --json | jq -r '.events[-1] | .action + " " + .detail')" "^delivery_failed lee@initech.example: 550" \
	"and recorded on the ticket"

# --- IDLE: picked up without waiting for a poll ---------------------------------------
sed -i 's/^poll_seconds = 2/poll_seconds = 600/' "$conf"
# A stand-in for systemd's notification socket (Type=notify, sd_notify(3)).
/usr/bin/python3 - "$work/notify.sock" "$work/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + 180
with open(sys.argv[2], "a", buffering=1) as f:
    while time.time() < end:
        try:
            f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        except socket.timeout:
            pass
PY
notify_pid=$!
for _ in $(seq 50); do [ -S "$work/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=1000000 "$MAILPROC" -c "$conf" run 2>"$work/daemon.log" &
daemon_pid=$!
sleep 1
mail idle@acme.example "Idle test" "<idle1@acme.example>" >"$work/idle.eml"
t0=$(date +%s.%N)
dovecot_deliver "$srv/dovecot" trialsupport "$work/idle.eml"
idle_acked() { test "$(received_for idle@acme.example)" = 1; }
if wait_for 10 idle_acked; then
	t1=$(date +%s.%N)
	ok 0 "IDLE: acknowledged in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s with poll_seconds = 600"
else
	ok 1 "IDLE: acknowledged without waiting for a poll"
fi

# --- Dovecot stopped and restarted mid-run: nothing lost or duplicated -----------------
for i in $(seq 1 10); do
	mail "bulk$i@acme.example" "Bulk $i" "<bulk$i@acme.example>" >"$work/b.eml"
	dovecot_deliver "$srv/dovecot" trialsupport "$work/b.eml"
done
dovecot_stop "$srv/dovecot" >/dev/null 2>&1
for i in $(seq 11 20); do
	mail "bulk$i@acme.example" "Bulk $i" "<bulk$i@acme.example>" >"$work/b.eml"
	dovecot_deliver "$srv/dovecot" trialsupport "$work/b.eml"
done
sleep 2
dovecot_start "$srv/dovecot" >/dev/null 2>&1
write_conf none "$DOVECOT_PORT"
sed -i 's/^poll_seconds = 2/poll_seconds = 600/' "$conf"
kill -HUP "$daemon_pid"
count_bulk() { test "$(mp tickets --json | jq '[.[] | select(.requester | startswith("bulk"))] | length')" = 20; }
wait_for 60 count_bulk
ok $? "after Dovecot came back every message became a ticket"
is "$(mp tickets --json | jq '[.[] | select(.requester | startswith("bulk"))] | map(.requester) | unique | length')" "20" \
	"no ticket twice"
kill -TERM "$daemon_pid"
wait_for 10 sh -c "! kill -0 $daemon_pid 2>/dev/null"
wait "$daemon_pid"
is "$?" "0" "SIGTERM: the daemon exits 0"
daemon_pid=
like "$(cat "$work/daemon.log")" "SIGHUP: configuration and templates reloaded" "SIGHUP reloads"
sleep 0.6
kill "$notify_pid" 2>/dev/null
notes=$(cat "$work/notify.log")
like "$notes" "^READY=1 STATUS=connected" "sd_notify: READY=1 after the first login"
like "$notes" "^WATCHDOG=1" "sd_notify: WATCHDOG=1 pings (WATCHDOG_USEC set)"
like "$notes" "^RELOADING=1" "sd_notify: RELOADING=1 on SIGHUP"
like "$notes" "^STOPPING=1" "sd_notify: STOPPING=1 on SIGTERM"

# --- certificates: verification and pinning --------------------------------------------
write_conf implicit "$DOVECOT_TLS_PORT" "ca_file = $DOVECOT_CERT"
out=$("$MAILPROC" -c "$conf" check 2>&1)
is "$?" "0" "check: TLS with the right CA file"
like "$out" "^ok   imap trialsupport: 127.0.0.1:$DOVECOT_TLS_PORT" "check prints what works"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/other.key" -out "$work/other.pem" \
	-subj /CN=other -days 1 >/dev/null 2>&1
write_conf implicit "$DOVECOT_TLS_PORT" "ca_file = $work/other.pem"
out=$("$MAILPROC" -c "$conf" check 2>&1)
is "$?" "2" "check: a certificate from another CA is refused (exit 2)"
like "$out" "^FAIL imap trialsupport: .*certificate" "and says it is the certificate"
pin=$(openssl x509 -in "$DOVECOT_CERT" -outform DER | sha256sum | cut -d' ' -f1)
write_conf implicit "$DOVECOT_TLS_PORT" "pin_sha256 = $pin"
"$MAILPROC" -c "$conf" check >/dev/null 2>&1
is "$?" "0" "check: the right SHA-256 pin is accepted"
write_conf implicit "$DOVECOT_TLS_PORT" "pin_sha256 = $(printf '0%.0s' $(seq 64))"
"$MAILPROC" -c "$conf" check >/dev/null 2>&1
is "$?" "2" "check: a wrong pin is refused"

done_testing

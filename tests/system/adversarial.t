#!/bin/bash
# adversarial.t - the adversarial mail set (tests/adversarial/gen, issue 7
# item 4) through IMAP: all of it is put into a real Dovecot INBOX at once,
# `mailproc run` runs as a daemon, and then:
#   - the daemon is still alive, with the same PID, once all is processed;
#   - every message is one ticket or one quarantine row; the big attachment
#     is over max_message_bytes by its RFC822.SIZE, so it is quarantined
#     without being downloaded and stays in INBOX; everything else is
#     moved to Processed;
#   - a normal message delivered afterwards becomes a ticket and its
#     acknowledgement reaches the SMTP server;
#   - the daemon's peak RSS (VmHWM) stays under a bound: 160 MiB, or
#     64 MiB + 1.5 x max_message_bytes when that is more (in a sanitizer
#     build, whose quarantine holds up to 256 MiB of freed memory, 512 MiB
#     + 3 x max_message_bytes);
#   - SIGTERM: exit 0, and no sanitizer report (the suite's own check).
# A '#' table gives each case's outcome (from the daemon's log, by UID:
# messages are delivered in the generator's order), the daemon's VmHWM and
# the time it took.  max_message_bytes is 10 MiB for the reduced set (the
# 8 MiB attachment is 11 MB of message), the default 25 MiB for the full
# set (ADV_FULL=1: 70 MB).
. "$(dirname "$0")/../cli/lib.sh"
. "$top/tests/system/dovecot.sh"
unset MAILPROC_NOW

if ! command -v /usr/sbin/dovecot >/dev/null || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
	! command -v sqlite3 >/dev/null; then
	echo "1..0 # SKIP dovecot, sqlite3 or python3-aiosmtpd missing (make check installs them)"
	exit 0
fi
case ${MP_BUILD:-}${MAILPROC} in
*asan* | *san*) san=1 ;;
*) san=0 ;;
esac

srv=$(mktemp -d /tmp/mailproc-adv.XXXXXX)
chmod 755 "$srv"
smtp_dir=$srv/smtp
mkdir -p "$smtp_dir"
cleanup() {
	[ -n "${daemon_pid:-}" ] && kill -KILL "$daemon_pid" 2>/dev/null
	[ -f "$smtp_dir/smtpd.pid" ] && kill -TERM "$(cat "$smtp_dir/smtpd.pid")" 2>/dev/null
	dovecot_stop "$srv/dovecot" >/dev/null 2>&1
	rm -rf "$srv" "$work"
}
trap cleanup EXIT

adv=$work/adv
"$top/tests/adversarial/gen" "$adv" || { echo "Bail out! gen failed"; exit 1; }
n=$(grep -c . "$adv/cases")
if [ "${ADV_FULL:-0}" != 0 ]; then
	limit=26214400
	echo "# $n messages, the full set, max_message_bytes $limit"
else
	limit=10485760
	echo "# $n messages, the reduced set (ADV_FULL=1 for the full one), max_message_bytes $limit"
fi

dovecot_start "$srv/dovecot" || { echo "1..0 # SKIP dovecot would not start"; exit 0; }
smtpd_start "$smtp_dir" "$srv/smtpd.log" 0 --lifetime 900

printf 'secret\n' >"$work/imap-password"
cat >"$conf" <<EOF
[store]
path = $db
busy_timeout_ms = 5000

[imap]
host = 127.0.0.1
port = $DOVECOT_PORT
tls = none
password_file = $work/imap-password
poll_seconds = 1
processed_folder = Processed

[mailbox.trialsupport]
kind = trial-support
address = trialsupport@corp.example
user = trialsupport

[smtp]
url = smtp://127.0.0.1:$smtp_port
tls = none
bounce_address = bounces@corp.example

[staff]
staff_domains = corp.example
authserv_id = mx.corp.example
admin = admin@corp.example

[teams]
trial_support = trial-team@corp.example
support_engineering = se-team@corp.example
implementation = impl-team@corp.example

[limits]
max_message_bytes = $limit
EOF

# Delivered as an MTA does, in the generator's order: Dovecot gives out
# UIDs in the order of these names, so UID i is case i.
declare -a case_of
inbox=$(dovecot_maildir "$srv/dovecot" trialsupport INBOX)
base=$(($(date +%s) - n - 10))
i=0
while IFS=$'\t' read -r name _ _; do
	i=$((i + 1))
	f=$(printf '%d.M%07dP%d.mailproc-adv' $((base + i)) "$i" $$)
	cp "$adv/$name.eml" "$inbox/tmp/$f" && chown nobody:nogroup "$inbox/tmp/$f" &&
		mv "$inbox/tmp/$f" "$inbox/new/$f"
	case_of[$i]=$name
done <"$adv/cases"
is "$(dovecot_count "$srv/dovecot" trialsupport INBOX)" "$n" "$n messages in the INBOX"

# A read-only reader beside the running daemon: an error (the store
# being opened or checkpointed at that instant) is retried, not taken as
# an empty answer.
q() {
	local out i
	for i in 1 2 3 4 5; do
		if out=$(sqlite3 -cmd '.timeout 5000' "file:$db?mode=ro" "$1" \
		    2>>"$work/q.err"); then
			[ -n "$out" ] && printf '%s\n' "$out"
			return 0
		fi
		sleep 0.2
	done
	echo "# q failed: $1: $(tail -1 "$work/q.err")" >&2
	return 1
}
done_count() { [ -f "$db" ] && q "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM quarantine)" || echo 0; }
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
received_for() { grep -l "\"$1\"" "$smtp_dir"/*.json 2>/dev/null | wc -l | tr -d ' '; }

t0=$(date +%s%N)
"$MAILPROC" -c "$conf" run 2>"$work/daemon.log" &
daemon_pid=$!
start_time=$(awk '{ print $22 }' "/proc/$daemon_pid/stat")
end=$((SECONDS + 240))
while [ $SECONDS -lt $end ] && [ "$(done_count)" -lt "$n" ] && kill -0 "$daemon_pid" 2>/dev/null; do
	sleep 0.2
done
t1=$(date +%s%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
got=$(done_count)
is "$got" "$n" "every message processed or quarantined, in $secs s"

alive=1
kill -0 "$daemon_pid" 2>/dev/null && [ "$(awk '{ print $22 }' "/proc/$daemon_pid/stat" 2>/dev/null)" = "$start_time" ] &&
	! grep -q '^State:.*zombie' "/proc/$daemon_pid/status" && alive=0
ok "$alive" "the daemon is still running, same PID ($daemon_pid)"
[ "$alive" = 0 ] || tail -20 "$work/daemon.log" | sed 's/^/#   /'
peak=$(hwm "$daemon_pid")

n_tickets=$(q 'SELECT count(*) FROM tickets')
n_msgs=$(q 'SELECT count(*) FROM messages')
n_held=$(q 'SELECT count(*) FROM quarantine')
is "$((n_msgs + n_held))" "$n" "one ticket message or one quarantine row each ($n_msgs + $n_held)"
is "$n_tickets" "$n_msgs" "each processed message opened its own ticket"
is "$(q "SELECT count(*) FROM quarantine WHERE reason = '' OR reason IS NULL")" 0 "every quarantine row has a reason"
is "$(q "SELECT count(*) FROM processed WHERE mailbox = 'trialsupport'")" "$n" "every message is marked processed"
big=$(q "SELECT reason FROM quarantine WHERE reason LIKE '%left on the server%'")
like "$big" "^message of [0-9]+ bytes exceeds max_message_bytes \\($limit\\); left on the server, UID [0-9]+\$" \
	"the big attachment is quarantined from RFC822.SIZE, not downloaded"
big_uid=${big##*UID }
is "${case_of[$big_uid]:-}" big-attachment "... and that is the big attachment (UID $big_uid)"
is "$(q "SELECT count(*) FROM quarantine WHERE reason LIKE '%left on the server%'")" 1 "only it is over the size"
wait_moved() { [ "$(dovecot_count "$srv/dovecot" trialsupport INBOX)" = 1 ]; }
for _ in $(seq 50); do wait_moved && break; sleep 0.2; done
is "$(dovecot_count "$srv/dovecot" trialsupport INBOX)" 1 "only the over-size message is left in INBOX"
is "$(dovecot_count "$srv/dovecot" trialsupport Processed)" $((n - 1)) "the others were moved to Processed"
is "$(q 'SELECT last_uid FROM imap_state')" "$n" "the UID checkpoint is the last UID"

# --- a normal message afterwards -------------------------------------------------
mail after@acme.example "After the storm" "<after1@acme.example>" >"$work/after.eml"
dovecot_deliver "$srv/dovecot" trialsupport "$work/after.eml"
acked() { [ "$(received_for after@acme.example)" -ge 1 ]; }
for _ in $(seq 150); do acked && break; sleep 0.2; done
is "$(q "SELECT status FROM tickets t JOIN messages m ON m.ticket = t.id WHERE m.message_id = '<after1@acme.example>'")" \
	waiting "a normal message afterwards becomes a ticket"
is "$(received_for after@acme.example)" 1 "and its acknowledgement reaches the SMTP server"
ok "$(kill -0 "$daemon_pid" 2>/dev/null && echo 0 || echo 1)" "the daemon is still running after it"
peak=$(hwm "$daemon_pid")

# --- peak RSS ---------------------------------------------------------------------------
if [ "$san" = 1 ]; then
	# ASan keeps up to 256 MiB of freed memory in its quarantine.
	bound=$((512 * 1024 + limit * 3 / 1024))
else
	bound=$((160 * 1024))
	[ $((64 * 1024 + limit * 3 / 2 / 1024)) -gt "$bound" ] &&
		bound=$((64 * 1024 + limit * 3 / 2 / 1024))
fi
ok "$([ -n "$peak" ] && [ "$peak" -lt "$bound" ] && echo 0 || echo 1)" \
	"the daemon's peak RSS (VmHWM) $peak KiB < $bound KiB"

# --- SIGTERM -------------------------------------------------------------------------------
kill -TERM "$daemon_pid"
for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
wait "$daemon_pid"
is "$?" 0 "SIGTERM: the daemon exits 0"
daemon_pid=

# The daemon logs one line per message: "trialsupport: UID n KEY: OUTCOME".
printf '# %-31s %s\n' case "outcome (IMAP)"
for i in $(seq 1 "$n"); do
	o=$(sed -n "s/^.*trialsupport: UID $i [^ ]*: //p" "$work/daemon.log" | tail -1)
	printf '# %-31s %s\n' "${case_of[$i]}" "${o:-(no log line)}"
done
# The zip bomb came through IMAP as an attachment of its compressed size.
# shellcheck disable=SC1091
. "$adv/sizes.sh"
zt=$(mp tickets --json | jq -r '.[] | select(.subject == "Adversarial: zip-bomb-attached") | .id')
is "$(mp show "${zt:-TS-0}" --json 2>/dev/null | jq -c '.messages[0].attachments')" \
	"[{\"filename\":\"bomb.zip\",\"content_type\":\"application/zip\",\"size\":$bomb_zip}]" \
	"the zip bomb is stored as an attachment of $bomb_zip bytes (${zt:-no ticket})"
echo "# figures: $n messages in $secs s, daemon VmHWM $peak KiB, tickets $n_tickets, quarantined $n_held"
done_testing

#!/bin/bash
# crash.t - crash safety (SPEC 3 "exactly once", "nothing lost"; SPEC 4):
# CRASH_MESSAGES generated messages (a quarter of them replies) go into
# the Dovecot inbox, `mailproc run` is started and killed with SIGKILL at
# chosen moments, CRASH_ROUNDS times, then one `run --once` finishes the
# work.  Kill moments, in turn: a random instant; right after new rows
# appear in the store (mid-stream, usually inside the next message's
# transaction); while the SMTP server holds a DATA reply (between sending
# and marking sent); right after the SMTP server stored new mail.
#
# Asserted: no message lost, none stored twice, no ticket created twice,
# replies on their parent's ticket, every notice delivered at least once
# (duplicates by Message-ID and recipient are counted and reported: at
# least once is the promise), the UID checkpoint at the last UID, nothing
# left in INBOX.  The figures are printed as TAP diagnostics.
#
# Defaults: 8 rounds x 1000 messages (6 x 400 in a sanitizer build);
# `make stress` runs 20 x 2000.  CRASH_SEED makes a run repeatable.
. "$(dirname "$0")/../cli/lib.sh"
. "$top/tests/system/dovecot.sh"
unset MAILPROC_NOW

if ! command -v /usr/sbin/dovecot >/dev/null || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
	! command -v sqlite3 >/dev/null; then
	echo "1..0 # SKIP dovecot, sqlite3 or python3-aiosmtpd missing (make check installs them)"
	exit 0
fi

case ${MP_BUILD:-} in
*asan* | *san*) rounds=${CRASH_ROUNDS:-6} n=${CRASH_MESSAGES:-400} ;;
*) rounds=${CRASH_ROUNDS:-8} n=${CRASH_MESSAGES:-1000} ;;
esac
seed=${CRASH_SEED:-$$}
RANDOM=$seed
echo "# crash loop: $rounds rounds, $n messages, CRASH_SEED=$seed"

srv=$(mktemp -d /tmp/mailproc-crash.XXXXXX)
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

dovecot_start "$srv/dovecot" || { echo "1..0 # SKIP dovecot would not start"; exit 0; }
smtpd_start "$smtp_dir" "$srv/smtpd.log" 0 --lifetime 3000

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
EOF

inbox=$(dovecot_maildir "$srv/dovecot" trialsupport INBOX)
/usr/bin/python3 "$top/tests/system/gen-mail.py" --count "$n" --maildir "$inbox" \
	--manifest "$work/manifest" --seed "$seed"
ok $? "$n messages written into the inbox"

q() { sqlite3 -cmd '.timeout 5000' "file:$db?mode=ro" "$1" 2>/dev/null || echo 0; }
rows() { [ -f "$db" ] && q 'SELECT count(*) FROM messages' || echo 0; }
sent_rows() { [ -f "$db" ] && q "SELECT count(*) FROM outbox WHERE status = 'sent'" || echo 0; }
unsent_rows() { [ -f "$db" ] && q "SELECT count(*) FROM outbox WHERE status != 'sent'" || echo 1; }
received() { find "$smtp_dir" -name '*.json' | wc -l; }
held() { cat "$smtp_dir/held" 2>/dev/null || echo 0; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Each round kills at a moment of its kind; whatever the kind, it also
# kills once the watcher has stored another $step messages, so the work
# of the watcher spreads over the rounds.  A kind with nothing left to
# wait for (all stored, or nothing left to send) becomes "random".
step=$(((2 * n + rounds - 1) / rounds))
kinds=(random store smtp-data smtp-count)
declare -A killed
for r in $(seq 1 "$rounds"); do
	kind=${kinds[$(((r - 1) % 4))]}
	before_rows=$(rows) before_recv=$(received) before_held=$(held)
	case $kind in
	store) [ "$before_rows" -lt "$n" ] || kind=smtp-count ;;
	esac
	case $kind in
	smtp-*) [ "$before_rows" -lt "$n" ] || [ "$(unsent_rows)" -gt 0 ] || kind=random ;;
	esac
	cap=$((before_rows + step))
	[ "$kind" = store ] && cap=$((before_rows + 1 + RANDOM % step))
	want_recv=$((before_recv + 1 + RANDOM % 50))
	[ "$kind" = smtp-data ] && echo "delay 5" >"$smtp_dir/mode"
	t0=$(now_ms)
	limit=$((t0 + 15000))
	[ "$kind" = random ] && limit=$((t0 + 50 + RANDOM % 1500))
	"$MAILPROC" -c "$conf" run 2>>"$work/run.log" &
	daemon_pid=$!
	how="$kind: nothing happened in 15 s"
	[ "$kind" = random ] && how="random"
	while [ "$(now_ms)" -lt "$limit" ]; do
		got=$(rows)
		if [ "$got" -ge "$cap" ] && [ "$before_rows" -lt "$n" ]; then
			how="$kind: after $((got - before_rows)) new message rows"
			break
		fi
		if [ "$kind" = smtp-data ] && [ "$(held)" -gt "$before_held" ]; then
			how="$kind: while the SMTP server held a DATA"
			break
		fi
		if [ "$kind" = smtp-count ] && [ "$(received)" -ge "$want_recv" ]; then
			how="$kind: after $(($(received) - before_recv)) new deliveries"
			break
		fi
		sleep 0.01
	done
	kill -KILL "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
	: >"$smtp_dir/mode"
	killed[$kind]=$((${killed[$kind]:-0} + 1))
	echo "# round $r: SIGKILL $how, $(($(now_ms) - t0)) ms after start; messages $(rows)/$n, sent rows $(sent_rows), deliveries $(received)"
done

timeout 300 "$MAILPROC" -c "$conf" run --once 2>>"$work/run.log"
rc=$?
is "$rc" 0 "after $rounds kills, one run --once finishes the work"
[ "$rc" = 0 ] || tail -20 "$work/run.log" | sed 's/^/#   /'

tally=$(/usr/bin/python3 "$top/tests/system/tally.py" --db "$db" --manifest "$work/manifest" \
	--smtp-dir "$smtp_dir")
printf '%s\n' "$tally" | sed 's/^/# /'
fig() { printf '%s\n' "$tally" | awk -v k="$1" '$1 == k { print $2 }'; }
is "$(fig lost)" 0 "no message lost"
is "$(fig duplicate_messages)" 0 "no message stored twice"
is "$(fig unprocessed)" 0 "every message has its processed row"
is "$(fig quarantined)" 0 "nothing quarantined"
is "$(fig tickets)" "$(fig originals)" "one ticket per original message"
is "$(fig duplicate_tickets)" 0 "no ticket created twice"
is "$(fig misthreaded)" 0 "every reply on its parent's ticket"
is "$(fig acks)" "$(fig acks_expected)" "one acknowledgement row per ticket"
is "$(fig outbox_unsent)" 0 "every outbox row sent"
is "$(fig undelivered)" 0 "every notice delivered to the SMTP server at least once"
last=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^N/) print substr($i, 2) - 1 }' \
	"$inbox/dovecot-uidlist")
is "$(q "SELECT last_uid FROM imap_state WHERE mailbox = 'trialsupport'")" "$last" \
	"the UID checkpoint is the last UID ($last)"
is "$(dovecot_count "$srv/dovecot" trialsupport INBOX)" 0 "nothing left in INBOX"
echo "# figures: rounds $rounds (${killed[random]:-0} random, ${killed[store]:-0} store, ${killed[smtp-data]:-0} smtp-data, ${killed[smtp-count]:-0} smtp-count), messages $n, lost $(fig lost), duplicate tickets $(fig duplicate_tickets), duplicate deliveries $(fig duplicate_deliveries) (acknowledgements $(fig duplicate_acks))"
done_testing

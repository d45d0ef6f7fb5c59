#!/bin/bash
# loop.t - mail loops end to end (issue 7, item 6; SPEC 3 "No loops"):
# two `mailproc run` daemons (A: trialsupport@corp.example, B:
# helpdesk@peer.example) read their inboxes from a real Dovecot and send
# through smtpd.py; loop-mta.py delivers what smtpd.py receives into the
# Maildirs Dovecot serves, or to auto-responder robots that answer by SMTP.
# Everything on 127.0.0.1, every server stopped by its PID.
#
#   robot-new      answers every mail in a new thread, unmarked: each answer
#                  opens a ticket; A stops acknowledging at
#                  max_autoreplies_per_hour and the loop dies out
#   robot-thread   answers in the thread, unmarked: the answer lands on the
#                  ticket and gets nothing (follow-ups are not acknowledged)
#   robot-oof      a proper out-of-office reply (Auto-Submitted:
#                  auto-replied, threaded): it updates the ticket, the team
#                  is told, the robot gets nothing more
#   robot-oof-new, robot-xar, robot-prec
#                  out-of-office replies in a new thread, marked
#                  Auto-Submitted, X-Autoreply or Precedence: auto_reply:
#                  each opens a ticket with no acknowledgement
#   B              a second mailproc: A's acknowledgement (auto-replied)
#                  opens a ticket at B, which answers nothing
#
# Bounded: the robots answer at most 50 mails, the run ends when nothing
# has moved for 5 s or after LOOP_TIMEOUT seconds (default 90).
# LOOP_KEEP=DIR keeps the stores, logs and the MTA's log in DIR.
. "$(dirname "$0")/../cli/lib.sh"
. "$top/tests/system/dovecot.sh"
unset MAILPROC_NOW

if ! command -v /usr/sbin/dovecot >/dev/null || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
	! command -v sqlite3 >/dev/null; then
	echo "1..0 # SKIP dovecot, sqlite3 or python3-aiosmtpd missing (make check installs them)"
	exit 0
fi
timeout_s=${LOOP_TIMEOUT:-90}
limit=5

srv=$(mktemp -d /tmp/mailproc-loop.XXXXXX)
chmod 755 "$srv"
smtp_dir=$srv/smtp
mkdir -p "$smtp_dir"
cleanup() {
	[ -n "${a_pid:-}" ] && kill -KILL "$a_pid" 2>/dev/null
	[ -n "${b_pid:-}" ] && kill -KILL "$b_pid" 2>/dev/null
	[ -n "${mta_pid:-}" ] && kill -TERM "$mta_pid" 2>/dev/null
	[ -f "$smtp_dir/smtpd.pid" ] && kill -TERM "$(cat "$smtp_dir/smtpd.pid")" 2>/dev/null
	dovecot_stop "$srv/dovecot" >/dev/null 2>&1
	[ -n "${LOOP_KEEP:-}" ] && cp -r "$work" "$LOOP_KEEP"
	rm -rf "$srv" "$work"
}
trap cleanup EXIT

DOVECOT_USERS="trialsupport peer"
dovecot_start "$srv/dovecot" || { echo "1..0 # SKIP dovecot would not start"; exit 0; }
smtpd_start "$smtp_dir" "$srv/smtpd.log" 0 --lifetime $((timeout_s + 120))

printf 'secret\n' >"$work/imap-password"
# write_conf FILE DB NAME ADDRESS USER DOMAIN - one instance's configuration
write_conf() {
	cat >"$1" <<EOF
[store]
path = $2
busy_timeout_ms = 5000

[imap]
host = 127.0.0.1
port = $DOVECOT_PORT
tls = none
password_file = $work/imap-password
poll_seconds = 1
processed_folder = Processed

[mailbox.$3]
kind = trial-support
address = $4
user = $5

[smtp]
url = smtp://127.0.0.1:$smtp_port
tls = none
bounce_address = bounces@$6

[staff]
staff_domains = $6
authserv_id = mx.$6
admin = admin@$6

[teams]
trial_support = trial-team@$6
support_engineering = se-team@$6
implementation = impl-team@$6

[limits]
max_autoreplies_per_hour = $limit
EOF
}
adb=$work/a.db bdb=$work/b.db
write_conf "$work/a.conf" "$adb" trialsupport trialsupport@corp.example trialsupport corp.example
write_conf "$work/b.conf" "$bdb" helpdesk helpdesk@peer.example peer peer.example
a_inbox=$(dovecot_maildir "$srv/dovecot" trialsupport INBOX)
b_inbox=$(dovecot_maildir "$srv/dovecot" peer INBOX)

robots="robot-new:new robot-thread:thread robot-oof:thread+auto-submitted robot-oof-new:new+auto-submitted
	robot-xar:new+x-autoreply robot-prec:new+precedence"
robot_args=()
for r in $robots; do robot_args+=(--robot "${r%%:*}@away.example=${r#*:}"); done
/usr/bin/python3 "$top/tests/system/loop-mta.py" --spool "$smtp_dir" --smtp-port "$smtp_port" \
	--log "$work/mta.log" --maildir "trialsupport@corp.example=$a_inbox" \
	--maildir "helpdesk@peer.example=$b_inbox" "${robot_args[@]}" \
	--max-replies 50 --lifetime $((timeout_s + 60)) 2>"$work/mta.err" &
mta_pid=$!

"$MAILPROC" -c "$work/a.conf" run 2>"$work/a.log" &
a_pid=$!
"$MAILPROC" -c "$work/b.conf" run 2>"$work/b.log" &
b_pid=$!

# Each robot, and B's address, writes to A first.
n=0
for r in $robots helpdesk@peer.example; do
	case $r in *:*) from=${r%%:*}@away.example ;; *) from=$r ;; esac
	n=$((n + 1))
	mail "$from" "Question $n" "<first$n@${from#*@}>" >"$work/first$n.eml"
	dovecot_deliver "$srv/dovecot" trialsupport "$work/first$n.eml"
done
t0=$SECONDS

qa() { sqlite3 -cmd '.timeout 5000' "file:$adb?mode=ro" "$1" 2>/dev/null; }
qb() { sqlite3 -cmd '.timeout 5000' "file:$bdb?mode=ro" "$1" 2>/dev/null; }
received() { find "$smtp_dir" -name '*.json' | wc -l; }
# What moves: mail received, mail handled by the MTA, rows in both stores.
progress() {
	echo "$(received) $(wc -l <"$work/mta.log" 2>/dev/null) $(qa 'SELECT count(*) FROM messages') $(qb 'SELECT count(*) FROM messages')" \
		"$(qa "SELECT count(*) FROM outbox WHERE status = 'sent'") $(qb "SELECT count(*) FROM outbox WHERE status = 'sent'")"
}
settled() {
	[ "$(qa "SELECT count(*) FROM outbox WHERE status != 'sent'")" = 0 ] &&
		[ "$(qb "SELECT count(*) FROM outbox WHERE status != 'sent'")" = 0 ] &&
		[ "$(dovecot_count "$srv/dovecot" trialsupport INBOX)" = 0 ] &&
		[ "$(dovecot_count "$srv/dovecot" peer INBOX)" = 0 ]
}
last=$(progress) still=0
while [ $((SECONDS - t0)) -lt "$timeout_s" ]; do
	sleep 0.5
	now=$(progress)
	if [ "$now" = "$last" ] && [ -f "$adb" ] && settled; then
		still=$((still + 1))
		[ "$still" -ge 10 ] && break
	else
		still=0
	fi
	last=$now
done
elapsed=$((SECONDS - t0))
ok "$([ "$still" -ge 10 ]; echo $?)" "the loops died out: nothing moved for 5 s, $elapsed s after the first mail"
echo "# after $elapsed s: $(received) messages through SMTP, $(grep -c '"robot"' "$work/mta.log") robot answers"

# stop PID - SIGTERM, then its exit status; SIGKILL (status 137) after 20 s.
stop() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
}
stop "$a_pid"
is "$?" "0" "A exits 0 on SIGTERM"
stop "$b_pid"
is "$?" "0" "B exits 0 on SIGTERM"
a_pid= b_pid=
stop "$mta_pid"
is "$?" "0" "the MTA and its robots ran to the end"
[ -s "$work/mta.err" ] && sed 's/^/#   /' "$work/mta.err"
mta_pid=

# to ADDRESS - messages the SMTP server took for ADDRESS
to() { cat "$smtp_dir"/*.json | jq -r '.rcpt_tos[]' | grep -cxF "$1"; }
answers() { grep -c "\"rcpt\": \"$1\", \"action\": \"robot\"" "$work/mta.log"; }
tickets_of() { qa "SELECT count(*) FROM tickets WHERE requester = '$1'"; }
msgs_of() { qa "SELECT count(*) FROM messages WHERE from_addr = '$1'"; }

# robot-new: each answer a new ticket, acknowledged up to the limit.
r=robot-new@away.example
is "$(to $r)" "$limit" "robot-new got $limit acknowledgements (max_autoreplies_per_hour), no more"
is "$(answers $r)" "$limit" "it answered each"
is "$(tickets_of $r)" "$((limit + 1))" "each of its $((limit + 1)) mails opened a ticket"
is "$(qa "SELECT count(*) FROM outbox WHERE template = 'ticket-new-team' AND ticket IN (SELECT id FROM tickets WHERE requester = '$r')")" \
	"$((limit + 1))" "the team was told of each"
like "$(cat "$work/a.log")" "ticket-ack not sent to $r: max_autoreplies_per_hour \($limit\) reached" "A logs the stop"

# robot-thread: the answer joins the ticket and gets nothing.
r=robot-thread@away.example
is "$(to $r) $(answers $r)" "1 1" "robot-thread: one acknowledgement, one answer"
is "$(tickets_of $r) $(msgs_of $r)" "1 2" "its answer joined its ticket"

# The proper out-of-office reply, in the thread.
a=robot-oof@away.example
is "$(to $a) $(answers $a)" "1 1" "robot-oof: one acknowledgement, one out-of-office reply"
is "$(tickets_of $a) $(msgs_of $a)" "1 2" "robot-oof: the reply updated the ticket"
is "$(qa "SELECT count(*) FROM outbox WHERE template = 'ticket-update-owner' AND ticket = (SELECT id FROM tickets WHERE requester = '$a')")" \
	"1" "robot-oof: the team was told, the robot got nothing more"
# Marked out-of-office replies in a new thread: a ticket, no acknowledgement.
for r in robot-oof-new robot-xar robot-prec; do
	a=$r@away.example
	is "$(to $a) $(answers $a)" "1 1" "$r: one acknowledgement, one out-of-office reply"
	is "$(tickets_of $a)" "2" "$r: the reply opened a ticket"
	is "$(qa "SELECT group_concat(template, ' ') FROM outbox WHERE ticket = (SELECT id FROM tickets WHERE requester = '$a' ORDER BY num DESC LIMIT 1)")" \
		"ticket-new-team" "$r: the team was told, the robot got nothing"
done

# Two mailproc instances.
is "$(to helpdesk@peer.example)" "1" "A acknowledged B once"
is "$(qb "SELECT requester FROM tickets")" "trialsupport@corp.example" "B opened a ticket for A's acknowledgement"
is "$(to trialsupport@corp.example)" "$(grep -c '"action": "robot"' "$work/mta.log")" \
	"nothing reached A but the robots' answers (B sent A nothing)"
is "$(qb "SELECT group_concat(template || '>' || recipients, ' ') FROM outbox")" "$(qb "SELECT 'ticket-new-team>' || recipients FROM outbox WHERE template = 'ticket-new-team'")" \
	"B sent only its team notice"
is "$(qa "SELECT count(*) FROM quarantine") $(qb "SELECT count(*) FROM quarantine")" "0 0" "nothing quarantined"
is "$(qa "SELECT count(*) FROM tickets")" "$((limit + 1 + 1 + 1 + 3 * 2 + 1))" "A has exactly the tickets above"

done_testing

#!/bin/bash
# faults.t - server faults under a running `mailproc run` (SPEC 3, 4):
#   1. Dovecot stopped mid-fetch for 30 s, restarted on the same ports;
#   2. the SMTP server down for 60 s, then answering 421, then 451, then
#      back;
#   3. an IMAP server that accepts and never answers: the timeout fires
#      and the other mailbox carries on;
#   4. the store locked by another process (BEGIN EXCLUSIVE) for longer
#      than busy_timeout_ms: messages retried, not checkpointed;
#   5. the store's file system full (a small tmpfs): messages not
#      checkpointed, processed once space returns.
# Each ends with nothing lost, nothing stored twice, every notice
# delivered at least once (duplicates reported).  FAULT_SCALE (default
# 0.2, `make stress` 1) scales the outage lengths.
. "$(dirname "$0")/../cli/lib.sh"
. "$top/tests/system/dovecot.sh"
unset MAILPROC_NOW

if ! command -v /usr/sbin/dovecot >/dev/null || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
	! command -v sqlite3 >/dev/null; then
	echo "1..0 # SKIP dovecot, sqlite3 or python3-aiosmtpd missing (make check installs them)"
	exit 0
fi
scale=${FAULT_SCALE:-0.2}
secs() { awk -v s="$scale" -v n="$1" 'BEGIN { v = int(n * s + 0.5); print v < 1 ? 1 : v }'; }
case ${MP_BUILD:-} in
*asan* | *san*) n_fetch=300 ;;
*) n_fetch=1000 ;;
esac
echo "# FAULT_SCALE=$scale"

srv=$(mktemp -d /tmp/mailproc-faults.XXXXXX)
chmod 755 "$srv"
cleanup() {
	[ -n "${daemon_pid:-}" ] && kill -KILL "$daemon_pid" 2>/dev/null
	[ -n "${lock_pid:-}" ] && kill -KILL "$lock_pid" 2>/dev/null
	[ -n "${hang_pid:-}" ] && kill -KILL "$hang_pid" 2>/dev/null
	[ -f "${smtp_dir:-/nonexistent}/smtpd.pid" ] && kill -TERM "$(cat "$smtp_dir/smtpd.pid")" 2>/dev/null
	dovecot_stop "$srv/dovecot" >/dev/null 2>&1
	mountpoint -q "$srv/full" 2>/dev/null && umount "$srv/full"
	rm -rf "$srv" "$work"
}
trap cleanup EXIT

dovecot_start "$srv/dovecot" || { echo "1..0 # SKIP dovecot would not start"; exit 0; }
inbox=$(dovecot_maildir "$srv/dovecot" trialsupport INBOX)
printf 'secret\n' >"$work/imap-password"

# start_smtpd DIR [PORT] - a fresh SMTP server spooling into DIR.
start_smtpd() {
	smtp_dir=$1
	smtpd_start "$smtp_dir" "$srv/smtpd.log" "${2:-0}" --lifetime 1200
}
stop_smtpd() {
	local pid
	pid=$(cat "$smtp_dir/smtpd.pid" 2>/dev/null) || return 0
	kill -TERM "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

# write_conf DB BUSY_MS [EXTRA-SECTIONS]
write_conf() {
	cat >"$conf" <<EOF
[store]
path = $1
busy_timeout_ms = $2

[imap]
host = 127.0.0.1
port = $DOVECOT_PORT
tls = none
password_file = $work/imap-password
poll_seconds = 1
timeout_seconds = 2
processed_folder = Processed

[mailbox.trialsupport]
kind = trial-support
address = trialsupport@corp.example
user = trialsupport

${3:-}
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
}

wait_for() { # wait_for SECONDS COMMAND... - bounded polling
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.1; done
	return 1
}
q() { sqlite3 -cmd '.timeout 10000' "file:$db?mode=ro" "$1" 2>/dev/null; }
rows() { q 'SELECT count(*) FROM messages' || echo 0; }
checkpoint() { q "SELECT last_uid FROM imap_state WHERE mailbox = 'trialsupport'"; }
last_uid() { awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^N/) print substr($i, 2) - 1 }' "$inbox/dovecot-uidlist"; }
# gen COUNT PREFIX [BODY-BYTES] - new mail into the inbox, into the manifest
gen() {
	/usr/bin/python3 "$top/tests/system/gen-mail.py" --count "$1" --maildir "$inbox" \
		--manifest "$manifest" --prefix "$2" --seed $$ --body-bytes "${3:-300}"
}
all_stored() { [ "$(rows)" -ge "$(wc -l <"$manifest")" ]; }
all_sent() { [ "$(q "SELECT count(*) FROM outbox WHERE status != 'sent'")" = 0 ]; }
start_daemon() {
	"$MAILPROC" -c "$conf" run 2>>"$log" &
	daemon_pid=$!
}
stop_daemon() {
	kill -TERM "$daemon_pid" 2>/dev/null
	wait_for 20 sh -c "! kill -0 $daemon_pid 2>/dev/null"
	wait "$daemon_pid"
	daemon_rc=$?
	daemon_pid=
}
# settle NAME - the common end of a subtest: the figures and assertions.
settle() {
	local tally fig
	tally=$(/usr/bin/python3 "$top/tests/system/tally.py" --db "$db" --manifest "$manifest" \
		--smtp-dir "$smtp_dir")
	fig() { printf '%s\n' "$tally" | awk -v k="$1" '$1 == k { print $2 }'; }
	echo "# $1: $(printf '%s\n' "$tally" | tr '\n' ' ')"
	is "$(fig lost) $(fig duplicate_messages) $(fig unprocessed) $(fig quarantined)" "0 0 0 0" \
		"$1: nothing lost, stored twice, unprocessed or quarantined"
	is "$(fig tickets) $(fig duplicate_tickets) $(fig misthreaded)" "$(fig originals) 0 0" \
		"$1: one ticket per original, replies threaded"
	is "$(fig outbox_unsent) $(fig undelivered)" "0 0" "$1: every notice delivered at least once"
	is "$(checkpoint)" "$(last_uid)" "$1: the checkpoint is the last UID"
	is "$(dovecot_count "$srv/dovecot" trialsupport INBOX)" 0 "$1: nothing left in INBOX"
	echo "# $1: duplicate deliveries $(fig duplicate_deliveries) (acknowledgements $(fig duplicate_acks))"
}
# fresh NAME - a new store, manifest, log and SMTP spool for a subtest.
fresh() {
	db=$srv/$1.db manifest=$srv/$1.manifest log=$srv/$1.log
	: >"$manifest"
	[ -n "${smtp_dir:-}" ] && stop_smtpd
	start_smtpd "$srv/smtp-$1"
	write_conf "$db" 2000
}
show_log() { grep -E "warning|error" "$log" | sed -E 's/UID [0-9]+/UID N/g; s/[0-9]+ s\b/N s/g' |
	cut -d' ' -f2- | sort | uniq -c | sort -rn | head -"${1:-6}" | sed 's/^/#   log: /'; }

# --- 1. Dovecot stopped mid-fetch, restarted ------------------------------------
fault_dovecot() {
	down=$(secs 30)
	fresh dovecot
	# Big enough for several fetch chunks (8 MiB each): the stop cuts one.
	gen "$n_fetch" dc $((24000000 / n_fetch))
	start_daemon
	mid_fetch() { [ "$(rows)" -ge $((n_fetch / 20)) ]; }
	wait_for 60 mid_fetch
	at=$(rows)
	dovecot_stop "$srv/dovecot" >/dev/null 2>&1
	stopped_at=$(rows)
	ok "$([ "$stopped_at" -lt "$n_fetch" ]; echo $?)" "dovecot: stopped mid-fetch ($at of $n_fetch stored when the stop began, $stopped_at when it ended)"
	sleep "$down"
	ok "$([ "$(rows)" -lt "$n_fetch" ]; echo $?)" "dovecot: down for ${down} s: $(rows) of $n_fetch stored (what was fetched before the stop)"
	DOVECOT_PORTS="$DOVECOT_PORT $DOVECOT_TLS_PORT" dovecot_start "$srv/dovecot" >/dev/null 2>&1
	ok $? "dovecot: restarted on the same ports"
	wait_for 120 all_stored
	ok $? "dovecot: every message stored after the restart"
	wait_for 120 all_sent
	stop_daemon
	is "$daemon_rc" 0 "dovecot: SIGTERM, exit 0"
	like "$(cat "$log")" "trialsupport: (fetch failed|cannot connect)" "dovecot: the outage was logged"
	show_log
	settle dovecot
}

# --- 2. SMTP down, then 421, then 451, then back ------------------------------------
fault_smtp() {
	down=$(secs 60)
	fresh smtp
	gen 20 sa
	start_daemon
	wait_for 30 all_stored
	ok $? "smtp: the first messages stored"
	wait_for 30 all_sent
	stop_smtpd
	gen 20 sb
	wait_for 30 all_stored
	ok $? "smtp: stored while the SMTP server is down"
	sleep "$down"
	is "$(q "SELECT count(*) FROM outbox WHERE status = 'queued'")" 40 "smtp: 40 notices queued after ${down} s down"
	like "$(q "SELECT group_concat(DISTINCT error) FROM outbox WHERE status = 'queued'")" "." \
		"smtp: the failed attempts are recorded on the rows"
	echo "mail 421" >"$smtp_dir/mode"
	start_smtpd "$smtp_dir" "$smtp_port"
	gen 5 sc
	wait_for 60 all_stored
	said() { [ "$(q "SELECT count(*) FROM outbox WHERE error LIKE '%$1%'")" -gt 0 ]; }
	wait_for 120 said 421
	ok $? "smtp: a 421 is recorded as a temporary failure"
	echo "rcpt * 451" >"$smtp_dir/mode"
	gen 5 sd
	wait_for 60 all_stored
	wait_for 60 said 451
	ok $? "smtp: a 451 is recorded as a temporary failure"
	is "$(q "SELECT count(*) FROM outbox WHERE status = 'failed'")" 0 "smtp: no notice failed for good"
	: >"$smtp_dir/mode"
	gen 5 se
	wait_for 60 all_stored
	back() { [ "$(q "SELECT count(*) FROM outbox o WHERE status = 'sent' AND o.ticket IN (SELECT ticket FROM messages WHERE message_id GLOB '*se[0-9]*')")" -ge 10 ]; }
	wait_for 60 back
	ok $? "smtp: back: new notices go out at once"
	if [ "$scale" = 1 ]; then
		# The rows that met 421/451 wait out their backoff (60 s, then 120 s).
		wait_for 600 all_sent
		ok $? "smtp: the daemon delivers every queued notice by itself"
		stop_daemon
	else
		stop_daemon
		# Shortened: the clock jumps over the rows' backoff instead.
		MAILPROC_NOW=$(date -u -d '+30 minutes' +%Y-%m-%dT%H:%M:%SZ) "$MAILPROC" -c "$conf" send >/dev/null 2>>"$log"
		ok $? "smtp: after the backoff the rest goes out (mailproc send, clock +30 min)"
	fi
	is "$daemon_rc" 0 "smtp: SIGTERM, exit 0"
	show_log
	settle smtp
}

# --- 3. an IMAP server that never answers ----------------------------------------------
fault_hang() {
	fresh hang
	/usr/bin/python3 - "$srv/hang" <<-'PY' &
	import os, socket, sys, time
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", 0))
	s.listen(16)
	with open(sys.argv[1] + ".tmp", "w") as f:
	    f.write(str(s.getsockname()[1]))
	os.rename(sys.argv[1] + ".tmp", sys.argv[1])
	held, n, end = [], 0, time.time() + 300
	s.settimeout(0.5)
	while time.time() < end and os.getppid() != 1:
	    try:
	        c, _ = s.accept()
	        held.append(c)
	        n += 1
	        with open(sys.argv[1] + ".n", "w") as f:
	            f.write(str(n))
	    except socket.timeout:
	        pass
	PY
	hang_pid=$!
	wait_for 10 test -s "$srv/hang"
	write_conf "$db" 2000 "[mailbox.implementation]
	kind = implementation
	address = implementation@corp.example
	user = implementation
	port = $(cat "$srv/hang")
	"
	gen 30 h
	start_daemon
	wait_for 60 all_stored
	ok $? "hang: the other mailbox is processed while one server never answers"
	timeouts() { [ "$(grep -c 'implementation: cannot connect' "$log")" -ge 2 ]; }
	wait_for 30 timeouts
	ok $? "hang: the timeout fires and the watcher tries again ($(grep -c 'implementation: cannot connect' "$log") attempts)"
	like "$(grep 'implementation: cannot connect' "$log" | head -1)" "127.0.0.1:$(cat "$srv/hang")" \
		"hang: the log names the server"
	wait_for 30 all_sent
	t0=$SECONDS
	stop_daemon
	is "$daemon_rc" 0 "hang: SIGTERM while a watcher waits on the silent server: exit 0"
	ok "$([ $((SECONDS - t0)) -le 5 ]; echo $?)" "hang: ... within 5 s ($((SECONDS - t0)) s)"
	kill -KILL "$hang_pid" 2>/dev/null
	wait "$hang_pid" 2>/dev/null
	hang_pid=
	show_log 3
	write_conf "$db" 2000
	settle hang
}

# --- 4. the store locked longer than busy_timeout -------------------------------------
fault_lock() {
	hold=$(secs 15)
	[ "$hold" -lt 3 ] && hold=3
	fresh lock
	write_conf "$db" 300
	gen 10 la
	start_daemon
	wait_for 30 all_stored
	ok $? "lock: the first messages stored"
	# Slow the SMTP server, so the lock also meets the sender between a
	# delivery and marking it sent.
	echo "delay 0.5" >"$smtp_dir/mode"
	gen 10 lb
	wait_for 30 all_stored
	before=$(checkpoint)
	{ echo 'BEGIN EXCLUSIVE;'; echo "SELECT 'locked';"; sleep "$hold"; echo 'COMMIT;'; } |
		sqlite3 "$db" >"$srv/lock.out" 2>&1 &
	lock_pid=$!
	wait_for 10 grep -q locked "$srv/lock.out"
	ok $? "lock: another process holds BEGIN EXCLUSIVE for $hold s (busy_timeout_ms = 300)"
	gen 20 lc
	sleep $((hold - 1))
	is "$(checkpoint)" "$before" "lock: no checkpoint while locked"
	wait "$lock_pid"
	lock_pid=
	: >"$smtp_dir/mode"
	wait_for 60 all_stored
	ok $? "lock: every message stored after the lock is gone"
	like "$(cat "$log")" "database is locked" "lock: the busy store was logged"
	wait_for 60 all_sent
	stop_daemon
	is "$daemon_rc" 0 "lock: SIGTERM, exit 0"
	show_log
	settle lock
}

# --- 5. the store's file system full ---------------------------------------------------
fault_disk() {
	full=$(secs 15)
	[ "$full" -lt 3 ] && full=3
	mkdir -p "$srv/full"
	if ! mount -t tmpfs -o size=32m tmpfs "$srv/full" 2>"$srv/mount.err"; then
		echo "# SKIP disk full: cannot mount a tmpfs: $(cat "$srv/mount.err")"
	else
		fresh disk
		write_conf "$srv/full/mailproc.db" 2000
		db=$srv/full/mailproc.db
		gen 5 da
		start_daemon
		wait_for 30 all_stored
		ok $? "disk: the first messages stored on a 32 MiB tmpfs"
		wait_for 30 all_sent
		# A slow SMTP server: the disk fills between a delivery and
		# marking it sent.
		echo "delay 0.5" >"$smtp_dir/mode"
		gen 10 dy
		wait_for 30 all_stored
		before=$(checkpoint)
		dd if=/dev/zero of="$srv/full/filler" bs=64k 2>/dev/null
		is "$(df --output=avail -k "$srv/full" | tail -1 | tr -d ' ')" 0 "disk: full"
		gen 20 db 20000
		sleep "$full"
		is "$(checkpoint)" "$before" "disk: no checkpoint while full"
		like "$(cat "$log")" "full" "disk: the full disk was logged"
		rm -f "$srv/full/filler"
		: >"$smtp_dir/mode"
		wait_for 60 all_stored
		ok $? "disk: every message stored once space returned"
		wait_for 60 all_sent
		stop_daemon
		is "$daemon_rc" 0 "disk: SIGTERM, exit 0"
		show_log
		settle disk
	fi
}

for f in ${FAULTS:-dovecot smtp hang lock disk}; do
	"fault_$f"
done
done_testing

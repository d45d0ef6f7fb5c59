# bench/lib.sh - shared by the bench scripts (sourced from bash).
#
#   result KEY VALUE   when $RESULTS names a file, appends "KEY=VALUE" to
#                      it: how bench/run collects the figures of each part
#   secs_of TIMEFILE   the wall time /usr/bin/time -v wrote, in seconds
#   smtp_server_start KIND DIR LOG
#                      an SMTP server on 127.0.0.1, a free port, its files
#                      in DIR and its output in LOG: KIND sink is
#                      bench/smtp-sink.c (built into build/bench when
#                      missing or older than its source), smtpd is
#                      tests/system/smtpd.py; sets smtp_pid and smtp_port;
#                      1 when it did not start within 10 s
#   smtp_received KIND DIR
#                      the messages that server accepted, one per recipient
result() {
	[ -n "${RESULTS:-}" ] && printf '%s=%s\n' "$1" "$2" >>"$RESULTS"
	return 0
}

secs_of() {
	sed -n 's/^[[:space:]]*Elapsed (wall clock) time ([^)]*): //p' "$1" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}

smtp_server_start() {
	local kind=$1 dir=$2 log=$3 root up

	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	mkdir -p "$dir"
	if [ "$kind" = smtpd ]; then
		/usr/bin/python3 "$root/tests/system/smtpd.py" --port 0 \
			--dir "$dir" --lifetime 3600 >"$log" 2>&1 &
		smtp_pid=$!
		up=$dir/ready
	else
		local sink=$root/build/bench/smtp-sink
		if [ ! -x "$sink" ] || [ "$root/bench/smtp-sink.c" -nt "$sink" ]; then
			mkdir -p "$root/build/bench"
			cc -O2 -std=gnu11 -Wall -Wextra -Werror \
				"$root/bench/smtp-sink.c" -o "$sink" >"$log" 2>&1 ||
				return 1
		fi
		"$sink" "$dir" >"$log" 2>&1 &
		smtp_pid=$!
		up=$dir/port
	fi
	for _ in $(seq 1 100); do
		[ -s "$up" ] && break
		kill -0 "$smtp_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$up" ] || return 1
	smtp_port=$(cat "$dir/port")
}

smtp_received() {
	if [ "$1" = smtpd ]; then
		find "$2" -maxdepth 1 -name '[0-9]*.json' | wc -l
	else
		awk '{ print $2 }' "$2/count"
	fi
}

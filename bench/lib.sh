# bench/lib.sh - shared by the bench scripts (sourced from bash).
#
#   result KEY VALUE   when $RESULTS names a file, appends "KEY=VALUE" to
#                      it: how bench/run collects the figures of each part
#   secs_of TIMEFILE   the wall time /usr/bin/time -v wrote, in seconds
result() {
	[ -n "${RESULTS:-}" ] && printf '%s=%s\n' "$1" "$2" >>"$RESULTS"
	return 0
}

secs_of() {
	sed -n 's/^[[:space:]]*Elapsed (wall clock) time ([^)]*): //p' "$1" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}

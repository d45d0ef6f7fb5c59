#!/bin/bash
# install.t - `make install` into a DESTDIR lays out the whole tree, and
# the systemd units pass `systemd-analyze verify` with an exposure score of
# at most 2.0.
. "$(dirname "$0")/lib.sh"

dest=$work/root
make -C "$top" --no-print-directory install DESTDIR="$dest" PREFIX=/usr >"$work/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr"
for f in usr/bin/mailproc usr/share/mailproc/mailproc.conf.example \
	usr/share/mailproc/templates/ticket-ack.txt \
	usr/share/mailproc/templates/digest-backlog.html \
	usr/share/man/man8/mailproc.8 usr/share/man/man5/mailproc.conf.5 \
	usr/lib/systemd/system/mailproc.service \
	usr/lib/systemd/system/mailproc-digest@.service \
	usr/lib/systemd/system/mailproc-digest@trial-queue.timer \
	usr/lib/systemd/system/mailproc-digest@backlog.timer \
	usr/lib/sysusers.d/mailproc.conf usr/lib/tmpfiles.d/mailproc.conf; do
	ok $([ -s "$dest/$f" ] && echo 0 || echo 1) "installed $f"
done
ok $([ -x "$dest/usr/bin/mailproc" ] && echo 0 || echo 1) "the binary is executable"
is "$(ls "$dest/usr/share/mailproc/templates" | wc -l | tr -d ' ')" "$(ls "$top"/templates/*.txt "$top"/templates/*.html | wc -l | tr -d ' ')" \
	"every template installed"
like "$(grep ^ExecStart "$dest/usr/lib/systemd/system/mailproc.service")" "^ExecStart=/usr/bin/mailproc " \
	"units point at the installed binary"
MAILPROC_TEMPLATES=$dest/usr/share/mailproc/templates "$dest/usr/bin/mailproc" -c "$conf" check >"$work/check.out" 2>&1
like "$(cat "$work/check.out")" "^ok   templates: [0-9]+ checked" "the installed templates pass check"

if command -v systemd-analyze >/dev/null; then
	units=$work/units
	mkdir -p "$units"
	for u in "$dest"/usr/lib/systemd/system/*; do
		sed "s|/usr/bin/mailproc|$dest/usr/bin/mailproc|" "$u" >"$units/${u##*/}"
	done
	out=$(cd "$units" && MANPATH=$dest/usr/share/man systemd-analyze verify \
		mailproc.service mailproc-digest@trial-queue.service \
		mailproc-digest@trial-queue.timer mailproc-digest@backlog.timer 2>&1)
	rc=$?
	# verify loads every unit on the machine: keep what is about ours
	# (other packages' units, e.g. request-tracker5's, have their own
	# complaints).
	out=$(printf '%s\n' "$out" | grep -i mailproc)
	is "$rc:$out" "0:" "systemd-analyze verify: no complaint"
	score=$(systemd-analyze security --offline=true "$units/mailproc.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for mailproc.service: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security: exposure $score"
	ok $(awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'; echo $?) \
		"mailproc.service exposure ${score:-?} <= 2.0"
else
	echo "# systemd-analyze missing: unit checks skipped"
fi

done_testing

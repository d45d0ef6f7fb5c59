#!/bin/bash
# parse-fixtures.t - every tests/fixtures/parse/NAME.eml parses to the
# hand-written NAME.json (compared as JSON values, key order ignored).
set -u
top=${MP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
dump=${MP_BUILD:-$top/build}/tests/parse-dump
n=0
for eml in "$top"/tests/fixtures/parse/*.eml; do
	want=${eml%.eml}.json
	name=$(basename "$eml" .eml)
	[ -f "$want" ] || continue
	n=$((n + 1))
	got=$("$dump" "$eml")
	rc=$?
	if [ $rc -eq 0 ] && diff <(jq -S . "$want") <(printf '%s\n' "$got" | jq -S .) >/tmp/pf.$$ 2>&1; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name (exit $rc)"
		sed 's/^/#   /' /tmp/pf.$$
	fi
done
rm -f /tmp/pf.$$
echo "1..$n"

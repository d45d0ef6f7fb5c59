#!/bin/bash
# golden.t - the exact output of `show --json` (SPEC 5.1) and of a raw
# notice for the demo thread, against files in tests/cli/expected/.
# Our own Message-IDs are random: they are masked before comparing.
# To accept a deliberate change: MP_GOLDEN_UPDATE=1 tests/cli/golden.t
. "$(dirname "$0")/lib.sh"

expected=$top/tests/cli/expected
mask() { sed -E 's/<mp\.[0-9a-f]+@/<mp.MASKED@/g'; }
compare() { # compare NAME < OUTPUT - against expected/NAME
	local got
	got=$(mask)
	if [ -n "${MP_GOLDEN_UPDATE:-}" ]; then
		printf '%s\n' "$got" >"$expected/$1"
	fi
	tap_n=$((tap_n + 1))
	if diff -u "$expected/$1" <(printf '%s\n' "$got") >"$work/diff"; then
		echo "ok $tap_n - $1"
	else
		echo "not ok $tap_n - $1"
		sed 's/^/#   /' "$work/diff" | head -40
		tap_failed=$((tap_failed + 1))
	fi
}

for f in 01-customer-request 03-customer-follow-up 05-ce-reply; do
	mp ingest --mailbox trialsupport "$top/tests/demo/mail/$f.eml" >/dev/null
done
mp ingest --mailbox trialsupport "$fixtures/parse/28-gmail-pdf-attachment.eml" >/dev/null
mp ingest --mailbox implementation "$top/tests/demo/mail/06-implementation-request.eml" >/dev/null

compare show-TS-1.json < <(mp show TS-1 --json)
compare show-TS-2.json < <(mp show TS-2 --json)
compare show-IE-1.json < <(mp show IE-1 --json)
compare backlog.json < <(mp backlog --json)
compare tickets.json < <(mp tickets --json)
compare outbox.json < <(mp outbox --json)
compare outbox-1.eml < <(mp outbox show 1 --raw | tr -d '\r')
compare outbox-4.eml < <(mp outbox show 4 --raw | tr -d '\r')

done_testing

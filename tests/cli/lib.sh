# lib.sh - helpers for the CLI tests: TAP output, a fresh store per test
# file, and mailproc run with the test configuration and a pinned clock.
set -u
top=${MP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MAILPROC=${MAILPROC:-$top/build/mailproc}
export MAILPROC_TEMPLATES=${MAILPROC_TEMPLATES:-$top/templates}
export MAILPROC_NOW=${MAILPROC_NOW:-2024-01-08T10:00:00Z}
work=$(mktemp -d /tmp/mailproc-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
conf=$work/mailproc.conf
cp "$top/tests/cli/mailproc.conf" "$conf"
db=$work/test.db
fixtures=$top/tests/fixtures
tap_n=0
tap_failed=0

mp() { "$MAILPROC" -c "$conf" --db "$db" "$@"; }

ok() { # ok COND-EXIT-STATUS NAME
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

is() { # is GOT WANT NAME
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $tap_n - $3"
	else
		echo "not ok $tap_n - $3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2" | head -20
		tap_failed=$((tap_failed + 1))
	fi
}

like() { # like GOT PATTERN NAME  (grep -E on the text)
	tap_n=$((tap_n + 1))
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		echo "ok $tap_n - $3"
	else
		echo "not ok $tap_n - $3"
		printf '%s\n' "$1" | head -15 | sed 's/^/#   got: /'
		printf '#   want match: %s\n' "$2"
		tap_failed=$((tap_failed + 1))
	fi
}

unlike() { # unlike GOT PATTERN NAME
	tap_n=$((tap_n + 1))
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		echo "not ok $tap_n - $3"
		printf '%s\n' "$1" | grep -E -- "$2" | head -5 | sed 's/^/#   found: /'
		tap_failed=$((tap_failed + 1))
	else
		echo "ok $tap_n - $3"
	fi
}

done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# mail FROM SUBJECT MESSAGE-ID [EXTRA-HEADERS [BODY]] - prints a message.
mail() {
	printf 'From: %s\nTo: trialsupport@corp.example\nSubject: %s\nDate: Mon, 08 Jan 2024 09:00:00 +0000\nMessage-ID: %s\n%sMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$1" "$2" "$3" "${4:+$4
}" "${5:-Hello, I need help.}"
}

# outbox_json FIELD ROW - a field of outbox row ROW (1-based id).
outbox_field() { mp outbox --json | jq -r ".[] | select(.id == $2) | $1"; }

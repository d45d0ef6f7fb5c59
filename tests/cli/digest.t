#!/bin/bash
# digest.t - `mailproc digest trial-queue|backlog` (SPEC 5, 9): content,
# once per period, --force, --dry-run, nothing to report, and the HTML
# part opened in headless Chromium to check its tables render.
. "$(dirname "$0")/lib.sh"

AUTH="Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example"
n=0
msg() { # msg MAILBOX FROM SUBJECT BODY [IN-REPLY-TO]
	n=$((n + 1))
	printf '%s\nFrom: %s\nTo: x@corp.example\nSubject: %s\nMessage-ID: <d%d@x.example>\n%sContent-Type: text/plain\n\n%s\n' \
		"$AUTH" "$2" "$3" "$n" "${5:+In-Reply-To: $5
}" "$4" >"$work/m$n.eml"
	mp ingest --mailbox "$1" "$work/m$n.eml" >/dev/null
}
# part TYPE - the text/plain or text/html part of a message on stdin
part() {
	/usr/bin/python3 -c '
import email, sys
m = email.message_from_binary_file(sys.stdin.buffer)
for p in m.walk():
    if p.get_content_type() == sys.argv[1]:
        sys.stdout.write(p.get_payload(decode=True).decode())' "$1"
}

# --- nothing to report ------------------------------------------------------------
export MAILPROC_NOW=2024-01-08T09:00:00Z
out=$(mp digest trial-queue --dry-run)
is "$(printf '%s' "$out" | part text/plain)" "Nothing to report: no open trial-support tickets on 2024-01-08." \
	"an empty queue says so in one line"
like "$(printf '%s' "$out" | part text/html)" '<p id="nothing">' "... in the HTML too, without tables"
unlike "$(printf '%s' "$out" | part text/html)" '<table' "no empty tables"

# --- a queue ------------------------------------------------------------------------
export MAILPROC_NOW=2024-01-08T08:00:00Z
msg trialsupport a@acme.example "First request" "help"
msg trialsupport b@globex.example "Second request" "help"
msg trialsupport c@initech.example "Third request" "help"
export MAILPROC_NOW=2024-01-09T09:00:00Z
msg trialsupport carla.ce@corp.example "Re: First" "/start" "<d1@x.example>"
msg trialsupport carla.ce@corp.example "Re: Second" $'/start\n/macro cstr\n/transfer\nCustomer details: B\nIssue link: https://x.example/1\nSummary: s\nConsequences: c\nTime considerations: t' "<d2@x.example>"
export MAILPROC_NOW=2024-01-09T10:00:00Z
text=$(mp digest trial-queue --dry-run | part text/plain)
like "$text" "^Trial support queue for 2024-01-09: 3 open tickets" "the day's digest counts the open tickets"
like "$text" "^  TS-3  waiting 1d 2h  initech.example  Third request" "waiting ticket with age and organisation"
like "$text" "^  TS-2  waiting 1h 0m for an SE  \(from carla.ce@corp.example\)" "transfer request with how long it has waited"
like "$text" "^  carla.ce@corp.example \(2\)" "each owner's open tickets"
like "$text" "^  TS-3  silent 1d 2h  \(unowned\)" "no staff response for more than stale_hours"
unlike "$text" "^  TS-1  silent" "a ticket a CE answered is not stale"

out=$(mp digest trial-queue)
is "$out" "trial-queue digest for 2024-01-09 queued as outbox $(mp outbox --json | jq '.[-1].id')" "queued once"
row=$(mp outbox --json | jq -c '.[-1]')
is "$(printf '%s' "$row" | jq -r '.template + " " + (.ticket | tostring) + " " + (.to | join(","))')" \
	"digest-trial-queue null trial-team@corp.example" "to its recipients, no ticket"
raw=$(mp outbox show "$(printf '%s' "$row" | jq .id)" --raw)
like "$raw" $'^From: trialsupport@corp.example\r$' "from the trial-support mailbox"
like "$raw" $'^Auto-Submitted: auto-generated\r$' "auto-generated"
like "$raw" '^Content-Type: multipart/alternative' "plain text and HTML"
is "$(mp digest trial-queue)" "already sent for 2024-01-09" "a second run in the same day does nothing"
is "$?" "0" "... and exits 0"
rows=$(mp outbox --json | jq length)
mp digest trial-queue --dry-run >/dev/null
is "$(mp outbox --json | jq length)" "$rows" "--dry-run queues nothing"
like "$(mp digest trial-queue --force)" "queued as outbox" "--force sends again"
MAILPROC_NOW=2024-01-10T09:00:00Z
like "$(MAILPROC_NOW=2024-01-10T09:00:00Z mp digest trial-queue)" "digest for 2024-01-10 queued" "the next day is a new period"

# --- the backlog ----------------------------------------------------------------------
form() { # form NAME SEGMENT
	printf 'Customer Name: %s\nLink to Salesforce Opportunity: https://sf.example/%s\nLink to TDD: https://tdd.example/%s\nDeployment Type: Helm\nHosting Provider: AWS\nSegment: %s\n' "$1" "$1" "$1" "$2"
}
export MAILPROC_NOW=2023-11-01T09:00:00Z
msg implementation carla.ce@corp.example "Impl Alpha" "$(form Alpha Enterprise)"
msg implementation carla.ce@corp.example "Impl Beta" "$(form Beta Strategic)"
msg implementation carla.ce@corp.example "Impl Gamma" "Customer Name: Gamma"
a=$(mp backlog --json | jq -r '.[0].id')
for cmd in "/triage priority=P1" $'/qualify\n/assign ie=ian.ie@corp.example pm=paula.pm@corp.example'; do
	msg implementation paula.pm@corp.example "Re: Alpha" "$cmd" "<d6@x.example>"
	msg implementation paula.pm@corp.example "Re: Beta" "$cmd" "<d7@x.example>"
done
msg implementation ian.ie@corp.example "Re: Alpha" "/signoff tdd" "<d6@x.example>"
msg implementation ian.ie@corp.example "Re: Beta" "/signoff tdd" "<d7@x.example>"
msg implementation paula.pm@corp.example "Re: Alpha" "/handoff" "<d6@x.example>"
msg implementation paula.pm@corp.example "Re: Beta" "/handoff" "<d7@x.example>"
export MAILPROC_NOW=2024-01-09T12:00:00Z
msg implementation ian.ie@corp.example "Re: Beta" "/live" "<d7@x.example>"
is "$(mp backlog --json | jq -r 'map(.id + ":" + .status) | join(" ")')" "IE-1:in_implementation IE-2:live IE-3:incomplete" \
	"a backlog in every state ($a)"
out=$(mp digest backlog --dry-run)
text=$(printf '%s' "$out" | part text/plain)
like "$text" "^Implementation backlog for week 2024-W02" "the week's digest"
like "$text" "^  IE-3  incomplete  69 days  Gamma  CE carla.ce@corp.example  missing: salesforce_url" "incomplete entries need attention"
like "$text" "^  IE-1  69 days since handoff  PAST TARGET  Alpha" "in implementation, flagged past 30 days"
like "$text" "^  IE-2  Beta: 69 days from handoff to live \(past the target\)" "went live this week, with the duration"
like "$text" "^    IE-1  P1  Alpha  CE carla.ce@corp.example  IE ian.ie@corp.example  PM paula.pm@corp.example  69 days  TDD signed off  checklist 0/9" \
	"entries by status with priority, people, days, TDD and checklist"
like "$(printf '%s' "$out" | grep '^From:')" "implementation@corp.example" "from the implementation mailbox"
is "$(mp digest backlog | cut -d' ' -f1-5)" "backlog digest for 2024-W02 queued" "queued for the ISO week"
is "$(MAILPROC_NOW=2024-01-14T23:59:00Z mp digest backlog)" "already sent for 2024-W02" "once per ISO week"
like "$(MAILPROC_NOW=2024-01-15T00:01:00Z mp digest backlog)" "for 2024-W03 queued" "a new week is a new period"
is "$(MAILPROC_NOW=2024-01-15T00:01:00Z mp digest backlog --dry-run | part text/plain | grep -c 'Beta: ')" "0" \
	"entries live in an earlier week are not listed as went live"
mp digest nonsense 2>/dev/null
is "$?" "2" "an unknown digest is a usage error"

# --- the HTML in a real browser ----------------------------------------------------------
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "# chromium missing: the browser check is skipped"
else
	for which in trial-queue backlog; do
		MAILPROC_NOW=2024-01-09T12:00:00Z mp digest "$which" --dry-run | part text/html >"$work/$which.html"
		dom=$(timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$work/chromium-$which" --dump-dom "file://$work/$which.html" 2>/dev/null)
		tables=$(printf '%s' "$dom" | grep -o '<table id="[a-z_]*"' | wc -l)
		rows=$(printf '%s' "$dom" | grep -o '<tr>' | wc -l)
		if [ "$which" = trial-queue ]; then want=4; else want=4; fi
		is "$tables" "$want" "Chromium renders the $which digest's $want tables"
		ok $([ "$rows" -gt 8 ] && echo 0 || echo 1) "... with their rows ($rows)"
	done
fi

done_testing

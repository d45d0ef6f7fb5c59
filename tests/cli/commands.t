#!/bin/bash
# commands.t - the life of a ticket driven by staff commands (SPEC 2, 9):
# /start, /note, /macro, /transfer, SE /take, a refused second /take,
# /end, a customer reply reopening; spoofed staff; internal notes that must
# never reach a customer; all-or-nothing refusal.
. "$(dirname "$0")/lib.sh"

AUTH="Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example; dmarc=pass header.from=corp.example"
echo 0 >"$work/seq"
# staff FROM SUBJECT BODY [IN-REPLY-TO] [AUTH-HEADER] - a staff reply on TS-1.
staff() {
	# Runs in $(...) subshells: the counter lives in a file.
	seq_id=$(($(cat "$work/seq") + 1))
	echo "$seq_id" >"$work/seq"
	printf '%s\nFrom: %s\nTo: trialsupport@corp.example\nSubject: %s\nDate: Mon, 08 Jan 2024 10:%02d:00 +0000\nMessage-ID: <staff%d@corp.example>\nIn-Reply-To: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"${5-$AUTH}" "$1" "$2" "$((seq_id % 60))" "$seq_id" "${4:-<CAF1x7demo0001@mail.acme.example>}" "$3" >"$work/s$seq_id.eml"
	mp ingest --mailbox trialsupport "$work/s$seq_id.eml"
}
last_row() { mp outbox --json | jq -r '.[-1] | .template + ">" + (.to | join(","))'; }
count() { mp outbox --json | jq length; }

is "$(mp ingest --mailbox trialsupport "$top/tests/demo/mail/01-customer-request.eml")" "TS-1 created" "a customer request"

# --- who is staff ----------------------------------------------------------
n=$(count)
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/start" "" "X-Nothing: here")" "TS-1 updated" \
	"staff without Authentication-Results: message is kept"
is "$(mp show TS-1 --json | jq -r '.owner')" "null" "... but runs no command"
is "$(mp show TS-1 --json | jq -r '.messages[-1].visibility')" "public" "... and is treated as a customer's"
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/start" "" \
	"Authentication-Results: mx.evil.example; dkim=pass header.d=corp.example")" "TS-1 updated" \
	"Authentication-Results from an untrusted authserv-id"
is "$(mp show TS-1 --json | jq -r '.owner')" "null" "... runs no command"
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/start" "" \
	"Authentication-Results: mx.evil.example; none
Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example")" "TS-1 updated" \
	"our authserv-id planted below the topmost header"
is "$(mp show TS-1 --json | jq -r '.owner')" "null" "... runs no command"
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/start" "" \
	"Authentication-Results: mx.corp.example; dkim=fail header.d=corp.example; dmarc=fail")" "TS-1 updated" \
	"failing DKIM and DMARC"
is "$(mp show TS-1 --json | jq -r '.owner')" "null" "... run no command"
# Over 8 KiB, where a cut would end inside "header.d=corp.example.evil.test".
pre="mx.corp.example; dkim=fail header.d=evil.example header.s="
tail="; dkim=pass header.d=corp.example"
pad=$(head -c $((8192 - ${#pre} - ${#tail})) /dev/zero | tr '\0' a)
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/start" "" \
	"Authentication-Results: $pre$pad$tail.evil.test; dmarc=fail header.from=corp.example")" "TS-1 updated" \
	"an Authentication-Results of over 8 KiB"
is "$(mp show TS-1 --json | jq -r '.owner')" "null" "... is not cut into a pass"
mail jane.doe@acme.example "Re: [TS-1] hm" "<cust-start@acme.example>" \
	"In-Reply-To: <CAF1x7demo0001@mail.acme.example>" "/start
/end" >"$work/cust.eml"
mp ingest --mailbox trialsupport "$work/cust.eml" >/dev/null
is "$(mp show TS-1 --json | jq -r '.owner + " " + .messages[-1].body')" " /start
/end" "a customer typing /start runs nothing: the lines are text"

# --- /start ---------------------------------------------------------------------
is "$(staff carla.ce@corp.example "Re: [TS-1] x" $'/start\n\nHi Jane, I am looking into it.')" "TS-1 updated" "CE /start with text"
show=$(mp show TS-1 --json)
is "$(printf '%s' "$show" | jq -r '.owner + " " + .status')" "carla.ce@corp.example in_progress" "owner set, in progress"
is "$(printf '%s' "$show" | jq -r '.events[-2].action + " " + .events[-2].actor + " " + .events[-2].detail')" \
	"assigned carla.ce@corp.example carla.ce@corp.example" "assignment event with actor"
is "$(mp outbox --json | jq -r '.[-2] | .template + ">" + (.to | join(","))')" \
	"ticket-assigned>jane.doe@acme.example" "the customer is told who helps"
is "$(last_row)" "ticket-reply>jane.doe@acme.example,bob.ops@acme.example" "the text is relayed to the external participants"
reply=$(mp outbox show "$(count)" --raw)
like "$reply" "^Hi Jane, I am looking into it" "relay carries the new text"
unlike "$reply" "^/start" "relay carries no command line"
unlike "$reply" "^Auto-Submitted:" "relayed correspondence is not auto-submitted"
like "$reply" $'^From: trialsupport@corp.example\r$' "relayed from the support address"
unlike "$reply" "carla.ce@corp.example" "the staff address does not appear"
is "$(printf '%s' "$show" | jq -r '.messages[-1] | .visibility + ": " + .body')" \
	"public: Hi Jane, I am looking into it." "stored public without command lines"
n=$(count)
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/take")" "TS-1 updated" "the owner repeating /take"
is "$(count)" "$n" "... is a no-op"
is "$(staff dave.ce@corp.example "Re: [TS-1] x" "/start")" "TS-1 refused" "another CE's /start is refused"
like "$(mp outbox show "$(count)" --raw)" "TS-1 is owned by carla.ce@corp.example" "... naming the owner"

# --- /note and /macro ------------------------------------------------------------------
n=$(count)
is "$(staff carla.ce@corp.example "Re: [TS-1] x" $'/note\nSECRET-NOTE: customer is on the Enterprise plan, ARR 250k')" \
	"TS-1 updated" "/note"
is "$(count)" "$n" "a note sends nothing"
is "$(mp show TS-1 --json | jq -r '.notes[-1] | .author + " " + (.macro | tostring) + " " + .body')" \
	"carla.ce@corp.example null SECRET-NOTE: customer is on the Enterprise plan, ARR 250k" "note stored"
is "$(mp show TS-1 --json | jq -r '.messages[-1].visibility')" "internal" "the note message is internal"

is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/transfer")" "TS-1 refused" "/transfer without the macro is refused"
like "$(mp outbox show "$(count)" --raw)" "needs a complete Customer Support Ticket Request" "... saying why"

is "$(staff carla.ce@corp.example "Re: [TS-1] x" $'/macro cstr\nCustomer details: ACME Corp, 400 seats\nIssue link: not-a-url\nSummary: x')" \
	"TS-1 refused" "an incomplete macro is refused"
err=$(mp outbox show "$(count)" --raw)
like "$err" "Issue link 'not-a-url' is not an http\(s\) URL" "bad link named"
like "$err" "missing 'Consequences:'" "missing field named"
like "$err" "missing 'Time considerations:'" "every missing field named"
like "$(mp outbox --json | jq -r '.[-1] | .template + " " + (.to | join(","))')" "^command-error carla.ce@corp.example$" \
	"one error reply to the sender"

macro=$'/macro customer-support-ticket-request
/transfer

**Customer details:** ACME Corp (400 seats, SECRET-MACRO-FIELD)
- Issue link: https://issues.corp.example/browse/SUP-1234
Summary: GitLab code host cannot be added: the instance
  uses a private CA that the trial does not trust.
Consequences: the evaluation stalls; the deal (SECRET-MACRO-FIELD) slips.
Time considerations: decision meeting on Friday
Additional information: none'
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "$macro")" "TS-1 updated" "/macro then /transfer in one message"
show=$(mp show TS-1 --json)
is "$(printf '%s' "$show" | jq -r '.status')" "transfer_requested" "status transfer_requested"
is "$(printf '%s' "$show" | jq -c '.notes[-1].fields')" \
	'{"customer_details":"ACME Corp (400 seats, SECRET-MACRO-FIELD)","issue_link":"https://issues.corp.example/browse/SUP-1234","summary":"GitLab code host cannot be added: the instance uses a private CA that the trial does not trust.","consequences":"the evaluation stalls; the deal (SECRET-MACRO-FIELD) slips.","time_considerations":"decision meeting on Friday","additional_information":"none"}' \
	"macro fields stored with snake_case keys, wrapped value joined"
is "$(printf '%s' "$show" | jq -r '.notes[-1].macro')" "customer-support-ticket-request" "note names its macro"
is "$(last_row)" "ticket-transfer-request>se-team@corp.example" "transfer request to the SE list"
tr=$(mp outbox show "$(count)" --raw)
like "$tr" "Reply /take to own TS-1" "... asking for /take"
like "$tr" "SUP-1234" "... with the macro fields"

# --- SE /take, second /take, /transfer ADDRESS --------------------------------------
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/take")" "TS-1 refused" "a CE cannot /take a transfer request"
is "$(staff sam.se@corp.example "Re: [TS-1] x" "/take")" "TS-1 updated" "the first SE's /take"
show=$(mp show TS-1 --json)
is "$(printf '%s' "$show" | jq -r '.owner + " " + .status')" "sam.se@corp.example in_progress" "SE owns it"
is "$(last_row)" "ticket-transferred>sam.se@corp.example,carla.ce@corp.example,jane.doe@acme.example" \
	"new owner, previous owner and requester told"
is "$(staff sally.se@corp.example "Re: [TS-1] x" "/take")" "TS-1 refused" "a second SE's /take is refused"
like "$(mp outbox show "$(count)" --raw)" "owned by sam.se@corp.example" "... with who has it"
is "$(staff sam.se@corp.example "Re: [TS-1] x" "/transfer dave.ce@corp.example")" "TS-1 refused" \
	"/transfer to an address without the se role is refused"
is "$(staff sam.se@corp.example "Re: [TS-1] x" "/transfer sally.se@corp.example")" "TS-1 updated" \
	"/transfer ADDRESS to another SE"
is "$(mp show TS-1 --json | jq -r .owner)" "sally.se@corp.example" "direct transfer"

# --- all or nothing --------------------------------------------------------------------------
n=$(count)
before=$(mp show TS-1 --json | jq -c '{priority, status, owner, n: (.events | length)}')
is "$(staff sally.se@corp.example "Re: [TS-1] x" $'/priority high\n/frobnicate\n/priority extreme')" "TS-1 refused" \
	"one bad command refuses the message"
is "$(mp show TS-1 --json | jq -c '{priority, status, owner, n: (.events | length - 1)}')" "$before" \
	"nothing applied (only the refusal event added)"
is "$(count)" "$((n + 1))" "exactly one reply"
err=$(mp outbox show "$(count)" --raw)
like "$err" "/frobnicate: unknown command" "unknown command reported"
like "$err" "/priority: 'extreme' is not a priority" "bad argument reported"
is "$(mp show TS-1 --json | jq -r '.messages[-1].visibility')" "internal" "a refused message is stored internal"
is "$(staff sally.se@corp.example "Re: [TS-1] x" "/priority urgent")" "TS-1 updated" "/priority"
is "$(mp show TS-1 --json | jq -r .priority)" "urgent" "priority set"

# --- /end and reopening --------------------------------------------------------------------
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/end")" "TS-1 refused" "only the owner can /end"
is "$(staff sally.se@corp.example "Re: [TS-1] x" "/end")" "TS-1 updated" "owner /end"
is "$(mp show TS-1 --json | jq -r .status)" "ended" "ended"
is "$(last_row)" "ticket-ended>jane.doe@acme.example" "closing notice to the customer"
is "$(staff sally.se@corp.example "Re: [TS-1] x" "/end")" "TS-1 refused" "/end on an ended ticket"
mail jane.doe@acme.example "Re: [TS-1] still broken" "<jane-again@acme.example>" \
	"In-Reply-To: <CAF1x7demo0001@mail.acme.example>" "It is still broken." >"$work/again.eml"
is "$(mp ingest --mailbox trialsupport "$work/again.eml")" "TS-1 updated" "customer replies after the end"
is "$(mp show TS-1 --json | jq -r '.status + " " + .owner')" "in_progress sally.se@corp.example" "reopened to the owner"
is "$(last_row)" "ticket-update-owner>sally.se@corp.example" "the owner is told"
is "$(staff sally.se@corp.example "Re: [TS-1] x" "/reopen")" "TS-1 refused" "/reopen on an open ticket is refused"
staff sally.se@corp.example "Re: [TS-1] x" "/end" >/dev/null
is "$(staff carla.ce@corp.example "Re: [TS-1] x" "/reopen")" "TS-1 updated" "/reopen by staff"
is "$(mp show TS-1 --json | jq -r .status)" "in_progress" "back to the previous open status"

# --- HTML-only staff mail with commands ------------------------------------------------------
cat >"$work/html.eml" <<EOF
$AUTH
From: Carla <carla.ce@corp.example>
To: trialsupport@corp.example
Subject: Re: [TS-1] x
Message-ID: <html-cmd@corp.example>
In-Reply-To: <CAF1x7demo0001@mail.acme.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<div dir="ltr"><div>/note</div><div>SECRET-HTML-NOTE checked the logs</div><br><div class="gmail_quote"><div class="gmail_attr">On Mon, Jan 8, 2024 at 10:02 AM Jane &lt;jane.doe@acme.example&gt; wrote:<br></div><blockquote class="gmail_quote">/end</blockquote></div></div>
EOF
is "$(mp ingest --mailbox trialsupport "$work/html.eml")" "TS-1 updated" "commands in an HTML-only message"
is "$(mp show TS-1 --json | jq -r '.notes[-1].body')" "SECRET-HTML-NOTE checked the logs" "note read from converted HTML"
is "$(mp show TS-1 --json | jq -r .status)" "in_progress" "a command in the quoted history is not run"

# --- internal stays internal: scan every message to an external address -----------------------
leaks=0
for id in $(mp outbox --json | jq -r '.[].id'); do
	to=$(mp outbox --json | jq -r ".[] | select(.id == $id) | .to[]")
	external=$(printf '%s\n' "$to" | grep -v '@corp\.example$' || true)
	[ -n "$external" ] || continue
	if mp outbox show "$id" --raw | grep -q 'SECRET-'; then
		leaks=$((leaks + 1))
		echo "# outbox $id to $external leaks internal text"
	fi
done
is "$leaks" "0" "no note, macro field or staff notice text in any message to an external address"
is "$(mp outbox --json | jq '[.[] | select(.status == "failed")] | length')" "0" "and none had to be refused"

done_testing

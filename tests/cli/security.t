#!/bin/bash
# security.t - the security rules of SPEC 2, 3 and 9 as tests (issue 7,
# item 5), offline through `mailproc ingest`:
#   1. spoofed staff: a staff From: without a trusted, passing, topmost
#      Authentication-Results runs no command, on tickets and on backlog
#      entries, and gets nothing a customer would not get;
#   2. subject-tag hijack: a [TS-n] tag from an outsider opens a new ticket;
#   3. internal stays internal: canaries in every note, macro field,
#      refused command, backlog field and staff-only template, and a scan
#      of every rendered outbox message (outbox-check.py);
#   4. header injection: CR/LF raw, encoded and folded in subjects, display
#      names, form values, macro values and notes; every outgoing message
#      has exactly the expected header fields;
#   5. SQL-looking input is stored and shown verbatim, the tables stay
#      whole, and % and _ are literal in every lookup.
# SEC_KEEP=DIR keeps the scanned outbox (outbox.json and N.eml) in DIR.
. "$(dirname "$0")/lib.sh"

GOOD="Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example; dmarc=pass header.from=corp.example"
TS1_ROOT="<CAF1x7demo0001@mail.acme.example>"
IE1_ROOT="<demo-impl-0005@corp.example>"

# Every template gets a marker "ZQT-NAME" at the end of its text, so the
# scan knows which template text a message carries.
mkdir -p "$work/tpl"
for f in "$top"/templates/*.txt; do
	name=$(basename "$f" .txt)
	{ cat "$f"; printf '\nZQT-%s\n' "$name"; } >"$work/tpl/$name.txt"
done
printf '\n[templates]\ndir = %s\n' "$work/tpl" >>"$conf"

echo 0 >"$work/seq"
# eml HEADERS BODY - writes a message with a fresh Message-ID (unless
# HEADERS has one) and prints its file name.  HEADERS are lines.
eml() {
	local n
	n=$(($(cat "$work/seq") + 1))
	echo "$n" >"$work/seq"
	{
		printf '%s\n' "$1"
		case $1 in *Message-ID:* | *Message-Id:*) ;; *) printf 'Message-ID: <sec%d@mail.test>\n' "$n" ;; esac
		printf 'Date: Mon, 08 Jan 2024 09:%02d:00 +0000\n' "$((n % 60))"
		case $1 in *Content-Type:*) ;; *) printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n' ;; esac
		printf '\n%s\n' "$2"
	} >"$work/m$n.eml"
	echo "$work/m$n.eml"
}
# ts FROM-LINE AUTH-LINES SUBJECT BODY [IN-REPLY-TO] - a message to
# trialsupport@; prints the file name.
ts() {
	eml "${2:+$2
}From: $1
To: trialsupport@corp.example
Subject: $3${5:+
In-Reply-To: $5}" "$4"
}
ie() { # the same to implementation@
	eml "${2:+$2
}From: $1
To: implementation@corp.example
Subject: $3${5:+
In-Reply-To: $5}" "$4"
}
ingest_ts() { mp ingest --mailbox trialsupport "$@" 2>>"$work/stderr"; }
ingest_ie() { mp ingest --mailbox implementation "$@" 2>>"$work/stderr"; }
rows() { mp outbox --json | jq length; }
# new_rows N - the outbox rows after the first N, as "template>to,to".
new_rows() { mp outbox --json | jq -r ".[$1:][] | .template + \">\" + (.to | join(\",\"))"; }

# --- set-up: TS-1 unowned, TS-2 owned by Carla with a macro, IE-1 -----------
is "$(ingest_ts "$top/tests/demo/mail/01-customer-request.eml")" "TS-1 created" "TS-1: a customer request"
is "$(ingest_ts "$(ts "Ken <ken@initech.example>" "" "SSO question" "How do I set up SSO?" )")" "TS-2 created" "TS-2"
TS2_ROOT=$(mp show TS-2 --json | jq -r '.messages[0].message_id')
macro='/macro cstr

Customer details: Initech, 50 seats
Issue link: https://issues.corp.example/SUP-2
Summary: SSO setup
Consequences: trial stalls
Time considerations: none'
is "$(ingest_ts "$(ts carla.ce@corp.example "$GOOD" "Re: SSO question" $'/start\n/note set-up' "$TS2_ROOT")" \
	"$(ts carla.ce@corp.example "$GOOD" "Re: SSO question" "$macro" "$TS2_ROOT")")" \
	"$(printf 'TS-2 updated\nTS-2 updated')" "TS-2: Carla /start and /macro (authenticated)"
is "$(ingest_ie "$top/tests/demo/mail/06-implementation-request.eml")" "IE-1 created" "IE-1: a forwarded form"

# state - what a command could change on TS-1, TS-2 and IE-1.
state() {
	{ mp show TS-1 --json; mp show TS-2 --json; mp show IE-1 --json; } | jq -sc 'map({id, status, owner, priority,
		notes: (.notes | length),
		commands: [.events[] | .action | select(. != "customer_reply" and . != "message")],
		internal: [(.messages // [])[] | select(.visibility == "internal")] | length,
		fields: [.customer_name, .salesforce_url, .tdd_url, .ae, .ie, .pm, .size, .risk, .tdd_signed_off, .requirements]})'
}
base=$(state)

# --- 1. spoofed staff -----------------------------------------------------------
# spoof LABEL CARLA-FROM PAULA-FROM AUTH-LINES - Carla (ce, owner of TS-2)
# and Paula (pm) send, with AUTH-LINES on top, every kind of command block:
# on TS-1 /start /priority with text meant for the customer, /macro +
# /transfer, /note; on TS-2 /end; on IE-1 /triage /qualify /note, and a
# form-field change.  Nothing may change, nothing may be relayed, and the
# sender gets nothing (a customer's follow-up gets no reply either).  The
# real Carla owns TS-2, so she is told of the "customer" message there.
nspoof=0
spoof() {
	local label=$1 carla=$2 paula=$3 auth=$4 n out
	nspoof=$((nspoof + 1))
	n=$(rows)
	out=$(ingest_ts "$(ts "$carla" "$auth" "Re: [TS-1] x" $'/start\n/priority urgent\n\nDear Jane, please re-enter your password at https://evil.test/login' "$TS1_ROOT")" \
		"$(ts "$carla" "$auth" "Re: [TS-1] x" "${macro/\/macro cstr/$'/macro cstr\n/transfer'}" "$TS1_ROOT")" \
		"$(ts "$carla" "$auth" "Re: [TS-1] x" "/note spoofed note" "$TS1_ROOT")" \
		"$(ts "$carla" "$auth" "Re: [TS-2] x" "/end" "$TS2_ROOT")")
	out="$out
$(ingest_ie "$(ie "$paula" "$auth" "Re: x" $'/triage priority=P1 size=XL risk=high\n/qualify\n/note spoofed' "$IE1_ROOT")" \
		"$(ie "$paula" "$auth" "Re: x" $'Link to TDD: https://evil.test/tdd\nAE: mallory@evil.test' "$IE1_ROOT")")"
	is "$out" "$(printf 'TS-1 updated\nTS-1 updated\nTS-1 updated\nTS-2 updated\nIE-1 updated\nIE-1 updated')" \
		"spoof ($label): every message kept as a customer's, none refused"
	is "$(state)" "$base" "spoof ($label): no command ran, no field changed"
	# What a customer's follow-up gets: the team told on the unowned TS-1,
	# the owner on TS-2; nothing to the sender, nothing to the customers.
	is "$(new_rows "$n" | sort | paste -sd' ')" \
		"ticket-update-owner>carla.ce@corp.example ticket-update-owner>trial-team@corp.example ticket-update-owner>trial-team@corp.example ticket-update-owner>trial-team@corp.example" \
		"spoof ($label): only the notices of a customer's follow-up"
}

spoof "no Authentication-Results" carla.ce@corp.example paula.pm@corp.example ""
spoof "dmarc=fail, dkim=fail" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; dkim=fail header.d=corp.example; dmarc=fail header.from=corp.example"
spoof "dkim=pass for an unrelated domain" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; dkim=pass header.d=evil.test; dmarc=fail header.from=corp.example"
spoof "dkim=pass for a lookalike domain corp.example.evil.test" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example.evil.test"
spoof "dkim=pass for a subdomain of the From domain (not a parent)" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; dkim=pass header.d=mail.corp.example"
spoof "dmarc=pass for another header.from" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; dmarc=pass header.from=evil.test"
spoof "spf=pass only" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; spf=pass smtp.mailfrom=corp.example"
spoof "dkim=pass with header.i but no header.d" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; dkim=pass header.i=@corp.example"
spoof "untrusted authserv-id" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.evil.test; dkim=pass header.d=corp.example; dmarc=pass header.from=corp.example"
spoof "lookalike authserv-id mx.corp.example.evil.test" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example.evil.test; dmarc=pass header.from=corp.example"
spoof "our authserv-id only inside a comment" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.evil.test (mx.corp.example); dmarc=pass header.from=corp.example"
spoof "a pass only inside a comment" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; dmarc=fail (dmarc=pass header.from=corp.example) header.from=corp.example"
spoof "untrusted pass placed above a pass with our authserv-id" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.evil.test; dmarc=pass header.from=corp.example
$GOOD"
spoof "ours placed below a foreign topmost 'none'" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.evil.test; none
$GOOD"
spoof "ours placed below our own failing topmost" carla.ce@corp.example paula.pm@corp.example \
	"Authentication-Results: mx.corp.example; dkim=fail header.d=corp.example; dmarc=fail header.from=corp.example
$GOOD"
spoof "ours below the From: and another topmost" carla.ce@corp.example paula.pm@corp.example \
	"Received: from mx.evil.test by mx.corp.example; Mon, 08 Jan 2024 09:00:00 +0000
Authentication-Results: mx.evil.test; dmarc=pass header.from=corp.example
X-Filler: yes
$GOOD"
spoof "display name that looks like staff (quoted)" '"carla.ce@corp.example" <mallory@evil.test>' \
	'"paula.pm@corp.example" <mallory@evil.test>' \
	"Authentication-Results: mx.corp.example; dkim=pass header.d=evil.test; dmarc=pass header.from=evil.test"
spoof "display name that looks like staff (encoded word)" '=?utf-8?q?carla.ce=40corp.example?= <mallory@evil.test>' \
	'=?utf-8?q?paula.pm=40corp.example?= <mallory@evil.test>' \
	"Authentication-Results: mx.corp.example; dkim=pass header.d=evil.test; dmarc=pass header.from=evil.test"
spoof "staff domain as a prefix of a lookalike (corp.example.evil.test)" carla.ce@corp.example.evil.test \
	paula.pm@corp.example.evil.test \
	"Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example.evil.test; dmarc=pass header.from=corp.example.evil.test"
spoof "staff domain as a suffix without a dot (evilcorp.example)" carla.ce@evilcorp.example paula.pm@evilcorp.example \
	"Authentication-Results: mx.corp.example; dkim=pass header.d=evilcorp.example; dmarc=pass header.from=evilcorp.example"
spoof "a Unicode lookalike of the staff domain" "carla.ce@corp.ex$(printf '\xd0\xb0')mple" "paula.pm@corp.ex$(printf '\xd0\xb0')mple" \
	"Authentication-Results: mx.corp.example; dmarc=pass header.from=xn--corp.exmple-dbj"
spoof "two From addresses, staff first, the other one authenticated" 'carla.ce@corp.example, mallory@evil.test' \
	'paula.pm@corp.example, mallory@evil.test' \
	"Authentication-Results: mx.corp.example; dkim=pass header.d=evil.test; dmarc=pass header.from=evil.test"
spoof "Sender: is staff, From: is not" "mallory@evil.test
Sender: carla.ce@corp.example" "mallory@evil.test
Sender: paula.pm@corp.example" "$GOOD"
# RFC 8601 values may be quoted strings, and some (smtp.mailfrom, the
# DKIM selector) are the sender's choice: a ';' or a space inside quotes
# must not start a new result or property.
spoof "a ';' inside a quoted smtp.mailfrom starts no new result" carla.ce@corp.example paula.pm@corp.example \
	'Authentication-Results: mx.corp.example; spf=none smtp.mailfrom="x;dmarc=pass "@evil.test'
spoof "a second header.d inside a quoted selector" carla.ce@corp.example paula.pm@corp.example \
	'Authentication-Results: mx.corp.example; dkim=pass header.d=evil.test header.s="s header.d=corp.example"'
# A long field must not be cut where an unaligned header.d reads as an
# aligned one ("header.d=corp.example|.evil.test").
pre="Authentication-Results: mx.corp.example; dkim=fail header.d=evil.test header.s="
tail="; dkim=pass header.d=corp.example"
field="Authentication-Results: "
pad=$(head -c $((8192 - (${#pre} - ${#field}) - ${#tail})) /dev/zero | tr '\0' a)
spoof "an 8 KiB field whose cut would end inside header.d" carla.ce@corp.example paula.pm@corp.example \
	"$pre$pad$tail.evil.test; dmarc=fail header.from=corp.example"
echo "# spoofing matrix: $nspoof variants x 6 messages"
is "$(mp show TS-1 --json | jq -r '[.messages[] | select(.body | startswith("/start\n/priority urgent"))] | (map(.visibility) | unique | join(" ")) + " " + (length | tostring)')" \
	"public $nspoof" "every forged command block is stored as public text, its command lines kept"

# The same messages from the real Carla and Paula, authenticated, do run:
# the matrix above could have failed.
n=$(rows)
out=$(ingest_ts "$(ts "Carla <carla.ce@corp.example>" "$GOOD" "Re: [TS-1] x" $'/start\n/priority urgent\n\nHi Jane, looking into it.' "$TS1_ROOT")" \
	"$(ts carla.ce@corp.example "$GOOD" "Re: [TS-2] x" "/end" "$TS2_ROOT")")
out="$out
$(ingest_ie "$(ie paula.pm@corp.example "$GOOD" "Re: x" $'/triage priority=P1 size=XL risk=high\n/qualify\n/note real' "$IE1_ROOT")" \
	"$(ie paula.pm@corp.example "$GOOD" "Re: x" $'Link to TDD: https://docs.corp.example/tdd/initech-v2' "$IE1_ROOT")")"
is "$out" "$(printf 'TS-1 updated\nTS-2 updated\nIE-1 updated\nIE-1 updated')" "control: authenticated staff, same commands"
is "$(mp show TS-1 --json | jq -r '.owner + " " + .priority')" "carla.ce@corp.example urgent" "control: /start and /priority ran"
is "$(mp show TS-2 --json | jq -r .status)" "ended" "control: /end ran"
is "$(mp show IE-1 --json | jq -r '.status + " " + .priority + " " + .tdd_url')" \
	"qualified P1 https://docs.corp.example/tdd/initech-v2" "control: /triage, /qualify and the field change ran"
like "$(new_rows "$n")" '^ticket-reply>jane\.doe@acme\.example' "control: the text was relayed"

# Mail to implementation@ from a forged staff From: is a customer's mail
# there too: a new request is quarantined, a tag joins nothing.
n=$(mp backlog --json | jq length)
form=$(sed '1,/^$/d' "$top/tests/demo/mail/06-implementation-request.eml")
like "$(ingest_ie "$(ie carla.ce@corp.example "" "Implementation request: Umbrella" "$form")")" \
	"^quarantined: implementation requests are accepted from authenticated staff only" \
	"a forged staff request to implementation@ is quarantined"
like "$(ingest_ie "$(ie paula.pm@corp.example "Authentication-Results: mx.evil.test; dmarc=pass header.from=corp.example" \
	"Re: [IE-1] x" $'/live\nLink to TDD: https://evil.test/tdd')")" "^quarantined: " \
	"a forged [IE-1] tag from a non-participant opens nothing"
like "$(ingest_ie "$(ie carla.ce@corp.example "" "Re: [IE-1] x" $'/live\nLink to TDD: https://evil.test/tdd')")" "^IE-1 updated$" \
	"a forged [IE-1] tag from a participant joins IE-1 ..."
is "$(mp show IE-1 --json | jq -r '.status + " " + .tdd_url')" "qualified https://docs.corp.example/tdd/initech-v2" \
	"... and changes nothing"
is "$(mp backlog --json | jq length)" "$n" "no entry was created"

# --- 2. subject-tag hijack (SPEC 3) ---------------------------------------------
ts1_msgs() { mp show TS-1 --json | jq '.messages | length'; }
# hijack LABEL FROM-LINE AUTH SUBJECT [EXTRA-HEADER] - an outsider's new mail
# with a tag: a new ticket, nothing added to TS-1.
hijack() {
	local before out id
	before=$(ts1_msgs)
	out=$(ingest_ts "$(eml "${3:+$3
}From: $2
To: trialsupport@corp.example
Subject: $4${5:+
$5}" "Please send me everything about this ticket.")")
	like "$out" '^TS-[0-9]+ created$' "hijack ($1): a new ticket"
	is "$(ts1_msgs)" "$before" "hijack ($1): TS-1 got nothing"
	id=${out% created}
	printf '%s\n' "$id" >"$work/hijack-last"
}
hijack "an outsider's [TS-1]" eve@outsider.example "" "Re: [TS-1] give me the logs"
id=$(cat "$work/hijack-last")
unlike "$(mp show TS-1 --json | jq -r '.participants[]')" "eve@" "the outsider is not a participant of TS-1"
ack=$(mp outbox --json | jq -r --arg id "$id" '[.[] | select(.ticket == $id and .template == "ticket-ack")][0].id')
ackraw=$(mp outbox show "$ack" --raw)
like "$ackraw" "^Subject: \\[$id\\] " "the outsider's acknowledgement names the new ticket first"
unlike "$ackraw" "Cannot connect our GitLab|certificate signed" "and nothing of TS-1"
hijack "lower-case [ts-1]" eve@outsider.example "" "Re: [ts-1] logs"
hijack "[TS-01]" eve@outsider.example "" "Re: [TS-01] logs"
hijack "[TS-1] and an unknown In-Reply-To" eve@outsider.example "" "Re: [TS-1] logs" "In-Reply-To: <nothing-known@outsider.example>"
hijack "[TS-1] and References naming no message of ours" eve@outsider.example "" "Re: [TS-1] logs" \
	"References: <a@outsider.example> <CAF1x7demo0001@mail.acme.example.outsider.example>"
hijack "the requester's address as display name" '"jane.doe@acme.example" <eve@outsider.example>' "" "Re: [TS-1] logs"
hijack "a lookalike of the requester's domain" jane.doe@acme.example.outsider.example "" "Re: [TS-1] logs"
hijack "staff domain without authentication" dave.ce@corp.example "" "Re: [TS-1] logs"
hijack "staff with a failing authentication" dave.ce@corp.example \
	"Authentication-Results: mx.corp.example; dmarc=fail header.from=corp.example" "Re: [TS-1] logs"
hijack "an unknown ticket [TS-999]" eve@outsider.example "" "Re: [TS-999] logs"
hijack "[TS-2], an ended ticket" eve@outsider.example "" "Re: [TS-2] logs"
is "$(mp show TS-2 --json | jq -r .status)" "ended" "TS-2 stays ended"
# What SPEC 3 allows: the requester (in any letter case), a participant,
# authenticated staff; the owner, per README, even unauthenticated, but
# as a customer: a command from them is text.
n=$(ts1_msgs)
is "$(ingest_ts "$(ts JANE.DOE@ACME.EXAMPLE "" "Re: [TS-1] more" "More details.")")" "TS-1 updated" \
	"the requester's tag joins TS-1 (address case ignored)"
is "$(ingest_ts "$(ts bob.ops@acme.example "" "Re: [TS-1] me too" "Same here.")")" "TS-1 updated" "a Cc participant's tag joins TS-1"
is "$(ingest_ts "$(ts dave.ce@corp.example "$GOOD" "Re: [TS-1] x" "/note seen it")")" "TS-1 updated" \
	"authenticated staff's tag joins TS-1"
is "$(ingest_ts "$(ts carla.ce@corp.example "" "Re: [TS-1] x" "/end")")" "TS-1 updated" "the unauthenticated owner's tag joins TS-1 ..."
is "$(mp show TS-1 --json | jq -r '.status + " " + .messages[-1].visibility + " " + .messages[-1].body')" \
	"in_progress public /end" "... as a customer: /end is text"
is "$(ts1_msgs)" "$((n + 4))" "TS-1 has the four messages"
# The hijacker's own tag leads to the hijacker's own ticket.
is "$(ingest_ts "$(ts eve@outsider.example "" "Re: [$id] Re: Re: [TS-1] give me the logs" "And?")")" "$id updated" \
	"the outsider's next mail, tagged with both, joins the outsider's ticket"

# --- 3. internal stays internal: the scenarios --------------------------------
# Internal text carries canaries ZQX<word>, staff text meant for the
# customer ZQP<word>, the customer's own text ZQC<word>; the scan of
# section 6 reads every outbox message.
root() { mp show "$1" --json | jq -r '.messages[0].message_id'; }
out=$(ingest_ts "$(eml 'From: Lena <lena@client.example>
To: trialsupport@corp.example
Cc: Otto <otto@client.example>, carla.ce@corp.example
Subject: VPN profile import fails ZQPsubject' $'Hello,\n\nthe VPN profile will not import. ZQCcustomer1\n\nLena')")
like "$out" '^TS-[0-9]+ created$' "leak scenarios: a ticket with an external and a staff Cc"
L=${out% created}
R=$(root "$L")
is "$(mp show "$L" --json | jq -c .participants)" '["lena@client.example","otto@client.example"]' \
	"the staff Cc is not a participant"
sig=$'\n\n-- \nCarla, customer engineering | ZQXsignature1 | internal desk 4711'
leak_steps=(
	"carla.ce@corp.example|/start|Hi Lena, I am on it. ZQPrelay1$sig"
	"carla.ce@corp.example|/note ZQXnoteinline1|ZQXnotebody1: customer is on the legacy plan, ARR 80k"
	"carla.ce@corp.example|/note|ZQXnotebody2 déjà vu: rabais de 40 % ☕ ünïcödé"
	"carla.ce@corp.example|/priority high|Déjà vu, Lena: café ☕ ZQPrelay2 (non-ASCII, so encoded)"
	"carla.ce@corp.example|/macro cstr
/transfer|Customer details: ZQXmacrocust Client Corp, 2000 seats
Issue link: https://issues.corp.example/browse/SUP-77?ZQXmacrolink
Summary: ZQXmacrosummary profile import fails on
  macOS 14 with the managed certificate
Consequences: ZQXmacroconseq the renewal (ZQXmacrodeal) slips
Time considerations: ZQXmacrotime board meeting Friday
Additional information: ZQXmacroadd see the internal wiki"
	"sam.se@corp.example|/take|"
	"sam.se@corp.example||ZQPrelay3 Lena, please try the attached steps.

On Mon, 8 Jan 2024 at 10:00, trialsupport@corp.example wrote:
> carla.ce@corp.example asks support engineering to take over
> Customer details:        ZQXmacrocust Client Corp, 2000 seats
> Summary:                 ZQXmacrosummary
> ZQT-ticket-transfer-request"
	"sam.se@corp.example||ZQPrelay4 One more thing, Lena.

-----Original Message-----
From: trialsupport@corp.example
Sent: Monday, January 8, 2024 10:00 AM
To: se-team@corp.example
Subject: Transfer request

Customer details:        ZQXmacrocust Client Corp
Consequences:            ZQXmacroconseq
ZQT-ticket-transfer-request"
	"sam.se@corp.example||ZQPrelay5 And finally.

________________________________
From: Trial Support <trialsupport@corp.example>
Sent: Monday, January 8, 2024 10:00
To: se-team@corp.example
Subject: Transfer request

Time considerations:     ZQXmacrotime
ZQT-ticket-transfer-request"
	"sam.se@corp.example|/note ZQXrefused1
/frobnicate|ZQXrefusedtext1 this block is refused, so it is internal"
	"sam.se@corp.example|/priority urgent|"
	"sam.se@corp.example|/note|ZQXnotebody3 escalated to the vendor"
	"sam.se@corp.example|/end|"
)
i=0
for step in "${leak_steps[@]}"; do
	i=$((i + 1))
	who=${step%%|*}
	rest=${step#*|}
	cmds=${rest%%|*}
	text=${rest#*|}
	body=$cmds${cmds:+${text:+$'\n\n'}}$text
	subject="Re: [$L] VPN profile"
	# The third note (step 12) has a canary in its subject line.
	[ "$i" = 12 ] && subject="Re: [$L] ZQXsubjectline internal escalation"
	out=$(ingest_ts "$(ts "$who" "$GOOD" "$subject" "$body" "$R")")
	case $cmds in
	*frobnicate*) is "$out" "$L refused" "leak step $i (refused block)" ;;
	*) is "$out" "$L updated" "leak step $i ($who ${cmds%%$'\n'*})" ;;
	esac
done
# An HTML-only staff reply that quotes the internal transfer request.
is "$(ingest_ts "$(eml "$GOOD
From: Sam <sam.se@corp.example>
To: trialsupport@corp.example
Subject: Re: [$L] VPN profile
In-Reply-To: $R
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8" "<div>/reopen</div><div><br></div><div>ZQPrelay6 Reopened, Lena: one more check.</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, Jan 8, 2024 at 10:00 AM Trial Support &lt;trialsupport@corp.example&gt; wrote:<br></div><blockquote class=\"gmail_quote\">Customer details: ZQXmacrocust<br>Issue link: ZQXmacrolink<br>ZQT-ticket-transfer-request</blockquote></div>")")" \
	"$L updated" "an HTML-only staff reply with a quoted internal notice"
is "$(ingest_ts "$(ts lena@client.example "" "Re: [$L] VPN profile" "Works now, thanks. ZQCcustomer2" "$R")")" "$L updated" \
	"the customer writes again"
show=$(mp show "$L" --json)
is "$(printf '%s' "$show" | jq -r '.status + " " + .owner + " " + (.notes | length | tostring)')" "in_progress sam.se@corp.example 4" \
	"the leak ticket: reopened, owned by Sam, four notes (the refused one is none)"
is "$(printf '%s' "$show" | jq -r '[.messages[].visibility] | join(" ")')" \
	"public public internal internal public internal internal public public public internal internal internal internal public public" \
	"every message public or internal as SPEC 9 says"

# The backlog is staff-only: an entry whose AE is (wrongly) an external
# address runs its whole life; every notice to it is refused by the guard.
bform='Jointly-Managed Implementation Request
- Customer Name: ZQXbacklogcust Client Corp
- Link to Salesforce Opportunity: https://corp.my.salesforce.example/006ZQXsfdc
- Link to TDD: https://docs.corp.example/tdd/ZQXtdd
- Expected Deployment Type: Kubernetes
- Expected Hosting Provider: GCP
- Additional Information (if needed): ZQXbacklogadd budget approved by the CFO
- Segment: Enterprise
- AE: ae@client.example
- ARR: 120000'
out=$(ingest_ie "$(ie carla.ce@corp.example "$GOOD" "Implementation request: Client Corp" "$bform")")
like "$out" '^IE-[0-9]+ created$' "backlog scenario: intake"
E=${out% created}
ER=$(sqlite3 "$db" "SELECT root_message_id FROM entries WHERE id = '$E'")
for step in "paula.pm@corp.example|/triage priority=P2 size=L risk=medium" \
	"paula.pm@corp.example|/qualify" \
	"paula.pm@corp.example|/assign ie=ian.ie@corp.example pm=paula.pm@corp.example" \
	"ian.ie@corp.example|/signoff tdd" "paula.pm@corp.example|/handoff" "ian.ie@corp.example|/done timelines" \
	"ian.ie@corp.example|/note
ZQXbacklognote the customer's CISO is difficult" \
	"ian.ie@corp.example|/live"; do
	is "$(ingest_ie "$(ie "${step%%|*}" "$GOOD" "Re: [$E] x" "${step#*|}" "$ER")")" "$E updated" "backlog scenario: ${step#*|}"
done
out=$(ingest_ie "$(ie carla.ce@corp.example "$GOOD" "Implementation request: Small Co" "${bform/Enterprise/SMB}")")
E2=${out% created}
is "$(ingest_ie "$(ie paula.pm@corp.example "$GOOD" "Re: [$E2] x" "/disqualify ZQXdisqreason SMB, no services")")" "$E2 updated" \
	"backlog scenario: /disqualify"
like "$(ingest_ie "$(ie carla.ce@corp.example "$GOOD" "Implementation request: half" $'Customer Name: ZQXbacklogcust2 Half Corp\nLink to TDD: not a link')")" \
	'^IE-[0-9]+ created$' "backlog scenario: an incomplete form"
# Quarantine notices and digests go to staff.
like "$(ingest_ts "$(eml 'To: trialsupport@corp.example
Subject: ZQXquarantinesubject no sender here' 'body')")" "^quarantined: no usable From" "quarantine scenario"
mp digest trial-queue >/dev/null 2>>"$work/stderr"
ok $? "digest scenario: trial-queue"
mp digest backlog >/dev/null 2>>"$work/stderr"
ok $? "digest scenario: backlog"

# --- 4. header injection --------------------------------------------------------
# Every attempt names a recipient at inject.test; none may become one, and
# section 6 checks the header block of every outgoing message.
b64=$(printf 'Help\r\nBcc: inj3@inject.test\r\n\r\nfake body' | base64 -w0)
CR=$'\r'
ninj=0
inject() { # inject LABEL FROM-LINE SUBJECT-LINE(S) [EXTRA] - a new ticket
	local out
	ninj=$((ninj + 1))
	out=$(ingest_ts "$(eml "From: $2
To: trialsupport@corp.example
Subject: $3${4:+
$4}" "Injection attempt $ninj.")")
	like "$out" '^(TS-[0-9]+ created|quarantined: .*)$' "injection ($1): an outcome"
	case $out in TS-*) printf '%s\n' "${out% created}" >>"$work/inj-tickets" ;; esac
}
inject "raw CR in Subject" inj1@client.example "Help${CR}Bcc: inj1@inject.test"
inject "Q-encoded CRLF in Subject" inj2@client.example "=?utf-8?q?Help=0D=0ABcc:_inj2@inject.test?="
inject "B-encoded CRLF CRLF in Subject" inj3@client.example "=?utf-8?b?$b64?="
inject "folded Subject, continuation looks like Bcc" inj4@client.example "Help
 Bcc: inj4@inject.test"
inject "folded Subject, tab continuation looks like To" inj4b@client.example "Help
	To: inj4b@inject.test"
inject "encoded LF, NEL and U+2028 in Subject" inj5@client.example \
	"=?utf-8?q?Help=0ABcc:_inj5@inject.test=C2=85Cc:_inj5b@inject.test=E2=80=A8To:_inj5c@inject.test?="
inject "encoded NUL in Subject" inj8@client.example "=?utf-8?q?Help=00Bcc:_inj8@inject.test?="
inject "encoded CR and LF split over two encoded words" inj11@client.example "=?utf-8?q?Help=0D?=
 =?utf-8?q?=0ABcc:_inj11@inject.test?="
inject "a long Subject full of header names (folding)" inj9@client.example \
	"Re: $(for k in $(seq 1 25); do printf 'Bcc: inj9@inject.test To: x@inject.test '; done)"
inject "encoded CRLF in the display name" '"=?utf-8?q?Eve=0D=0ABcc:_inj6@inject.test?=" <inj6@client.example>' "Display name"
inject "raw CR in a quoted display name" "\"Eve${CR}Bcc: inj7@inject.test\" <inj7@client.example>" "Display name 2"
inject "CR in the address itself" "<\"inj${CR}Bcc: inj10@inject.test\"@client.example>" "Address"
inject "encoded-word look-alike Message-ID" inj12@client.example "Message-ID look-alike" \
	"Message-ID: <=?utf-8?q?=0D=0ABcc:inj12@inject.test?=@client.example>"
inject "References full of junk" inj13@client.example "References junk" \
	"References: <a@b> junk <c
 @d> <=?x?q?=0D?=@e> $(for k in $(seq 1 40); do printf '<r%d@client.example> ' "$k"; done)"
inject "no From, an injected Subject (quarantine notice)" "" "=?utf-8?q?Q=0D=0ABcc:_inj19@inject.test?="
# The tickets get staff notices and relays, which carry their subjects.
for t in $(head -4 "$work/inj-tickets"); do
	ingest_ts "$(ts carla.ce@corp.example "$GOOD" "Re: [$t] x" $'/start\n\nAnswer with a fake header:\r\nBcc: inj15@inject.test\r\n\r\n.\n--=_mp_00000000\nthe end' "$(root "$t")")" >/dev/null
done
like "$(mp show "$(head -1 "$work/inj-tickets")" --json | jq -r .subject)" '^Help ?Bcc: inj1@inject\.test$' \
	"a raw CR in a subject is dropped from the stored subject"
unlike "$(mp tickets --json | jq -r '.[].subject')" $'[\r\x01-\x08]' "no stored subject holds a control character"
# Form values (the backlog-ack subject carries the customer name), an HTML
# form cell with encoded CR LF, macro values and note text.
out=$(ingest_ie "$(ie carla.ce@corp.example "$GOOD" "Implementation request: injection" "${bform/ZQXbacklogcust Client Corp/Inj${CR}Bcc: inj20@inject.test}")")
like "$out" '^IE-[0-9]+ created$' "injection (CR in a form value): an entry"
is "$(mp show "${out% created}" --json | jq -r .customer_name)" "Inj" "a CR ends the form line: the value is 'Inj'"
out=$(ingest_ie "$(eml "$GOOD
From: carla.ce@corp.example
To: implementation@corp.example
Subject: Implementation request: HTML injection
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8" "<p>Jointly-Managed Implementation Request</p><table>
<tr><td>Customer Name</td><td>HtmlInj&#13;&#10;Bcc: inj21@inject.test</td></tr>
<tr><td>Link to Salesforce Opportunity</td><td>https://corp.my.salesforce.example/006X</td></tr>
<tr><td>Link to TDD</td><td>https://docs.corp.example/tdd/x</td></tr>
<tr><td>Expected Deployment Type</td><td>=?utf-8?q?K8s=0D=0ABcc:_inj22@inject.test?=</td></tr>
<tr><td>Expected Hosting Provider</td><td>AWS</td></tr>
<tr><td>AE</td><td>alex.ae@corp.example</td></tr></table>")")
like "$out" '^IE-[0-9]+ created$' "injection (CR LF in an HTML form cell, encoded word as a value): an entry"
T=$(head -1 "$work/inj-tickets")
is "$(ingest_ts "$(ts carla.ce@corp.example "$GOOD" "Re: [$T] x" "/macro cstr
/transfer

Customer details: ACME${CR}Bcc: inj23@inject.test
Issue link: https://issues.corp.example/SUP-9
Summary: x
Consequences: none
Time considerations: none" "$(root "$T")")")" "$T refused" \
	"injection (CR in a macro value): the CR ends the line, and 'Bcc: ...' names no field"
is "$(mp outbox --json | jq -r '.[-1] | .template + ">" + (.to | join(","))')" "command-error>carla.ce@corp.example" \
	"... which only Carla is told"
is "$(ingest_ts "$(ts carla.ce@corp.example "$GOOD" "Re: [$T] x" "/macro cstr
/transfer

Customer details: =?utf-8?q?ACME=0D=0ABcc:_inj24@inject.test?=
Issue link: https://issues.corp.example/SUP-9
Summary: x
Consequences: none
Time considerations: none" "$(root "$T")")")" "$T updated" "injection (encoded word in a macro value): transfer requested"
is "$(ingest_ts "$(ts carla.ce@corp.example "$GOOD" "Re: [$T] x" "/note Note${CR}Bcc: inj25@inject.test" "$(root "$T")")")" \
	"$T updated" "injection (CR in a note): stored"
is "$(mp outbox --json | jq -r '[.[].to[] | select(test("inject"))] | length')" "0" \
	"no injected address became a recipient"
echo "# header injection: $ninj new messages, 4 relays, 2 forms, 2 macros (one refused), 1 note"

# --- 5. SQL-looking input --------------------------------------------------------
sqlsubj="'; DROP TABLE tickets; --"
sqlbody=$'" OR 1=1 --\n\'); DELETE FROM messages; --\n100% of the _ and \\ characters\nRobert\'); DROP TABLE entries;--'
out=$(ingest_ts "$(ts "\"Robert'); DROP TABLE tickets;--\" <o'brien@client.example>" "" "$sqlsubj" "$sqlbody")")
like "$out" '^TS-[0-9]+ created$' "SQL-looking subject, body, name and address: a ticket"
Q=${out% created}
show=$(mp show "$Q" --json)
is "$(printf '%s' "$show" | jq -r .subject)" "$sqlsubj" "the subject is stored verbatim"
is "$(printf '%s' "$show" | jq -r .requester)" "o'brien@client.example" "the address with an apostrophe too"
is "$(printf '%s' "$show" | jq -r '.messages[0].body')" "$sqlbody" "and the body"
is "$(ingest_ts "$(ts carla.ce@corp.example "$GOOD" "Re: [$Q] x" "/note '); DELETE FROM notes; -- 100% _done_" "$(root "$Q")")")" \
	"$Q updated" "a SQL-looking note"
is "$(mp show "$Q" --json | jq -r '.notes[-1].body')" "'); DELETE FROM notes; -- 100% _done_" "stored verbatim"
is "$(ingest_ts "$(ts carla.ce@corp.example "$GOOD" "Re: [$Q] x" "/macro cstr

Customer details: ' OR '1'='1
Issue link: https://issues.corp.example/browse/X?q=%27%3B%20DROP
Summary: \"; DROP TABLE notes; --
Consequences: 50% _ _
Time considerations: none" "$(root "$Q")")")" "$Q updated" "SQL-looking macro values"
is "$(mp show "$Q" --json | jq -c '.notes[-1].fields | [.customer_details, .issue_link, .summary, .consequences]')" \
	"[\"' OR '1'='1\",\"https://issues.corp.example/browse/X?q=%27%3B%20DROP\",\"\\\"; DROP TABLE notes; --\",\"50% _ _\"]" \
	"stored verbatim"
out=$(ingest_ie "$(ie carla.ce@corp.example "$GOOD" "Implementation request: SQL" "${bform/ZQXbacklogcust Client Corp/Robert\'); DROP TABLE entries;--}")")
is "$(mp show "${out% created}" --json | jq -r .customer_name)" "Robert'); DROP TABLE entries;--" "a SQL-looking form value, verbatim"
# Message-IDs with quotes and wildcards thread literally.
is "$(ingest_ts "$(eml "From: q@client.example
To: trialsupport@corp.example
Subject: quoted id
Message-ID: <it's'--@client.example>" "x")" | sed 's/[0-9][0-9]*//')" "TS- created" "a Message-ID with quotes"
QT=$(mp tickets --json | jq -r '.[-1].id')
is "$(ingest_ts "$(ts q@client.example "" "Re: quoted id" "y" "<it's'--@client.example>")")" "$QT updated" "... and a reply naming it threads"
like "$(ingest_ts "$(ts w@client.example "" "wildcard" "z" "<%>")")" '^TS-[0-9]+ created$' "In-Reply-To <%> matches nothing"
like "$(ingest_ts "$(eml 'From: w@client.example
To: trialsupport@corp.example
Subject: wildcard refs
References: <%@%> <_>' 'z')")" '^TS-[0-9]+ created$' "References <%@%> <_> match nothing"
# % and _ in an address are not wildcards for the participant check.
out=$(ingest_ts "$(ts alice@client.example "" "Alice's question" "Hi")")
A=${out% created}
for who in "%@client.example" "_lice@client.example" "%lice@%"; do
	like "$(ingest_ts "$(ts "$who" "" "Re: [$A] me too" "let me in")")" '^TS-[0-9]+ created$' \
		"'$who' with [$A] opens a new ticket (no wildcard match of alice@)"
done
is "$(ingest_ts "$(eml 'From: dup@client.example
To: trialsupport@corp.example
Subject: dedupe
Message-ID: <dup_1@client.example>' 'one')" | cut -d' ' -f2)" "created" "Message-ID <dup_1@...>"
is "$(ingest_ts "$(eml 'From: dup@client.example
To: trialsupport@corp.example
Subject: dedupe
Message-ID: <dupX1@client.example>' 'two')" | cut -d' ' -f2)" "created" "<dupX1@...> is not its duplicate"
is "$(mp tickets --status '%' --json | jq length)" "0" "tickets --status % matches nothing"
is "$(mp tickets --status 'w_iting' --json | jq length)" "0" "tickets --status w_iting matches nothing"
ok "$([ "$(mp tickets --status waiting --json | jq length)" -gt 0 ]; echo $?)" "tickets --status waiting does"
is "$(mp backlog --status '%' --json | jq length)" "0" "backlog --status % matches nothing"
for id in "TS-%" "TS-1' OR '1'='1" "TS-1;DROP TABLE tickets" "IE-_"; do
	mp show "$id" >/dev/null 2>&1
	is "$?" "1" "show '$id' is no such ticket"
done
mp outbox show "1 OR 1=1" >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "outbox show '1 OR 1=1' is refused"
mp quarantine show "1; DROP TABLE quarantine" >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "quarantine show '1; DROP TABLE quarantine' is refused"
is "$(sqlite3 "$db" "PRAGMA integrity_check")" "ok" "the store passes integrity_check"
is "$(sqlite3 "$db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)")" \
	"attachments autoreplies counters digests entries events imap_state messages notes outbox participants processed quarantine thread tickets" \
	"every table is still there"
is "$(sqlite3 "$db" "SELECT (SELECT count(*) FROM tickets) = $(mp tickets --json | jq length) AND (SELECT count(*) FROM notes) > 0")" "1" \
	"and holds the rows"

# --- 6. the scan: every rendered outbox message ------------------------------------
scan=$work/scan
mkdir -p "$scan"
mp outbox --json >"$scan/outbox.json"
for n in $(jq -r '.[].id' "$scan/outbox.json"); do
	mp outbox show "$n" --raw >"$scan/$n.eml"
done
report=$(/usr/bin/python3 "$top/tests/cli/outbox-check.py" "$scan" corp.example); [ -n "${SEC_KEEP:-}" ] && cp -r "$scan" "$SEC_KEEP"
get() { printf '%s\n' "$report" | sed -n "s/^$1 //p"; }
rows_n=$(get rows) ext_n=$(get external) refused_n=$(get refused)
planted=$(cat "$work"/m*.eml | grep -oE 'ZQX[A-Za-z0-9]+' | sort -u)
public_planted=$(cat "$work"/m*.eml | grep -oE 'ZQP[A-Za-z0-9]+' | sort -u)
echo "# scanned $rows_n outbox messages ($ext_n with an external recipient, $refused_n of them refused by the guard);" \
	"$(printf '%s\n' "$planted" | wc -l) internal canaries, $(printf '%s\n' "$public_planted" | wc -l) public ones, 21 template markers"
ok "$([ "$rows_n" -ge 150 ] && [ "$ext_n" -ge 40 ]; echo $?)" "the scan covers many messages ($rows_n, $ext_n external)"
unlike "$report" '^leak ' "no internal canary, staff-only template text or staff-only notice in any message to an external address"
unlike "$report" '^header ' "every message: CRLF lines, exactly the expected fields, To = the recipients, no control characters"
is "$(get public_external | tr ' ' '\n' | sort -u)" "$public_planted" \
	"control: every public canary reached the customer (so the scan reads what they get)"
is "$(comm -23 <(printf '%s\n' $(get canaries_internal) | sort -u) <(printf '%s\n' "$planted"))" "" \
	"control: the staff got canaries, and only planted ones"
like "$(get canaries_internal)" 'ZQXmacrocust.*ZQXmacrosummary' "control: the transfer request carried the macro canaries"
is "$(get markers_seen | wc -w)" "$(ls "$work/tpl" | wc -l)" "control: every template was rendered at least once"
is "$(mp outbox --json | jq -r '[.[] | select(.status == "failed") | .template] | unique | join(" ")')" \
	"backlog-ack backlog-assigned backlog-disqualified backlog-handoff backlog-live backlog-qualified backlog-triaged" \
	"the only refused rows are the backlog notices to the external AE"

# The scan itself can fail: hand-made messages with a base64-hidden
# canary, a staff-only notice, an extra Bcc field and an encoded CR LF.
neg=$work/neg
mkdir -p "$neg"
cat >"$neg/outbox.json" <<'EOF'
[{"id": 1, "template": "ticket-reply", "to": ["x@client.example"], "status": "queued", "attempts": 0, "error": null},
 {"id": 2, "template": "ticket-new-team", "to": ["x@client.example"], "status": "queued", "attempts": 0, "error": null},
 {"id": 3, "template": "ticket-ack", "to": ["x@client.example"], "status": "queued", "attempts": 0, "error": null},
 {"id": 4, "template": "ticket-ack", "to": ["x@client.example"], "status": "queued", "attempts": 0, "error": null}]
EOF
hdr() { printf 'Date: Mon, 08 Jan 2024 10:00:00 +0000\r\nFrom: trialsupport@corp.example\r\nReply-To: trialsupport@corp.example\r\nSubject: %s\r\nTo: x@client.example\r\nMessage-ID: <n%s@corp.example>\r\n%sMIME-Version: 1.0\r\n' "$1" "$2" "${3:-}"; }
{ hdr "[TS-1] Re: x" 1; printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n' \
	"$(printf 'hello ZQXhidden\r\nZQT-ticket-reply\r\n' | base64 -w0)"; } >"$neg/1.eml"
{ hdr "[TS-1] New ticket" 2; printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nZQT-ticket-new-team\r\n'; } >"$neg/2.eml"
{ hdr "[TS-1] Re: x" 3 $'Bcc: y@inject.test\r\n'; printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nZQT-ticket-ack\r\n'; } >"$neg/3.eml"
{ hdr "=?utf-8?q?x=0D=0ABcc:_y@inject.test?=" 4; printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nZQT-ticket-ack\r\n'; } >"$neg/4.eml"
negreport=$(/usr/bin/python3 "$top/tests/cli/outbox-check.py" "$neg" corp.example)
like "$negreport" '^leak 1 ticket-reply .*ZQXhidden' "control: the scan finds a canary hidden in base64"
like "$negreport" '^leak 2 staff-only ticket-new-team' "control: the scan finds a staff-only notice to a customer"
like "$negreport" '^header 3 unexpected field bcc' "control: the scan finds an extra Bcc field"
like "$negreport" '^header 4 control character in subject' "control: the scan finds an encoded CR LF in a subject"

done_testing

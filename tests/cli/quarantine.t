#!/bin/bash
# quarantine.t - nothing is lost: over-size and unparseable mail is held
# whole and can be retried; bounces are recorded; internal notices never
# leave staff_domains; no header of an outgoing message comes from input.
. "$(dirname "$0")/lib.sh"

# --- over-size -----------------------------------------------------------
{
	mail big@acme.example "Huge log" "<big1@acme.example>"
	head -c 300000 /dev/zero | tr '\0' 'x' | fold -w 76
} >"$work/big.eml"
size=$(wc -c <"$work/big.eml" | tr -d ' ')
out=$(mp ingest --mailbox trialsupport "$work/big.eml" 2>"$work/err")
ok $? "quarantine is an outcome: exit 0"
is "$out" "quarantined: message of $size bytes exceeds max_message_bytes (200000)" \
	"over-size mail is quarantined with its reason"
like "$(cat "$work/err")" "quarantined <big1@acme.example> as #1" "and logged with its key"
list=$(mp quarantine list)
like "$list" "^ +1  held .*big@acme.example  message of $size bytes" "quarantine list shows it"
sh=$(mp quarantine show 1)
like "$sh" "^Size: +$size$" "quarantine show gives the size"
like "$sh" "^Subject: +Huge log$" "and the subject"
is "$(sqlite3 "$db" "SELECT length(raw) FROM quarantine WHERE id = 1")" "$size" \
	"the raw message is kept whole"
is "$(mp outbox --json | jq -r '.[0].template + ">" + (.[0].to | join(",")) + " " + .[0].status')" \
	"quarantine-notice>admin@corp.example queued" "the administrator is told"
is "$(mp outbox --json | jq -r '.[0].ticket')" "null" "a quarantine notice has no ticket"
is "$(mp ingest --mailbox trialsupport "$work/big.eml")" "duplicate" \
	"feeding it again is a duplicate, not a second quarantine"
out=$(mp quarantine retry 1 2>/dev/null)
like "$out" "^quarantined: message of" "retry under the same limit quarantines again"
is "$(mp quarantine list | grep -c .)" "1" "without a second row"
sed -i 's/^max_message_bytes = 200000/max_message_bytes = 1000000/' "$conf"
out=$(mp quarantine retry 1)
is "$out" "TS-1 created" "after the limit is raised, retry processes it"
like "$(mp quarantine list)" "^ +1  released" "and the row is released"
is "$(mp ingest --mailbox trialsupport "$work/big.eml")" "duplicate" "now it counts as processed"
mp quarantine retry 99 2>"$work/err"
is "$?" "1" "retry of an unknown row exits 1"
mp quarantine bogus 2>/dev/null
is "$?" "2" "unknown quarantine subcommand is a usage error"

# --- unparseable -----------------------------------------------------------
printf 'just some text\nwithout any header\n' >"$work/junk.eml"
is "$(mp ingest --mailbox trialsupport "$work/junk.eml")" "quarantined: no header fields" \
	"text without a header is quarantined"
printf 'Subject: no sender\nMessage-ID: <nosender@x.example>\n\nhello\n' >"$work/nofrom.eml"
is "$(mp ingest --mailbox trialsupport "$work/nofrom.eml")" "quarantined: no usable From address" \
	"a message without a usable From is quarantined"
{
	printf 'From: deep@acme.example\nSubject: deep\nMessage-ID: <deep@x.example>\n'
	for i in $(seq 40); do printf 'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' "$i" "$i"; done
	printf 'Content-Type: text/plain\n\nhi\n'
} >"$work/deep.eml"
is "$(mp ingest --mailbox trialsupport "$work/deep.eml")" "quarantined: MIME parts nested deeper than 32" \
	"MIME nesting is bounded"
{
	printf 'From: many@acme.example\nSubject: many\n'
	for i in $(seq 1001); do printf 'X-H%d: v\n' "$i"; done
	printf '\nbody\n'
} >"$work/many.eml"
is "$(mp ingest --mailbox trialsupport "$work/many.eml")" "quarantined: more than 1000 header fields" \
	"header count is bounded"
{
	printf 'From: long@acme.example\nSubject: long\nX-Long: '
	head -c 70000 /dev/zero | tr '\0' 'a'
	printf '\n\nbody\n'
} >"$work/long.eml"
is "$(mp ingest --mailbox trialsupport "$work/long.eml")" "quarantined: a header field is longer than 65536 bytes" \
	"header length is bounded"

# --- bounces -------------------------------------------------------------------
mail jane@acme.example "Help" "<help1@acme.example>" >"$work/help.eml"
is "$(mp ingest --mailbox trialsupport "$work/help.eml")" "TS-2 created" "a ticket to bounce from"
ackid=$(mp outbox --json | jq -r '[.[] | select(.ticket == "TS-2" and .template == "ticket-ack")][0].message_id')
dsn() { # dsn MESSAGE-ID-OF-ORIGINAL
	cat <<EOF
From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>
To: trialsupport@corp.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn$RANDOM@mx.acme.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

Your message could not be delivered.
--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example

Final-Recipient: rfc822; jane@acme.example
Action: failed
Status: 5.1.1

--R
Content-Type: text/rfc822-headers

From: trialsupport@corp.example
Message-ID: $1
Subject: [TS-2] Re: Help

--R--
EOF
}
dsn "$ackid" >"$work/dsn.eml"
before=$(mp outbox --json | jq length)
is "$(mp ingest --mailbox trialsupport "$work/dsn.eml")" "TS-2 bounce" "a bounce about our notice is recorded"
is "$(mp show TS-2 --json | jq -r '.events[-1] | .action + ": " + .detail')" \
	"delivery_failed: jane@acme.example 5.1.1 failed" "as a delivery_failed event naming recipient and status"
is "$(mp outbox --json | jq length)" "$before" "a bounce sends nothing"
is "$(mp tickets --json | jq length)" "2" "and opens no ticket"
dsn "<unknown@corp.example>" >"$work/dsn2.eml"
is "$(mp ingest --mailbox trialsupport "$work/dsn2.eml")" \
	"quarantined: delivery-status report about no known notice" "a bounce about nothing known is quarantined"

# --- internal stays internal ------------------------------------------------------
sed -i 's/^trial_support = trial-team@corp.example/trial_support = trial-team@corp.example, leak@gmail.example/' "$conf"
mail kim@acme.example "Leak test" "<leak1@acme.example>" "" "secret customer text" >"$work/leak.eml"
mp ingest --mailbox trialsupport "$work/leak.eml" >/dev/null 2>"$work/err"
row=$(mp outbox --json | jq -c '[.[] | select(.template == "ticket-new-team")][-1]')
is "$(printf '%s' "$row" | jq -r .status)" "failed" "an internal notice addressed outside staff_domains is refused"
like "$(printf '%s' "$row" | jq -r .error)" "refused: internal notice addressed to leak@gmail.example" \
	"with an error naming the address"
like "$(cat "$work/err")" "ticket-new-team refused" "and logged"
sed -i 's/, leak@gmail.example//' "$conf"

# --- no header injection ------------------------------------------------------------
cat >"$work/inject.eml" <<'EOF'
From: "Evil =?utf-8?Q?Name=0D=0ABcc:_x@evil.example?=" <eve@evil.example>
To: trialsupport@corp.example
Subject: =?utf-8?Q?Hello=0D=0ABcc:_steal@evil.example=0D=0A=0D=0Abody?=
Message-ID: <inject1@evil.example>
In-Reply-To: <x@y>
 Bcc: folded@evil.example
MIME-Version: 1.0
Content-Type: text/plain

hi
EOF
out=$(mp ingest --mailbox trialsupport "$work/inject.eml")
like "$out" "created" "the injection attempt is an ordinary ticket"
for id in $(mp outbox --json | jq -r '.[] | select(.ticket == "'"${out% created}"'") | .id'); do
	raw=$(mp outbox show "$id" --raw)
	unlike "$raw" $'^Bcc:' "outbox $id: no Bcc header injected"
	like "$raw" $'^Subject: .*Hello Bcc: steal@evil.example body' "outbox $id: subject kept on one line"
done

done_testing

#!/bin/bash
# ingest.t - customer mail through `mailproc ingest`: new tickets,
# threading, duplicates, loops, reopening, the outbox it fills.
. "$(dirname "$0")/lib.sh"

demo=$top/tests/demo/mail

# --- a new ticket --------------------------------------------------------
out=$(mp ingest --mailbox trialsupport "$demo/01-customer-request.eml")
ok $? "ingest exits 0"
is "$out" "TS-1 created" "first message opens TS-1"

show=$(mp show TS-1 --json)
is "$(printf '%s' "$show" | jq -r '.status + " " + .priority + " " + .mailbox + " " + .kind')" \
	"waiting normal trialsupport ticket" "status, priority, mailbox, kind"
is "$(printf '%s' "$show" | jq -c '.participants')" \
	'["jane.doe@acme.example","bob.ops@acme.example"]' \
	"requester and external Cc are participants, own address is not"
is "$(printf '%s' "$show" | jq -r '.messages[0].date')" "2024-01-08T08:12:44Z" \
	"message date is the Date header in UTC"
is "$(printf '%s' "$show" | jq -r '.messages[0].visibility')" "public" \
	"customer mail is public"
unlike "$(printf '%s' "$show" | jq -r '.messages[0].body')" '^-- |Platform Engineering' \
	"signature removed from the body"
is "$(printf '%s' "$show" | jq -r '.owner, .messages[0].attachments | tostring')" \
	"$(printf 'null\n[]')" "absent owner is null, no attachments is []"

rows=$(mp outbox --json)
is "$(printf '%s' "$rows" | jq -r '[.[] | .template + ">" + (.to | join(","))] | join(" ")')" \
	"ticket-ack>jane.doe@acme.example ticket-new-team>trial-team@corp.example" \
	"acknowledgement to the requester, notice to the team"
is "$(printf '%s' "$rows" | jq -r '.[0].ticket + " " + .[0].status + " " + (.[0].attempts | tostring) + " " + (.[0].error | tostring)')" \
	"TS-1 queued 0 null" "outbox summary fields"

ack=$(mp outbox show 1 --raw)
like "$ack" $'^Subject: \\[TS-1\\] ' "ack subject carries the tag"
like "$ack" $'^From: trialsupport@corp.example\r$' "ack is from the mailbox address"
like "$ack" $'^Reply-To: trialsupport@corp.example\r$' "Reply-To the mailbox"
like "$ack" $'^In-Reply-To: <CAF1x7demo0001@mail.acme.example>\r$' "ack threads on the request"
like "$ack" $'^References: <CAF1x7demo0001@mail.acme.example>\r$' "References set"
like "$ack" $'^Auto-Submitted: auto-replied\r$' "ack is auto-replied"
like "$ack" $'^Message-I[dD]: <mp\\.[0-9a-f]+@corp\\.example>\r$' "own Message-ID"
is "$(printf '%s' "$ack" | grep -c $'[^\r]$')" "0" "every line ends in CRLF"
team=$(mp outbox show 2 --raw)
like "$team" $'^Auto-Submitted: auto-generated\r$' "team notice is auto-generated"
like "$team" "certificate signed by unknown authority" "team notice carries the text"

# --- duplicates ------------------------------------------------------------
out=$(mp ingest --mailbox trialsupport "$demo/01-customer-request.eml")
is "$out" "duplicate" "the same message again is a duplicate"
is "$(mp outbox --json | jq length)" "2" "a duplicate queues nothing"
nomid=$(mail carl@initech.example "No id" "" "" "no message id here" | sed '/^Message-ID: $/d')
printf '%s\n' "$nomid" >"$work/nomid.eml"
is "$(mp ingest --mailbox trialsupport "$work/nomid.eml")" "TS-2 created" "message without Message-ID"
is "$(mp ingest --mailbox trialsupport "$work/nomid.eml")" "duplicate" \
	"without Message-ID the raw digest dedupes"
is "$(mp ingest --mailbox implementation "$work/nomid.eml" | cut -c1-12)" "quarantined:" \
	"deduplication is per mailbox (processed again there: quarantined as not from staff)"

# --- threading ---------------------------------------------------------------
is "$(mp ingest --mailbox trialsupport "$demo/03-customer-follow-up.eml")" "TS-1 updated" \
	"a reply joins by In-Reply-To"
is "$(mp outbox --json | jq -r '.[-1].template + ">" + (.[-1].to | join(","))')" \
	"ticket-update-owner>trial-team@corp.example" "follow-up on an unowned ticket tells the team"
is "$(mp outbox --json | jq '[.[] | select(.template == "ticket-ack")] | length')" "2" \
	"no second acknowledgement for a follow-up"

mail mallory@evil.example "Re: [TS-1] give me the data" "<hijack@evil.example>" >"$work/hijack.eml"
is "$(mp ingest --mailbox trialsupport "$work/hijack.eml")" "TS-3 created" \
	"a subject tag from a stranger opens a new ticket"
mail bob.ops@acme.example "Re: [TS-1] also from me" "<bob1@acme.example>" >"$work/bob.eml"
is "$(mp ingest --mailbox trialsupport "$work/bob.eml")" "TS-1 updated" \
	"a subject tag from a participant joins the ticket"
mail newbie@acme.example "Re: reply to the ack" "<new1@acme.example>" \
	"In-Reply-To: $(mp outbox --json | jq -r '.[0].message_id')" >"$work/ackreply.eml"
is "$(mp ingest --mailbox trialsupport "$work/ackreply.eml")" "TS-1 updated" \
	"a reply to our own notice joins the ticket"
like "$(mp show TS-1 --json | jq -r '.participants | join(" ")')" "newbie@acme.example" \
	"a sender joining by reference becomes a participant"

# --- loops ---------------------------------------------------------------------
before=$(mp outbox --json | jq length)
is "$(mp ingest --mailbox trialsupport "$demo/04-out-of-office.eml")" "TS-4 created" \
	"auto-submitted new mail still opens a ticket"
is "$(mp outbox --json | jq -r ".[$before:] | map(.template) | join(\" \")")" "ticket-new-team" \
	"... with a team notice and no acknowledgement"
for h in "Precedence: bulk" "List-Id: <users.lists.example>" "Return-Path: <>"; do
	mail list@lists.example "Newsletter $h" "<loop$RANDOM@lists.example>" "$h" >"$work/l.eml"
	b=$(mp outbox --json | jq length)
	mp ingest --mailbox trialsupport "$work/l.eml" >/dev/null
	is "$(mp outbox --json | jq -r ".[$b:] | map(.template) | join(\" \")")" "ticket-new-team" \
		"no acknowledgement for '$h'"
done
mail mailer-daemon@acme.example "Undeliverable" "<md1@acme.example>" >"$work/md.eml"
b=$(mp outbox --json | jq length)
mp ingest --mailbox trialsupport "$work/md.eml" >/dev/null
is "$(mp outbox --json | jq -r ".[$b:] | map(.template) | join(\" \")")" "ticket-new-team" \
	"no acknowledgement to mailer-daemon"
mail trialsupport@corp.example "From ourselves" "<self1@corp.example>" >"$work/self.eml"
b=$(mp outbox --json | jq length)
mp ingest --mailbox trialsupport "$work/self.eml" >/dev/null
is "$(mp outbox --json | jq -r ".[$b:] | map(.template) | join(\" \")")" "ticket-new-team" \
	"no acknowledgement to our own address"

# The per-hour limit: 7 new tickets from one address get 5 acknowledgements.
for i in 1 2 3 4 5 6 7; do
	mail flood@spam.example "Question $i" "<flood$i@spam.example>" >"$work/f.eml"
	mp ingest --mailbox trialsupport "$work/f.eml" 2>>"$work/flood.err" >/dev/null
done
is "$(mp outbox --json | jq '[.[] | select(.template == "ticket-ack" and .to == ["flood@spam.example"])] | length')" \
	"5" "max_autoreplies_per_hour caps acknowledgements to one address"
like "$(cat "$work/flood.err")" "max_autoreplies_per_hour \(5\) reached" "and says so on stderr"
MAILPROC_NOW=2024-01-08T11:00:01Z mail flood@spam.example "Later" "<flood9@spam.example>" >"$work/f.eml"
MAILPROC_NOW=2024-01-08T11:00:01Z mp ingest --mailbox trialsupport "$work/f.eml" >/dev/null
is "$(mp outbox --json | jq '[.[] | select(.template == "ticket-ack" and .to == ["flood@spam.example"])] | length')" \
	"6" "the window slides: an hour later one more is allowed"

# --- reopening an ended ticket ------------------------------------------------------
sqlite3 "$db" "UPDATE tickets SET status = 'ended' WHERE id = 'TS-2'"
mail carl@initech.example "Re: [TS-2] No id" "<carl2@initech.example>" >"$work/carl2.eml"
is "$(mp ingest --mailbox trialsupport "$work/carl2.eml")" "TS-2 updated" "customer writes on an ended ticket"
is "$(mp show TS-2 --json | jq -r '.status')" "waiting" "an unowned ended ticket reopens as waiting"
is "$(mp show TS-2 --json | jq -r '[.events[].action] | join(" ")')" "created customer_reply reopened" \
	"events record the reopening"
sqlite3 "$db" "UPDATE tickets SET status = 'ended', owner = 'carla.ce@corp.example' WHERE id = 'TS-2'"
mail carl@initech.example "Re: [TS-2] again" "<carl3@initech.example>" >"$work/carl3.eml"
mp ingest --mailbox trialsupport "$work/carl3.eml" >/dev/null
is "$(mp show TS-2 --json | jq -r '.status')" "in_progress" "an owned ended ticket reopens as in_progress"
is "$(mp outbox --json | jq -r '.[-1].template + ">" + (.[-1].to | join(","))')" \
	"ticket-update-owner>carla.ce@corp.example" "the owner is told"

# --- HTML-only, attachments ------------------------------------------------------------
out=$(mp ingest --mailbox trialsupport "$demo/02-customer-html-only.eml")
id=${out% created}
body=$(mp show "$id" --json | jq -r '.messages[0].body')
like "$body" '^SAML login fails with "invalid audience"\. Steps:$' "HTML converted to text"
like "$body" '^1\. Open the login page$' "ordered list numbered"
unlike "$body" 'margin' "style content dropped"
is "$(mp show "$id" --json | jq -r .subject)" "SSO ログインが失敗します" "RFC 2047 subject decoded"

out=$(mp ingest --mailbox trialsupport "$fixtures/parse/12-apple-mail-inline-attachment.eml")
id=${out% created}
is "$(mp show "$id" --json | jq -c '.messages[0].attachments | map(.filename)')" \
	"$(jq -c '.attachments | map(.filename)' "$fixtures/parse/12-apple-mail-inline-attachment.json")" \
	"attachments listed in show --json"

# --- mbox ------------------------------------------------------------------------------
{
	echo "From jane@acme.example Mon Jan  8 09:00:00 2024"
	mail a1@mbox.example "mbox one" "<m1@mbox.example>" "" $'first line\n>From the start'
	echo
	echo "From jane@acme.example Mon Jan  8 09:01:00 2024"
	mail a2@mbox.example "mbox two" "<m2@mbox.example>"
	echo
	echo "From jane@acme.example Mon Jan  8 09:02:00 2024"
	mail a1@mbox.example "Re: mbox one" "<m3@mbox.example>" "In-Reply-To: <m1@mbox.example>"
} >"$work/in.mbox"
out=$(mp ingest --mailbox trialsupport --mbox "$work/in.mbox")
like "$out" '^TS-[0-9]+ created$' "mbox: first message"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "3" "mbox: one line per message"
is "$(printf '%s\n' "$out" | tail -1 | sed 's/TS-[0-9]*//')" " updated" "mbox: the reply threads"
first=$(printf '%s\n' "$out" | head -1 | cut -d' ' -f1)
is "$(mp show "$first" --json | jq -r '.messages[0].body')" \
	"$(printf 'first line\nFrom the start')" "mboxrd: one '>' removed from >From lines"

# --- stdin, usage, errors -------------------------------------------------------------
is "$(mail s@stdin.example "stdin" "<stdin1@x.example>" | mp ingest --mailbox trialsupport - | cut -d' ' -f2)" \
	"created" "ingest reads standard input"
mp ingest --mailbox nosuch "$work/bob.eml" 2>"$work/err"
is "$?" "2" "unknown mailbox is a usage error"
like "$(cat "$work/err")" "no \[mailbox.nosuch\]" "and says which"
mp ingest 2>/dev/null </dev/null
is "$?" "2" "--mailbox is required"
mp show TS-99 2>"$work/err"
is "$?" "1" "show of an unknown id exits 1"
is "$(cat "$work/err")" "mailproc: no such ticket: TS-99" "with the message SPEC 9 gives"
mp frobnicate 2>/dev/null
is "$?" "2" "unknown command exits 2"
MAILPROC_NOW=yesterday mp tickets 2>"$work/err"
is "$?" "2" "bad MAILPROC_NOW exits 2"

# The store locked by another process past busy_timeout: exit 75, nothing lost.
/usr/bin/python3 - "$db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(3)
c.execute("ROLLBACK")
PY
locker=$!
for _ in $(seq 50); do [ -e "$db.locked" ] && break; sleep 0.1; done
mail late@acme.example "While locked" "<locked1@acme.example>" >"$work/locked.eml"
mp ingest --mailbox trialsupport "$work/locked.eml" >"$work/out" 2>"$work/err"
is "$?" "75" "a locked store exits 75 (EX_TEMPFAIL) so the MTA retries"
is "$(cat "$work/out")" "" "and claims no outcome"
wait $locker
like "$(mp ingest --mailbox trialsupport "$work/locked.eml")" '^TS-[0-9]+ created$' \
	"the retry after the lock is processed"

tickets=$(mp tickets --json)
is "$(printf '%s' "$tickets" | jq -r '.[0] | keys_unsorted | join(",")')" \
	"id,kind,mailbox,status,priority,subject,requester,owner,created_at,updated_at" \
	"tickets --json summary keys"
is "$(mp tickets --status ended --json | jq length)" "0" "tickets --status filters"

done_testing

#!/bin/bash
# client-commands.t - commands written in real clients (Outlook with a
# From:/Sent: block, Apple Mail with quoted history, Gmail with a wrapped
# macro value and an HTML twin) run; commands in the quoted history do not.
. "$(dirname "$0")/lib.sh"
cmds=$fixtures/commands

mp ingest --mailbox trialsupport "$top/tests/demo/mail/01-customer-request.eml" >/dev/null
is "$(mp ingest --mailbox trialsupport "$cmds/outlook-start.eml")" "TS-1 updated" "Outlook: /start and /priority"
show=$(mp show TS-1 --json)
is "$(printf '%s' "$show" | jq -r '.owner + " " + .status + " " + .priority')" \
	"dave.ce@corp.example in_progress high" "both commands applied, the quoted /end not"
is "$(printf '%s' "$show" | jq -r '.messages[-1].body')" \
	"Hi Jane, Dave here from the customer engineering team. I will walk you through the certificate setup.

Dave" "body without commands, quotes or the From:/Sent: block"
like "$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)" "^Hi Jane, Dave here" "relayed to the customer"

is "$(mp ingest --mailbox trialsupport "$cmds/apple-note.eml")" "TS-1 updated" "Apple Mail: /note"
is "$(mp show TS-1 --json | jq -r '.notes[-1].body')" \
	"SECRET-APPLE-NOTE: their CA bundle is in the shared drive — ask Bob.

Dave" "note text decoded, quoted /transfer ignored"
is "$(mp show TS-1 --json | jq -r .status)" "in_progress" "status unchanged by the quoted command"

is "$(mp ingest --mailbox trialsupport "$cmds/gmail-macro.eml")" "TS-1 updated" "Gmail: /macro cstr and /transfer"
show=$(mp show TS-1 --json)
is "$(printf '%s' "$show" | jq -r '.status')" "transfer_requested" "transfer requested"
is "$(printf '%s' "$show" | jq -r '.notes[-1].fields.summary')" \
	'Adding a self-hosted GitLab fails: "certificate signed by unknown authority"; the customer uses an internal CA.' \
	"wrapped macro value joined"
is "$(printf '%s' "$show" | jq -r '.notes[-1].fields.additional_information')" "null" "optional field absent is null"
for id in $(mp outbox --json | jq -r '.[] | select(any(.to[]; endswith("@corp.example") | not)) | .id'); do
	unlike "$(mp outbox show "$id" --raw)" "SECRET-|SUP-1234" "outbox $id to a customer holds no internal text"
done

done_testing

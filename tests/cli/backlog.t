#!/bin/bash
# backlog.t - the life of an implementation request (SPEC 1.2, 2, 9):
# intake complete and incomplete, completion by reply, SMB flag, triage,
# qualification, assignment, TDD sign-off, handoff, checklist, live with a
# pinned clock, and the refusals on the way.
. "$(dirname "$0")/lib.sh"

AUTH="Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example"
echo 0 >"$work/seq"
# send FROM SUBJECT BODY [IN-REPLY-TO] - a message to implementation@.
send() {
	local n
	n=$(($(cat "$work/seq") + 1))
	echo "$n" >"$work/seq"
	printf '%s\nFrom: %s\nTo: implementation@corp.example\nSubject: %s\nDate: Mon, 08 Jan 2024 10:00:00 +0000\nMessage-ID: <impl%d@corp.example>\n%sMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$AUTH" "$1" "$2" "$n" "${4:+In-Reply-To: $4
}" "$3" >"$work/m$n.eml"
	mp ingest --mailbox implementation "$work/m$n.eml"
}
last_row() { mp outbox --json | jq -r '.[-1] | .template + ">" + (.to | join(","))'; }
field() { mp show "$1" --json | jq -r "$2"; }

form='Jointly-Managed Implementation Request
- Customer Name: Initech Ltd
- Link to Salesforce Opportunity: https://corp.my.salesforce.example/006Qx00000AbCdE
- Link to TDD: https://docs.corp.example/tdd/initech
- Expected Deployment Type: Kubernetes (Helm)
- Expected Hosting Provider: AWS
- Additional Information (if needed): wants SSO with Okta
- Segment: Enterprise
- AE: Alex AE <alex.ae@corp.example>
- ARR: $250k'

# --- intake -----------------------------------------------------------------
is "$(send carla.ce@corp.example "Implementation request: Initech" "$form")" "IE-1 created" "a complete form opens IE-1"
show=$(mp show IE-1 --json)
is "$(printf '%s' "$show" | jq -r '.status + " " + .customer_name + " " + .segment + " " + .ae + " " + (.arr | tostring)')" \
	"requested Initech Ltd Enterprise alex.ae@corp.example 250000" "fields stored and normalised"
is "$(printf '%s' "$show" | jq -c '[.requested_by, .priority, .tdd_signed_off, .missing_fields, .flags, .implementation_days]')" \
	'["carla.ce@corp.example",null,false,[],[],null]' "requested_by, null priority, TDD not signed off"
is "$(printf '%s' "$show" | jq -c '.requirements')" \
	'{"technical-requirements":false,"timelines":false,"meeting-cadence":false,"staffing":false,"progress-reporting":false,"roles":false,"operations":false,"prerequisites":false,"scope-signoff":false}' \
	"the checklist, all open"
is "$(printf '%s' "$show" | jq -r 'keys_unsorted | join(",")')" \
	"id,kind,status,customer_name,salesforce_url,tdd_url,deployment_type,hosting_provider,additional_info,segment,ae,arr,requested_by,priority,size,risk,ie,pm,tdd_signed_off,missing_fields,flags,requirements,created_at,handoff_at,live_at,implementation_days,notes,events" \
	"show --json keys as SPEC 5.1"
is "$(mp outbox --json | jq -r '[.[] | .template + ">" + (.to | join(","))] | join(" ")')" \
	"backlog-ack>carla.ce@corp.example,alex.ae@corp.example backlog-new-team>impl-team@corp.example" \
	"acknowledgement to the CE with the AE copied, notice to the team"
like "$(mp outbox show 1 --raw)" $'^Subject: \\[IE-1\\] ' "tagged [IE-1]"

# --- incomplete, then completed by reply ------------------------------------------
is "$(send carla.ce@corp.example "Impl request Globex" $'Customer Name: Globex\nLink to TDD: see the shared drive\nDeployment Type: Docker Compose')" \
	"IE-2 created" "an incomplete form still opens an entry"
show=$(mp show IE-2 --json)
is "$(printf '%s' "$show" | jq -r '.status')" "incomplete" "status incomplete"
is "$(printf '%s' "$show" | jq -c '.missing_fields')" '["salesforce_url","tdd_url","hosting_provider"]' \
	"missing_fields lists missing and invalid keys"
is "$(printf '%s' "$show" | jq -r '.tdd_url')" "null" "an invalid link is not stored"
reply=$(mp outbox show 3 --raw)
is "$(mp outbox --json | jq -r '.[2].template')" "backlog-incomplete" "the sender gets the incomplete reply"
like "$reply" "Link to Salesforce Opportunity" "it names the missing fields"
like "$reply" "see the shared drive" "and why the TDD link is invalid"
like "$reply" "Jointly-Managed Implementation Request" "and shows the form to fill"
root=$(mp show IE-2 --json | jq -r '.events[0].detail' >/dev/null; echo "<impl2@corp.example>")
is "$(send carla.ce@corp.example "Re: [IE-2] Impl request Globex" $'Link to Salesforce Opportunity: https://corp.my.salesforce.example/006Globex\nLink to TDD: https://docs.corp.example/tdd/globex\n\nOn Mon, Jan 8 wrote:\n> Customer Name: Wrong' "$root")" \
	"IE-2 updated" "a reply with the missing fields"
show=$(mp show IE-2 --json)
is "$(printf '%s' "$show" | jq -r '.status + " " + .customer_name')" "incomplete Globex" "still one field missing; quoted text not read"
is "$(send carla.ce@corp.example "Re: [IE-2] Impl request Globex" $'Hosting Provider: GCP\nDeployment Type: Kubernetes' "$root")" \
	"IE-2 updated" "the last field"
show=$(mp show IE-2 --json)
is "$(printf '%s' "$show" | jq -r '.status + " " + (.missing_fields | length | tostring)')" "requested 0" "complete: requested"
like "$(printf '%s' "$show" | jq -r '.events[] | select(.action == "field_changed") | .detail')" \
	"deployment_type: Docker Compose -> Kubernetes" "each field change is an event"
is "$(mp outbox --json | jq -r '.[-2:] | map(.template) | join(" ")')" "backlog-ack backlog-new-team" \
	"completion sends the acknowledgement and the team notice"

# --- SMB --------------------------------------------------------------------------------
smb=${form//Enterprise/smb}
smb=${smb//Initech Ltd/Tiny Co}
is "$(send carla.ce@corp.example "Impl: Tiny Co" "$smb")" "IE-3 created" "an SMB request is accepted"
is "$(mp show IE-3 --json | jq -c '[.segment, .flags]')" '["SMB",["smb"]]' "segment normalised and flagged"
like "$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)" "FLAGGED: the segment is SMB" \
	"the team notice says why"

# --- commands and refusals ----------------------------------------------------------------
is "$(send carla.ce@corp.example "Re: [IE-1]" "/triage priority=P1" "<impl1@corp.example>")" "IE-1 refused" \
	"a CE cannot triage"
like "$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)" "role ie or pm" "... and is told why"
is "$(send paula.pm@corp.example "Re: [IE-1]" "/qualify" "<impl1@corp.example>")" "IE-1 refused" "qualify before triage is refused"
is "$(send paula.pm@corp.example "Re: [IE-1]" "/triage priority=P9 size=XXL" "<impl1@corp.example>")" "IE-1 refused" "bad triage values"
err=$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)
like "$err" "priority 'P9' is not one of P1, P2, P3, P4" "bad priority named"
like "$err" "size 'XXL' is not one of S, M, L, XL" "bad size named"
is "$(send paula.pm@corp.example "Re: [IE-1]" "/triage priority=P2 size=L arr=300000 risk=medium" "<impl1@corp.example>")" \
	"IE-1 updated" "PM triages"
is "$(field IE-1 '[.status, .priority, .size, .risk, .arr] | map(tostring) | join(" ")')" "triaged P2 L medium 300000" "triage recorded"
is "$(last_row)" "backlog-triaged>carla.ce@corp.example,alex.ae@corp.example" "CE and AE told of the priority"

is "$(send paula.pm@corp.example "Re: [IE-3]" $'/triage priority=P4\n/qualify' "<impl5@corp.example>")" "IE-3 refused" \
	"qualify on SMB is refused (and the triage with it)"
like "$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)" "implementation services do not apply to SMB" "with the reason"
is "$(field IE-3 .status)" "requested" "nothing applied"

is "$(send ian.ie@corp.example "Re: [IE-1]" "/assign ie=ian.ie@corp.example pm=paula.pm@corp.example" "<impl1@corp.example>")" \
	"IE-1 refused" "assign before qualify is refused"
is "$(send ian.ie@corp.example "Re: [IE-1]" $'/qualify\n/assign ie=carla.ce@corp.example pm=paula.pm@corp.example' "<impl1@corp.example>")" \
	"IE-1 refused" "assigning a non-IE is refused"
is "$(send ian.ie@corp.example "Re: [IE-1]" $'/qualify\n/assign ie=ian.ie@corp.example pm=paula.pm@corp.example' "<impl1@corp.example>")" \
	"IE-1 updated" "qualify and assign in one message"
is "$(field IE-1 '.status + " " + .ie + " " + .pm')" "assigned ian.ie@corp.example paula.pm@corp.example" "assigned"
is "$(mp outbox --json | jq -r '.[-2:] | map(.template + ">" + (.to | join(","))) | join(" ")')" \
	"backlog-qualified>carla.ce@corp.example,alex.ae@corp.example backlog-assigned>carla.ce@corp.example,alex.ae@corp.example,ian.ie@corp.example,paula.pm@corp.example" \
	"qualified to CE and AE; assigned to CE, AE, IE, PM"

is "$(send paula.pm@corp.example "Re: [IE-1]" "/handoff" "<impl1@corp.example>")" "IE-1 refused" "handoff before TDD sign-off"
like "$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)" "the TDD is not signed off" "names what is missing"
is "$(send paula.pm@corp.example "Re: [IE-1]" "/signoff tdd" "<impl1@corp.example>")" "IE-1 refused" "only an IE signs off the TDD"
n=$(mp outbox --json | jq length)
is "$(send ian.ie@corp.example "Re: [IE-1]" "/signoff tdd" "<impl1@corp.example>")" "IE-1 updated" "IE signs off"
is "$(field IE-1 .tdd_signed_off)" "true" "tdd_signed_off"
is "$(mp outbox --json | jq length)" "$n" "sign-off sends nothing"
is "$(send ian.ie@corp.example "Re: [IE-1]" "/live" "<impl1@corp.example>")" "IE-1 refused" "live before handoff is refused"

MAILPROC_NOW=2024-01-10T09:00:00Z
is "$(send paula.pm@corp.example "Re: [IE-1]" "/handoff" "<impl1@corp.example>")" "IE-1 updated" "handoff"
is "$(field IE-1 '.status + " " + .handoff_at')" "in_implementation 2024-01-10T09:00:00Z" "in implementation since handoff"
handoff=$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)
like "$handoff" "introduce the customer to ian.ie@corp.example" "handoff notice asks for the introduction"
like "$handoff" "internal handoff meeting that walks through the TDD" "and the TDD meeting"
like "$handoff" "implementation team and the AE own the customer" "and says who owns the customer now"
is "$(last_row)" "backlog-handoff>carla.ce@corp.example,alex.ae@corp.example,ian.ie@corp.example,paula.pm@corp.example" "to CE, AE, IE, PM"

is "$(send ian.ie@corp.example "Re: [IE-1]" $'/done timelines\n/done staffing' "<impl1@corp.example>")" "IE-1 updated" "/done"
is "$(field IE-1 '[.requirements.timelines, .requirements.staffing, .requirements.roles] | map(tostring) | join(" ")')" \
	"true true false" "checklist items done"
is "$(send ian.ie@corp.example "Re: [IE-1]" "/done everything" "<impl1@corp.example>")" "IE-1 refused" "unknown checklist key"

MAILPROC_NOW=2024-02-21T12:00:00Z
is "$(send ian.ie@corp.example "Re: [IE-1]" "/live" "<impl1@corp.example>")" "IE-1 updated" "live"
is "$(field IE-1 '.status + " " + .live_at + " " + (.implementation_days | tostring)')" \
	"live 2024-02-21T12:00:00Z 42" "implementation_days from handoff to live (pinned clock)"
live=$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)
like "$live" "took 42 days from handoff to live" "live notice gives the duration"
like "$live" "The target is 30 days" "against the target"
like "$live" "past the target" "and flags it past 30 days"

# --- disqualify and reopen -------------------------------------------------------------------
is "$(send paula.pm@corp.example "Re: [IE-2]" "/disqualify" "$root")" "IE-2 refused" "disqualify needs a reason"
is "$(send paula.pm@corp.example "Re: [IE-2]" "/disqualify no budget this year" "$root")" "IE-2 updated" "disqualify"
is "$(field IE-2 .status)" "disqualified" "disqualified"
like "$(mp outbox show "$(mp outbox --json | jq '.[-1].id')" --raw)" "Reason: no budget this year" "CE and AE told the reason"
is "$(send paula.pm@corp.example "Re: [IE-1]" "/reopen" "<impl1@corp.example>")" "IE-1 refused" "reopen of a live entry is refused"
is "$(send paula.pm@corp.example "Re: [IE-2]" "/reopen" "$root")" "IE-2 updated" "reopen a disqualified entry"
is "$(field IE-2 .status)" "requested" "back to the previous status"
is "$(send paula.pm@corp.example "Re: [IE-2]" $'/note\nSECRET: budget talk with the CFO' "$root")" "IE-2 updated" "/note on an entry"
is "$(field IE-2 '.notes[-1].body')" "SECRET: budget talk with the CFO" "note stored"

# --- intake from outside -------------------------------------------------------------------------
printf 'From: someone@acme.example\nTo: implementation@corp.example\nSubject: please implement\nMessage-ID: <ext1@acme.example>\n\n%s\n' "$form" >"$work/ext.eml"
like "$(mp ingest --mailbox implementation "$work/ext.eml")" "^quarantined: implementation requests are accepted from staff_domains only" \
	"a request from outside staff_domains is quarantined"
# A forged staff From: (no Authentication-Results) is a customer's mail.
printf 'From: carla.ce@corp.example\nTo: implementation@corp.example\nSubject: please implement\nMessage-ID: <forged1@corp.example>\n\n%s\n' "$form" >"$work/forged.eml"
like "$(mp ingest --mailbox implementation "$work/forged.eml" 2>/dev/null)" \
	"^quarantined: implementation requests are accepted from authenticated staff only" \
	"a request from a forged staff From: is quarantined"
before=$(mp show IE-1 --json | jq -c '[.tdd_url, .ae, (.events | length)]')
printf 'From: carla.ce@corp.example\nTo: implementation@corp.example\nSubject: Re: x\nMessage-ID: <forged2@corp.example>\nIn-Reply-To: <impl1@corp.example>\n\nLink to TDD: https://evil.example/tdd\nAE: mallory@evil.example\n' >"$work/forged2.eml"
is "$(mp ingest --mailbox implementation "$work/forged2.eml")" "IE-1 updated" "a forged staff reply on IE-1 is kept ..."
is "$(mp show IE-1 --json | jq -c '[.tdd_url, .ae, (.events | length - 1)]')" "$before" "... and changes no field"

is "$(mp backlog --json | jq -r 'map(.id + ":" + .status) | join(" ")')" "IE-1:live IE-2:requested IE-3:requested" "backlog --json"
is "$(mp backlog --status live --json | jq length)" "1" "backlog --status"
is "$(mp outbox --json | jq '[.[] | select(.status == "failed")] | length')" "0" "no notice was refused by the guard"
mp show IE-99 2>"$work/err"
is "$(cat "$work/err")" "mailproc: no such backlog entry: IE-99" "unknown entry"

done_testing

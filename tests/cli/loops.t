#!/bin/bash
# loops.t - mail loops, offline (issue 7, item 6; SPEC 3 "No loops", SPEC 9
# "Loops and limits"): out-of-office replies, marked in each way
# responders mark them, update the ticket and get no reply; a broken
# auto-responder fed mailproc's outbox round after round gets at most
# max_autoreplies_per_hour replies in any sliding hour, and the loop dies
# out; two mailproc instances pointed at each other exchange one message.
# tests/system/loop.t runs the same loops through IMAP and SMTP.
. "$(dirname "$0")/lib.sh"

limit=$(sed -n 's/^max_autoreplies_per_hour = //p' "$conf")
echo 0 >"$work/seq"
# eml HEADERS BODY - a message file with a fresh Message-ID; prints its name.
eml() {
	local n
	n=$(($(cat "$work/seq") + 1))
	echo "$n" >"$work/seq"
	printf '%s\nMessage-ID: <loop%d@away.example>\nDate: Mon, 08 Jan 2024 09:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$1" "$n" "$2" >"$work/m$n.eml"
	echo "$work/m$n.eml"
}
rows_to() { mp outbox --json | jq "[.[] | select(.to | index(\"$1\"))] | length"; }

# --- out-of-office replies ------------------------------------------------------
# Each robot writes in, gets its acknowledgement, and answers it with an
# out-of-office reply marked one way: the reply joins the ticket, the team
# is told, the robot gets nothing more.
for mark in "Auto-Submitted: auto-replied" "Auto-Submitted: auto-generated" "X-Autoreply: yes" \
	"X-Autorespond: Out of office" "Precedence: auto_reply" "Precedence: bulk" "Precedence: junk"; do
	who=oof$(printf '%s' "$mark" | tr -cd 'a-z' | cut -c1-20)@away.example
	out=$(mp ingest --mailbox trialsupport "$(eml "From: $who
To: trialsupport@corp.example
Subject: Question about pricing" "How much is it?")")
	id=${out% created}
	ack=$(mp outbox --json | jq -r --arg w "$who" '[.[] | select(.to == [$w])][0].message_id')
	n=$(mp outbox --json | jq length)
	is "$(mp ingest --mailbox trialsupport "$(eml "From: $who
To: trialsupport@corp.example
Subject: Automatic reply: [$id] Re: Question about pricing
In-Reply-To: $ack
References: $ack
$mark" "I am out of the office until Monday.")")" "$id updated" "out-of-office ($mark): joins $id"
	is "$(mp show "$id" --json | jq -r '.messages[-1].body')" "I am out of the office until Monday." "... stored on the ticket"
	is "$(mp outbox --json | jq -r ".[$n:] | map(.template + \">\" + (.to | join(\",\"))) | join(\" \")")" \
		"ticket-update-owner>trial-team@corp.example" "... the team is told, the robot gets nothing"
	# The same mark on mail that opens a ticket: no acknowledgement.
	n=$(mp outbox --json | jq length)
	like "$(mp ingest --mailbox trialsupport "$(eml "From: new-$who
To: trialsupport@corp.example
Subject: I am away
$mark" "Away.")")" '^TS-[0-9]+ created$' "out-of-office ($mark) as new mail: a ticket"
	is "$(mp outbox --json | jq -r ".[$n:] | map(.template) | join(\" \")")" "ticket-new-team" "... and no acknowledgement"
done
for mark in "X-Autoreply: no" "Auto-Submitted: no"; do
	who=human$(printf '%s' "$mark" | tr -cd 'a-z')@away.example
	mp ingest --mailbox trialsupport "$(eml "From: $who
To: trialsupport@corp.example
Subject: a person
$mark" "Hello")" >/dev/null
	is "$(rows_to "$who")" "1" "'$mark' marks a person's mail: acknowledged"
done

# --- a broken auto-responder -------------------------------------------------------
# It answers every mail it gets, marks nothing, and breaks the thread: no
# In-Reply-To, a subject without the tag, so each answer opens a ticket.
# The clock moves MINUTES per round; the loop is bounded at 40 rounds.
robot=robot@away.example
respond() { # respond ROUND - the robot's answer
	eml "From: Robot <$robot>
To: trialsupport@corp.example
Subject: I am away (round $1)" "I am away and will read your mail later."
}
clock() { date -u -d "2024-01-08T10:00:00Z + $(($1 * minutes)) minutes" +%Y-%m-%dT%H:%M:%SZ; }
minutes=5
MAILPROC_NOW=$(clock 0) mp ingest --mailbox trialsupport "$(respond 0)" >/dev/null
seen=0 round=0
while [ "$round" -lt 40 ]; do
	new=$(mp outbox --json | jq -r --arg r "$robot" "[.[] | select(.to | index(\$r))] | .[$seen:] | length")
	[ "$new" -eq 0 ] && break
	seen=$((seen + new))
	round=$((round + 1))
	MAILPROC_NOW=$(clock "$round") mp ingest --mailbox trialsupport "$(respond "$round")" >/dev/null 2>>"$work/stderr"
done
echo "# broken responder, one answer every $minutes min: $round rounds, $seen replies to it"
is "$seen" "$limit" "it got max_autoreplies_per_hour ($limit) acknowledgements"
is "$round" "$limit" "and answered each, then the loop died (no reply for its last answer)"
is "$(mp tickets --json | jq --arg r "$robot" '[.[] | select(.requester == $r)] | length')" "$((limit + 1))" \
	"every answer it sent is a ticket"
ids=$(mp tickets --json | jq -c --arg r "$robot" '[.[] | select(.requester == $r) | .id]')
is "$(mp outbox --json | jq --argjson ids "$ids" '[.[] | select(.template == "ticket-new-team" and (.ticket as $t | $ids | index($t)))] | length')" \
	"$((limit + 1))" "and the team was told of each"
like "$(cat "$work/stderr")" "ticket-ack not sent to $robot: max_autoreplies_per_hour \($limit\) reached" "the stop is logged"
# An hour after the first acknowledgement the window has room again: the
# loop restarts, and again stops at the limit.
start=$round
for k in $(seq 1 40); do
	r=$((start + k))
	t=$((r * minutes))
	[ "$t" -gt 240 ] && break
	MAILPROC_NOW=$(clock "$r") mp ingest --mailbox trialsupport "$(respond "$r")" >/dev/null 2>>"$work/stderr"
done
times=$(sqlite3 "$db" "SELECT created_at FROM outbox WHERE id IN ($(mp outbox --json |
	jq -r --arg r "$robot" '[.[] | select(.to | index($r)) | .id] | join(",")'))")
max=0
for a in $times; do
	c=0
	for b in $times; do [ "$b" -ge "$a" ] && [ "$b" -lt $((a + 3600)) ] && c=$((c + 1)); done
	[ "$c" -gt "$max" ] && max=$c
done
echo "# over 4 simulated hours, one answer every $minutes min: $(printf '%s\n' $times | wc -l) replies to the robot, at most $max in any 60 minutes"
is "$max" "$limit" "over four hours, never more than $limit replies in any sliding hour"
ok "$([ "$(printf '%s\n' $times | wc -l)" -ge $((limit * 3)) ]; echo $?)" "but the window slides: replies resume each hour"

# --- two mailproc instances pointed at each other ------------------------------------
# B is a help desk at helpdesk@peer.example with its own store.  A message
# from B's address opens a ticket at A; A's acknowledgement is delivered
# to B, which opens a ticket (auto-replied mail) and answers nothing.
bconf=$work/peer.conf
sed -e 's/^address = trialsupport@corp.example/address = helpdesk@peer.example/' \
	-e 's/corp\.example/peer.example/g' "$conf" >"$bconf"
mpb() { "$MAILPROC" -c "$bconf" --db "$work/peer.db" "$@"; }
fwd() { # fwd FROM-CMD TO-CMD ADDRESS SEEN-FILE - deliver new rows for ADDRESS
	local n=0 id
	for id in $($1 outbox --json | jq -r --arg a "$3" '.[] | select(.to | index($a)) | .id'); do
		grep -qx "$id" "$4" 2>/dev/null && continue
		echo "$id" >>"$4"
		$1 outbox show "$id" --raw >"$work/fwd.eml"
		$2 ingest --mailbox trialsupport "$work/fwd.eml" >/dev/null 2>>"$work/stderr"
		n=$((n + 1))
	done
	echo "$n"
}
mpa() { mp "$@"; }
mp ingest --mailbox trialsupport "$(eml 'From: Peer Help Desk <helpdesk@peer.example>
To: trialsupport@corp.example
Subject: Order 4711' 'Please confirm order 4711.')" >/dev/null
ab=0 ba=0
for round in $(seq 1 10); do
	x=$(fwd mpa mpb helpdesk@peer.example "$work/ab.seen")
	y=$(fwd mpb mpa trialsupport@corp.example "$work/ba.seen")
	ab=$((ab + x)) ba=$((ba + y))
	[ $((x + y)) -eq 0 ] && break
done
echo "# two instances: $ab message(s) A -> B, $ba B -> A, quiet after round $round"
is "$ab $ba" "1 0" "A acknowledged B once; B answered nothing"
is "$(mpb tickets --json | jq -r '.[] | .requester')" "trialsupport@corp.example" "B opened one ticket for it"
is "$(mpb outbox --json | jq -r 'map(.template + ">" + (.to | join(","))) | join(" ")')" "ticket-new-team>trial-team@peer.example" \
	"B told its team, with no acknowledgement (the mail was auto-replied)"
like "$(mpb show TS-1 --json | jq -r '.messages[0].body')" "Your request has been received" "B's ticket holds A's acknowledgement"

done_testing

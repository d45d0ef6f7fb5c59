#!/bin/bash
# adversarial.t - adversarial mail through `mailproc ingest` (issue 7,
# item 4): every message of tests/adversarial/gen (MIME nested 10,000
# deep, 100,000 header fields, a big attachment, broken base64 and
# quoted-printable, NUL bytes, invalid UTF-8, 1 MB header lines, RFC 2047
# bombs, message/rfc822 loops, unclosed multiparts, a zip bomb, ...) is
# ingested one at a time.  Asserted for each: exit 0; the outcome is the
# one expected, a ticket or a quarantine whose reason names the bound;
# peak RSS (/usr/bin/time) under a bound; run time under 20 s.  Then per
# ticket what the parse made of it (show --json: valid UTF-8, sizes,
# attachments), per quarantine that the raw message is kept whole, and
# that every message got exactly one outcome.  A '#' table gives case,
# outcome, peak RSS and seconds.
#
# Sizes: the generator's reduced set by default (an 8 MiB attachment,
# 20,000 bare parts, 4 MiB bodies; nesting, header and recipient counts
# and the 1 GiB zip bomb at full size); ADV_FULL=1 for the full set (a
# 50 MiB attachment: 70 MB of message, then over max_message_bytes).
#
# Peak RSS bound for each message: 64 MiB + 1.5 x its size (the message
# is read whole, and kept whole in the store); in a sanitizer build (ASan's
# shadow memory and quarantine) 200 MiB + 3 x its size.
. "$(dirname "$0")/lib.sh"

if [ ! -x /usr/bin/time ]; then
	echo "1..0 # SKIP /usr/bin/time missing (Debian: time; make check installs it)"
	exit 0
fi

adv=$work/adv
"$top/tests/adversarial/gen" "$adv" || { echo "Bail out! gen failed"; exit 1; }
# shellcheck disable=SC1091
. "$adv/sizes.sh"
n_cases=$(grep -c . "$adv/cases")
if [ "${ADV_FULL:-0}" != 0 ]; then
	echo "# $n_cases messages, the full set"
else
	echo "# $n_cases messages, the reduced set (ADV_FULL=1 for the full one)"
fi

sed -i 's/^max_message_bytes = .*/max_message_bytes = 26214400/' "$conf"
limit=26214400

case ${MP_BUILD:-}${MAILPROC} in
*asan* | *san*) san=1 ;;
*) san=0 ;;
esac
# rss_bound FILE - the bound in KiB
rss_bound() {
	local b
	b=$(wc -c <"$1")
	if [ "$san" = 1 ]; then
		echo $((200 * 1024 + b * 3 / 1024))
	else
		echo $((64 * 1024 + b * 3 / 2 / 1024))
	fi
}
secs_max=20

# Expected outcome per case: "ticket", or a pattern for the quarantine
# reason.  Every quarantine reason here names its bound.
parts='^more than 500 MIME parts$'
depth='^MIME parts nested deeper than 32$'
fields='^more than 1000 header fields$'
pfields='^more than 1000 header fields in one MIME part$'
field='^a header field is longer than 65536 bytes$'
line='^a line is longer than 1048576 bytes$'
addr='^address fields \(From, To, Cc, \.\.\.\) longer than 262144 bytes together$'
words='^more than 100 RFC 2047 encoded words without an end in the header fields$'
declare -A want=(
	[deep-multipart]=$parts [deep-rfc822]=$parts [rfc822-loop-32]=ticket
	[rfc822-loop-33]=$depth [rfc822-loop-400]=$depth
	[rfc822-loop-attached]=$parts [deep-multipart-400]=$depth
	[many-headers]=$fields [many-part-headers]=$pfields
	[many-headers-spaced]=$fields [many-headers-8bit]=$fields
	[many-headers-after-junk]=$fields [many-rfc822-headers]=$pfields
	[many-digest-headers]=$pfields [deep-multipart-spaced]=$parts
	[many-parts-rfc2231]=$parts [many-recipients]=$field
	[many-recipients-split]=$addr [many-recipients-kept]=ticket
	[long-header-line]=$line [long-header-1mb]=$field [long-subject]=ticket
	[long-body-line]=$line [long-body-line-under]=ticket
	[big-attachment]=ticket [zip-bomb-attached]=ticket [html-deep]=ticket
	[html-elements]=ticket [big-text-body]=ticket [big-html-body]=ticket
	[many-parts-bare]=$parts [many-parts-typed]=$parts
	[no-closing-boundary]=ticket [boundary-never-appears]=ticket
	[boundary-missing]=ticket [boundary-in-headers]=ticket
	[boundary-prefix]=ticket [base64-invalid-chars]=ticket
	[base64-bad-padding]=ticket [base64-truncated]=ticket
	[base64-attachment-junk]=ticket [qp-bad-soft-breaks]=ticket
	[qp-nonhex]=ticket [nul-header]=ticket
	[nul-from]='^no usable From address$' [nul-body]=ticket
	[utf8-invalid-header]=ticket [utf8-invalid-body]=ticket
	[utf8-invalid-encoded]=ticket [rfc2047-bomb]=ticket
	[rfc2047-open-fields]=$words [rfc2047-to-bomb]=$addr
	[many-params]='^more than 5000 parameters in Content-Type and Content-Disposition fields$'
	[rfc2047-unterminated]=$words [rfc2047-overlong]=ticket
	[rfc2047-nested]=ticket [empty]='^no header fields$'
	[cr-only]=ticket [binary-garbage]='^no header fields$'
	[no-blank-line]=ticket [header-only]=ticket
)
bytes_of() { wc -c <"$1" | tr -d ' '; }
big_bytes=$(bytes_of "$adv/big-attachment.eml")
# The full-size attachment is over the default max_message_bytes.
[ "$big_bytes" -gt "$limit" ] &&
	want[big-attachment]="^message of $big_bytes bytes exceeds max_message_bytes \\($limit\\)\$"

table=""
declare -A outcome id
# run NAME LABEL DB CONF RSS-BOUND-KIB - ingests $adv/NAME.eml; checks exit
# status, run time and peak RSS; sets $out and adds a table row.
run() {
	local name=$1 label=$2 rdb=$3 rconf=$4 bound=$5 t0 t1 rc rss secs
	t0=$(date +%s%N)
	out=$(/usr/bin/time -f %M -o "$work/rss" "$MAILPROC" -c "$rconf" --db "$rdb" \
		ingest --mailbox trialsupport "$adv/$name.eml" 2>"$work/err")
	rc=$?
	t1=$(date +%s%N)
	rss=$(tail -1 "$work/rss")
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	is "$rc" 0 "$label: exit 0"
	[ "$rc" = 0 ] || sed 's/^/#   /' "$work/err" | head -5
	ok "$(awk -v r="$rss" -v b="$bound" 'BEGIN { print (r + 0 > 0 && r + 0 < b) ? 0 : 1 }')" \
		"$label: peak RSS $rss KiB < $bound KiB"
	ok "$(awk -v s="$secs" -v m="$secs_max" 'BEGIN { print (s < m) ? 0 : 1 }')" \
		"$label: $secs s < $secs_max s"
	table+=$(printf '%-31s %-88s %8s %6s' "$label" "${out:0:88}" "$rss" "$secs")$'\n'
}

while IFS=$'\t' read -r name bytes _; do
	w=${want[$name]:-}
	if [ -z "$w" ]; then
		ok 1 "$name: an expected outcome is listed in this test"
		continue
	fi
	[ "$name" = zip-bomb-attached ] && db_before=$(bytes_of "$db")
	run "$name" "$name" "$db" "$conf" "$(rss_bound "$adv/$name.eml")"
	[ "$name" = zip-bomb-attached ] && db_bomb=$(($(bytes_of "$db") - db_before))
	outcome[$name]=$out
	if [ "$w" = ticket ]; then
		like "$out" '^TS-[0-9]+ created$' "$name: processed into a ticket"
		id[$name]=${out% created}
	else
		like "${out#quarantined: }" "$w" "$name: quarantined: ${w//[\\^$]/}"
		unlike "$out" '^TS-' "$name: no ticket"
	fi
done <"$adv/cases"

# --- the big attachment under other limits ----------------------------------
# Separate stores: under 1 MiB it is quarantined by its size; with
# max_message_bytes at 100 MiB it is parsed and stored (the full set's 70 MB
# message too), its attachment listed with its decoded size.
for lim in 1048576 104857600; do
	sed "s/^max_message_bytes = .*/max_message_bytes = $lim/" "$conf" >"$work/conf.$lim"
done
big_bound=$(rss_bound "$adv/big-attachment.eml")
run big-attachment "big-attachment (limit 1 MiB)" "$work/big1.db" "$work/conf.1048576" "$big_bound"
is "$out" "quarantined: message of $big_bytes bytes exceeds max_message_bytes (1048576)" \
	"big-attachment: over max_message_bytes, quarantined with the size and the bound"
is "$(sqlite3 "$work/big1.db" 'SELECT length(raw) FROM quarantine')" "$big_bytes" \
	"big-attachment: kept whole in quarantine"
run big-attachment "big-attachment (limit 100 MiB)" "$work/big2.db" "$work/conf.104857600" "$big_bound"
like "$out" '^TS-1 created$' "big-attachment: processed under a 100 MiB limit"
is "$("$MAILPROC" -c "$work/conf.104857600" --db "$work/big2.db" show TS-1 --json |
	jq -c '.messages[0].attachments')" \
	"[{\"filename\":\"big.bin\",\"content_type\":\"application/octet-stream\",\"size\":$attachment}]" \
	"big-attachment: listed with its decoded size ($attachment bytes)"
is "$(sqlite3 "$work/big2.db" 'SELECT length(raw) FROM messages')" "$big_bytes" \
	"big-attachment: the raw message stored whole"

printf '# %-31s %-88s %8s %6s\n' case outcome "RSS KiB" secs
printf '%s' "$table" | sed 's/^/# /'

# --- what became of each message -------------------------------------------------
n_tickets=$(mp tickets --json | jq length)
n_held=$(sqlite3 "$db" 'SELECT count(*) FROM quarantine')
is "$((n_tickets + n_held))" "$n_cases" "every message is one ticket or one quarantine row ($n_tickets + $n_held)"
is "$(sqlite3 "$db" "SELECT count(*) FROM quarantine WHERE reason = ''")" 0 "every quarantine row has a reason"

# Every held message is kept byte for byte.
while IFS=$'\t' read -r name bytes _; do
	case ${outcome[$name]:-} in
	quarantined:*)
		key=$(sqlite3 "$db" "SELECT id FROM quarantine WHERE length(raw) = $bytes AND reason = '$(printf '%s' "${outcome[$name]#quarantined: }" | sed "s/'/''/g")'" | head -1)
		ok "$([ -n "$key" ] && echo 0 || echo 1)" "$name: held whole ($bytes bytes)"
		;;
	esac
done <"$adv/cases"

# show --json of each ticket is JSON and valid UTF-8, and no header value
# carries a control character.
for name in "${!id[@]}"; do
	js=$(mp show "${id[$name]}" --json)
	printf '%s' "$js" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1
	ok $? "$name: show --json is valid UTF-8"
	printf '%s' "$js" | jq -e '.subject | explode | all(. >= 32 and . != 127)' >/dev/null
	ok $? "$name: the subject has no control character"
	printf '%s' "$js" >"$work/show.$name.json"
done
sj() { jq -r "$2" "$work/show.$1.json"; }    # sj NAME FILTER
att() { jq -c '.messages[0].attachments' "$work/show.$1.json"; }

is "$(att rfc822-loop-32 | jq -r '.[0].content_type')" "message/rfc822" \
	"rfc822-loop-32: the looped message is one message/rfc822 attachment"
is "$(sj many-recipients-kept '.participants | length')" 200 \
	"many-recipients-kept: participants are the requester and 199 of the 200 To addresses kept (one is ours)"
is "$(sj long-subject '.subject | length')" 998 "long-subject: cut to 998 characters"
like "$(sj long-body-line-under '.messages[0].body')" '\[truncated\]$' \
	"long-body-line-under: text cut at 1 MiB and marked"
is "$(sj long-body-line-under '.messages[0].body | length')" 1048588 "long-body-line-under: 1 MiB + the mark"
if [ "$big_bytes" -le "$limit" ]; then
	is "$(att big-attachment | jq -r '.[0].size')" "$attachment" "big-attachment: decoded size $attachment"
fi
is "$(att zip-bomb-attached)" \
	"[{\"filename\":\"bomb.zip\",\"content_type\":\"application/zip\",\"size\":$bomb_zip}]" \
	"zip-bomb-attached: stored as an attachment of its compressed size ($bomb_zip bytes, $bomb expanded)"
ok "$([ "$db_bomb" -lt $((4 * $(bytes_of "$adv/zip-bomb-attached.eml"))) ] && echo 0 || echo 1)" \
	"zip-bomb-attached: never unpacked (the store grew by $db_bomb bytes)"
is "$(sj html-deep '.messages[0].body')" "deep text" "html-deep: $html_depth nested elements rendered"
like "$(sj html-elements '.messages[0].body')" '^start' "html-elements: the text before the element bound"
unlike "$(sj html-elements '.messages[0].body')" 'end$' "html-elements: and not after it"
like "$(sj big-text-body '.messages[0].body')" '\[truncated\]$' "big-text-body: cut and marked"
is "$(sj big-text-body '.messages[0].body | length')" 1048588 "big-text-body: 1 MiB + the mark"
like "$(sj big-html-body '.messages[0].body')" '^cell	bold link <https://x.example/>$' \
	"big-html-body: rendered as text"
is "$(sj no-closing-boundary '.messages[0].body')" "The first part." "no-closing-boundary: the text part"
is "$(att no-closing-boundary)" '[{"filename":"cut.pdf","content_type":"application/pdf","size":18}]' \
	"no-closing-boundary: the unclosed last part is an attachment"
is "$(att boundary-never-appears)" '[]' "boundary-never-appears: no parts"
is "$(sj boundary-never-appears '.messages[0].body')" "" "boundary-never-appears: no text"
is "$(att boundary-missing)" '[]' "boundary-missing: no parts"
is "$(sj boundary-missing '.messages[0].body')" "" "boundary-missing: no text"
is "$(att boundary-in-headers | jq -r 'map(.filename // "null") | join(" ")')" "null --XX--" \
	"boundary-in-headers: a boundary inside part headers ends them; two parts"
is "$(sj boundary-prefix '.messages[0].body')" "plain alternative" "boundary-prefix: inner boundary kept apart"
is "$(att boundary-prefix)" '[{"filename":"a.txt","content_type":"text/plain","size":8}]' \
	"boundary-prefix: the html twin is no attachment, a.txt is"
is "$(sj base64-invalid-chars '.messages[0].body')" "Grüße aus Köln, base64 with junk." \
	"base64-invalid-chars: characters outside the alphabet skipped"
like "$(sj base64-bad-padding '.messages[0].body')" '^Hel' "base64-bad-padding: decoded up to the padding"
is "$(sj base64-truncated '.messages[0].body')" "truncated base64 text" \
	"base64-truncated: the whole quanta decoded"
is "$(att base64-attachment-junk | jq -r '.[0].size')" 16384 \
	"base64-attachment-junk: size counts only base64 characters"
like "$(sj qp-bad-soft-breaks '.messages[0].body')" 'continues' "qp-bad-soft-breaks: text after a bare-CR soft break kept"
like "$(sj qp-bad-soft-breaks '.messages[0].body')" 'ends in a lone equals sign$' "qp-bad-soft-breaks: text up to the end"
like "$(sj qp-nonhex '.messages[0].body')" '^not hex: =XY =G1 =Z$' "qp-nonhex: =XY kept as it is"
like "$(sj qp-nonhex '.messages[0].body')" 'latin-1 byte in a utf-8 part$' "qp-nonhex: text after a NUL kept"
like "$(sj qp-nonhex '.messages[0].body')" '^lower case: GrÃ¼ÃŸe$' \
	"qp-nonhex: lower-case hex decoded; the part, invalid UTF-8, read as windows-1252"
is "$(sj nul-header .subject)" "nul" "nul-header: the Subject ends at its NUL (GMime)"
is "$(sj nul-body '.messages[0].body')" "beforeafter

end" "nul-body: NUL bytes dropped, the text after them kept"
like "$(sj utf8-invalid-header .subject)" '^subject bad ' "utf8-invalid-header: subject read as windows-1252"
like "$(sj utf8-invalid-body '.messages[0].body')" '^bad Ã\( pair, ÿþ bytes, .*cut' "utf8-invalid-body: body read as windows-1252"
is "$(sj utf8-invalid-encoded .requester)" "adversary@attacker.example" "utf8-invalid-encoded: the address survives"
like "$(sj rfc2047-bomb .subject)" '^w0w1w2w3w4' "rfc2047-bomb: words decoded and joined"
is "$(sj rfc2047-bomb '.subject | length')" 998 "rfc2047-bomb: cut to 998 characters"
like "$(sj rfc2047-overlong .subject)" '^long encoded word long' "rfc2047-overlong: decoded"
like "$(sj rfc2047-nested .subject)" '^=\?utf-8\?B\?' "rfc2047-nested: decoded once, not again"
is "$(sj cr-only .requester)" "adversary@attacker.example" "cr-only: From found on the one long line"
is "$(sj cr-only '.subject + "|" + .messages[0].body')" "(no subject)|" "cr-only: no Subject, no body"
is "$(sj no-blank-line '.subject + "|" + .messages[0].body')" "Adversarial: no-blank-line|" \
	"no-blank-line: the header runs on; the text after it is not a body"
is "$(sj header-only '.messages[0].body')" "" "header-only: an empty body"

done_testing

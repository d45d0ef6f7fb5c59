#!/bin/bash
# manpages.t - the man pages lint clean and keep up with the code: every
# command of mailproc's usage is documented in mailproc.8, and every key
# of config.c's known_keys[] in its section of mailproc.conf.5.
. "$(dirname "$0")/lib.sh"

if ! command -v mandoc >/dev/null 2>&1; then
	echo "1..0 # SKIP mandoc is not installed"
	exit 0
fi
page8=$top/man/mailproc.8
page5=$top/man/mailproc.conf.5

# --- lint -------------------------------------------------------------------
for page in "$page8" "$page5"; do
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	is "$out" "" "mandoc -T lint -W warning ${page#"$top"/} is silent"
done

# --- commands ---------------------------------------------------------------
# The usage lists "  mailproc NAME ..." per command.
commands=$("$MAILPROC" --help | awk '$1 == "mailproc" && $2 ~ /^[a-z]/ { print $2 }' |
	sort -u)
ok "$([ -n "$commands" ]; echo $?)" "mailproc --help lists commands (${commands//$'\n'/ })"
# Each command appears as .Cm NAME in SYNOPSIS and in DESCRIPTION.
section_of() { # section_of PAGE NAME - the text of .Sh NAME
	awk -v want="$2" '/^\.Sh / { on = (substr($0, 5) == want); next } on' "$1"
}
synopsis=$(section_of "$page8" SYNOPSIS)
description=$(section_of "$page8" DESCRIPTION)
for c in $commands; do
	missing=""
	printf '%s\n' "$synopsis" | grep -Eq "(^\.| )Cm $c( |\$)" || missing="$missing SYNOPSIS"
	printf '%s\n' "$description" | grep -Eq "(^\.| )Cm $c( |\$)" || missing="$missing DESCRIPTION"
	is "${missing:+missing from$missing}" "" "mailproc.8 documents the command $c"
done

# --- configuration keys -----------------------------------------------------
# known_keys[] rows read { "group", { "key", "key", ..., NULL } }, possibly
# over several lines; print "group key" pairs.
pairs=$(sed -n '/known_keys\[\] = {/,/^};/p' "$top/mailproc/config.c" |
	tr '\n' ' ' | grep -o '{ *"[^"]*", *{[^}]*}' |
	sed 's/[{},]/ /g; s/NULL//; s/"//g' |
	awk '{ for (i = 2; i <= NF; i++) print $1, $i }')
ok "$([ "$(printf '%s\n' "$pairs" | grep -c .)" -gt 0 ]; echo $?)" \
	"config.c known_keys[] yields $(printf '%s\n' "$pairs" | grep -c .) keys"
# "heading<TAB>key" for every .It Cm KEY of mailproc.conf.5, where heading is
# the .Ss it is under, without mdoc escapes and macros.
documented=$(awk '
	/^\.Ss / { h = substr($0, 5); gsub(/\\&/, "", h); gsub(/ Ns Ar /, "", h)
		gsub(/ Ns /, "", h); next }
	/^\.S[hs] / { h = ""; next }
	/^\.It Cm / { print h "\t" $3 }' "$page5")
while read -r group key; do
	# A [mailbox.NAME] key may be documented once under [imap].
	case $group in
	mailbox.\*) want="[mailbox.name]" ;;
	*) want="[$group]" ;;
	esac
	found=$(printf '%s\n' "$documented" | awk -F '\t' -v h="$want" -v k="$key" \
		'$1 == h && $2 == k { print "yes" }')
	if [ -z "$found" ] && [ "$group" = "mailbox.*" ]; then
		found=$(printf '%s\n' "$documented" | awk -F '\t' -v k="$key" \
			'$1 == "[imap]" && $2 == k { print "yes" }')
	fi
	is "$found" "yes" "mailproc.conf.5 documents $key in $want as .It Cm $key"
done <<EOF
$pairs
EOF

done_testing

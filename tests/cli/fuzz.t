#!/bin/bash
# fuzz.t - the parsers' libFuzzer targets as a regression check: builds
# them (make fuzz, clang), runs each over its committed corpus
# fuzz/corpus/TARGET (the fixtures, and every input that once crashed),
# then fuzzes each from there into a temporary corpus for a fixed number
# of inputs from a fixed seed, so that a failure here is the same failure
# on every run and every machine (finding new bugs is bench/fuzz's job).
# Skips when clang or libFuzzer is missing.  The targets carry their own
# ASan and UBSan, so both suites (normal and asan) run the same thing.
. "$(dirname "$0")/lib.sh"

targets="message quote form commands authres html"
runs=${FUZZ_T_RUNS:-10000}
seed=${FUZZ_T_SEED:-1}
build=$top/build/fuzz

probe=$work/probe
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' \
	>"$probe.c"
if ! command -v clang >/dev/null ||
	! clang -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" \
		>/dev/null 2>&1; then
	echo "1..0 # SKIP clang with libFuzzer is missing (Debian: clang)"
	exit 0
fi

# Two checkouts' suites, or bench/fuzz beside the suite, may build the
# same targets at once: one at a time.
mkdir -p "$top/build"
flock "$top/build/.fuzz.lock" make -C "$top" --no-print-directory fuzz \
	>"$work/make.log" 2>&1
rc=$?
ok $rc "make fuzz builds the targets"
[ $rc -eq 0 ] || { sed 's/^/#   /' "$work/make.log" | tail -20; done_testing; exit 1; }

# Sanitizer reports go to the log shown on failure, not to the suite's
# report directory: a failure here is already a failed test.
export ASAN_OPTIONS="detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export G_SLICE=always-malloc G_DEBUG=gc-friendly
unset LSAN_OPTIONS
opts="-rss_limit_mb=2048 -timeout=10 -print_final_stats=1"

report() { # report LOG - why a run failed, as TAP comments
	grep -E -A12 '^==[0-9]+==ERROR|runtime error|^fuzz-|ALARM|out-of-memory' "$1" |
		head -30 | sed 's/^/#   /'
	for a in "$work"/art-*; do
		[ -f "$a" ] || continue
		echo "#   input $(basename "$a") ($(wc -c <"$a") bytes), first bytes:"
		head -c 256 "$a" | od -c | head -8 | sed 's/^/#   /'
	done
}

stat() { sed -n "s/^stat::$1: *\\([0-9]*\\).*/\\1/p" "$2" | tail -1; }

for t in $targets; do
	seeds=$top/fuzz/corpus/$t
	n=$(ls "$seeds" | wc -l)
	# shellcheck disable=SC2086
	"$build/fuzz-$t" $opts -runs=0 -artifact_prefix="$work/art-" \
		"$seeds" >"$work/$t.corpus.log" 2>&1
	rc=$?
	ok $rc "fuzz-$t over its corpus ($n inputs)"
	[ $rc -eq 0 ] || report "$work/$t.corpus.log"
	rm -f "$work"/art-*
done

for t in $targets; do
	mkdir -p "$work/corpus-$t"
	dict=""
	[ -f "$top/fuzz/$t.dict" ] && dict="-dict=$top/fuzz/$t.dict"
	# shellcheck disable=SC2086
	"$build/fuzz-$t" $opts $dict -seed="$seed" -runs="$runs" \
		-artifact_prefix="$work/art-" \
		"$work/corpus-$t" "$top/fuzz/corpus/$t" >"$work/$t.new.log" 2>&1
	rc=$?
	ok $rc "fuzz-$t for $runs new inputs (seed $seed)"
	if [ $rc -eq 0 ]; then
		echo "#   $(stat number_of_executed_units "$work/$t.new.log") executions, $(stat new_units_added "$work/$t.new.log") new inputs"
	else
		report "$work/$t.new.log"
	fi
	rm -rf "$work"/art-* "$work/corpus-$t"
done

done_testing

# fuzz/fuzz.mk - libFuzzer targets for the parsers (included by the Makefile).
#
#   make fuzz       build $(FUZZ_BUILD)/fuzz-* with clang, libFuzzer, ASan
#                   and UBSan; run them with bench/fuzz or tests/cli/fuzz.t
#
# The parsers are compiled again here, with coverage instrumentation and
# the sanitizers; they need only GMime, GLib and libxml2.

FUZZ_CC ?= clang
FUZZ_BUILD ?= build/fuzz
FUZZ_TARGETS := message quote form commands authres html
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz-%)
FUZZ_PKGS := gmime-3.0 glib-2.0 libxml-2.0
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 $(WARN) -O1 -g $(FUZZ_SAN) -I. -MMD -MP \
	$(shell $(PKG_CONFIG) --cflags $(FUZZ_PKGS))
# Same reason as LIBS: clang rejects libetpan-style -specs= flags.
FUZZ_LIBS = $(filter-out -specs=%,$(shell $(PKG_CONFIG) --libs $(FUZZ_PKGS)))
FUZZ_PARSER_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(wildcard parsers/*.c))

fuzz: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/parsers/%.o: parsers/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/obj/fuzz/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -c $< -o $@

$(FUZZ_BINS): $(FUZZ_BUILD)/fuzz-%: $(FUZZ_BUILD)/obj/fuzz/fuzz-%.o \
    $(FUZZ_PARSER_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

.PHONY: fuzz

-include $(wildcard $(FUZZ_BUILD)/obj/*/*.d)

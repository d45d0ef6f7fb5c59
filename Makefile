# mailproc - one non-recursive Makefile.
#
#   make            build $(BUILD)/mailproc
#   make check      install missing packages, build, run the whole suite
#                   in a normal and an ASan+UBSan build
#   make test       run the suite in the normal build only
#   make asan       run the suite in the ASan+UBSan build only
#   make demo       install missing packages, build, run the demo
#   make bench      every benchmark beside its floor (bench/run; README "Performance")
#   make fuzz       the parsers' libFuzzer targets (fuzz/fuzz.mk, bench/fuzz)
#   make stress     crash loop and server faults at full size (stress.mk)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/mailproc
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := gmime-3.0 glib-2.0 libxml-2.0 sqlite3 libcurl gnutls libetpan
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS ?= -O2 -g
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
ifeq ($(SAN),1)
CFLAGS := -O1 -g $(SAN_FLAGS)
LDSAN := $(SAN_FLAGS)
endif
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -I. -MMD -MP \
	-DMP_TEMPLATES_DIR='"$(DATADIR)/templates"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
# libetpan's .pc carries -specs=...no-pie-link.specs, which clang rejects
# and which makes gcc link non-PIE: drop it.
LIBS = $(filter-out -specs=%,$(shell $(PKG_CONFIG) --libs $(PKGS)))

LIB_SRCS := \
	parsers/authres.c parsers/commands.c parsers/form.c parsers/html.c parsers/message.c parsers/quote.c \
	store/store.c \
	templates/render.c \
	mailproc/backlog.c mailproc/clock.c mailproc/commands.c mailproc/compose.c mailproc/config.c mailproc/daemon.c \
	mailproc/digest.c \
	mailproc/desk.c mailproc/json.c mailproc/log.c mailproc/notice.c \
	mailproc/ahead.c mailproc/imap.c mailproc/pipeline.c mailproc/sender.c \
	mailproc/smtp.c \
	mailproc/status.c mailproc/tickets.c \
	mailproc/views.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/mailproc/main.o
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BINS := $(BUILD)/tests/parse-dump

all: $(BUILD)/mailproc

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libmailproc.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/mailproc: $(MAIN_OBJ) $(BUILD)/libmailproc.a
	$(CC) $(LDFLAGS) $(LDSAN) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libmailproc.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(LDSAN) -o $@ $^ $(LIBS)

$(BUILD)/tests/parse-dump: $(BUILD)/obj/tests/tools/parse-dump.o $(BUILD)/libmailproc.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(LDSAN) -o $@ $^ $(LIBS)

build-tests: $(BUILD)/mailproc $(UNIT_BINS) $(TOOL_BINS)

deps:
	@tests/install-deps

# The whole suite: normal build, then the sanitizer build.
check: deps
	@tests/run-all

test: build-tests
	@tests/run $(BUILD)

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build-tests
	@tests/run build/asan

demo: deps all
	@tests/demo/run $(BUILD)/mailproc

bench: all
	@bench/run

# Units name the binary in $(BINDIR): they are rewritten on the way in.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/templates \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 755 $(BUILD)/mailproc $(DESTDIR)$(BINDIR)/mailproc
	install -m 644 templates/*.txt templates/*.html \
		$(DESTDIR)$(DATADIR)/templates/
	install -m 644 mailproc.conf.example $(DESTDIR)$(DATADIR)/
	install -m 644 man/mailproc.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 man/mailproc.conf.5 $(DESTDIR)$(MANDIR)/man5/
	for u in systemd/*.service systemd/*.timer; do \
		sed 's|/usr/local/bin/mailproc|$(BINDIR)/mailproc|' $$u \
			>$(DESTDIR)$(UNITDIR)/$${u#systemd/} || exit 1; \
		chmod 644 $(DESTDIR)$(UNITDIR)/$${u#systemd/}; \
	done
	install -m 644 systemd/mailproc.sysusers $(DESTDIR)$(SYSUSERSDIR)/mailproc.conf
	install -m 644 systemd/mailproc.tmpfiles $(DESTDIR)$(TMPFILESDIR)/mailproc.conf

clean:
	rm -rf build

.PHONY: all build-tests deps check test asan demo bench install clean

include fuzz/fuzz.mk
include tests/system/stress.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

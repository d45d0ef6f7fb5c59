# make stress - the reliability tests at full size: the crash loop with 20
# SIGKILL rounds over 2,000 messages, and the server faults at full length
# (Dovecot down 30 s, SMTP down 60 s).  `make check` runs both reduced.
STRESS_ROUNDS ?= 20
STRESS_MESSAGES ?= 2000

stress: build-tests
	@CRASH_ROUNDS=$(STRESS_ROUNDS) CRASH_MESSAGES=$(STRESS_MESSAGES) \
	FAULT_SCALE=1 MAILPROC=$(CURDIR)/$(BUILD)/mailproc \
	MP_BUILD=$(CURDIR)/$(BUILD) MP_TOP=$(CURDIR) \
	MAILPROC_TEMPLATES=$(CURDIR)/templates \
	prove -v --exec '' tests/system/crash.t tests/system/faults.t

.PHONY: stress

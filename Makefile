# devsep — top-level Makefile (plain GNU make).
#
# Every directory contributes a `module.mk` fragment; this file only holds
# the shared flags and the top-level targets.  A fragment appends to:
#   PROGS        programs installed into bin/ (bin/devsep-*)
#   TEST_PROGS   test binaries built into $(BUILD)/tests (not installed)
#   UNIT_TESTS   commands run by `make test-unit`   (cmocka binaries)
#   INT_TESTS    commands run by `make test-integration` (scripts / binaries)
#   FUZZERS      libFuzzer targets (built by `make fuzz`, clang only)
#   CLEAN_EXTRA  extra paths removed by `make clean`

BUILD   ?= build
BIN     ?= bin
CC      ?= gcc
PKG_CONFIG ?= pkg-config

PKGS     := libevent xenstore xencontrol libseccomp libcap-ng jansson
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
           -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -fPIC -I. -Icommon -I$(BUILD)/gen $(PKG_CFLAGS)
LDFLAGS ?=
LDLIBS  += $(PKG_LIBS) -lpthread

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

PROGS       :=
TEST_PROGS  :=
UNIT_TESTS  :=
INT_TESTS   :=
FUZZERS     :=
CLEAN_EXTRA :=

.PHONY: all deps check test-unit test-integration asan asan-check fuzz demo bench clean install uninstall programs progs deb
all: progs

# Module fragments: common first (everyone links libdevsep.a).
include common/module.mk
include $(sort $(filter-out common/module.mk,$(wildcard */module.mk)))
# Test suites with their own fragment (tests/<suite>/module.mk).
include $(sort $(wildcard tests/*/module.mk))

progs: $(LIBDEVSEP) $(PROGS) $(TEST_PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	@scripts/install-deps
	@scripts/create-users

# `make check`: install what is missing, build, run every test.  deps ran
# (as root), so every prerequisite is there: a test that skips (exit 77,
# see tests/run-tests) fails the check instead of passing silently.
NPROC := $(shell nproc 2>/dev/null || echo 2)

check: deps
	$(MAKE) -j$(NPROC) all
	$(MAKE) test-unit test-integration fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) \
	    SKIP_IS_FAILURE=1

export BUILD BIN

test-unit: progs
	@tests/run-tests unit $(UNIT_TESTS)

test-integration: progs
	@tests/run-tests integration $(INT_TESTS)

# libFuzzer targets (clang): each module adds a rule and appends to FUZZERS.
# `make fuzz` runs each for FUZZ_SECONDS; `make check` runs a short pass.
FUZZ_SECONDS ?= 10
CHECK_FUZZ_SECONDS ?= 5
fuzz: $(FUZZERS)
	@tests/run-fuzz $(FUZZ_SECONDS) $(FUZZERS)

# The same tree with ASan+UBSan, and every test run against it.
asan:
	$(MAKE) SAN=1 BUILD=build-asan BIN=bin-asan all

asan-check:
	$(MAKE) SAN=1 BUILD=build-asan BIN=bin-asan all test-unit test-integration

demo: deps
	$(MAKE) all
	@scripts/demo

bench: deps
	$(MAKE) all
	@bench/run-all

clean:
	rm -rf build build-asan bin bin-asan $(CLEAN_EXTRA)

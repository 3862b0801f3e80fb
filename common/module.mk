# common/: libdevsep.a, linked into every program.
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o)
LIBDEVSEP   := $(BUILD)/libdevsep.a

$(LIBDEVSEP): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# Helper for a program: $(call devsep_prog,NAME,OBJS)
# links bin/NAME from OBJS + libdevsep.a.
define devsep_prog
$(BIN)/$(1): $(2) $(LIBDEVSEP)
	@mkdir -p $(BIN)
	$$(CC) $$(LDFLAGS) -o $$@ $(2) $(LIBDEVSEP) $$(LDLIBS)
PROGS += $(BIN)/$(1)
endef

# cmocka unit tests: tests in common/tests/test_*.c, one binary each.
COMMON_TESTS := $(patsubst common/tests/%.c,$(BUILD)/tests/unit/%,$(wildcard common/tests/test_*.c))
$(BUILD)/tests/unit/%: $(BUILD)/common/tests/%.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
TEST_PROGS += $(COMMON_TESTS)
UNIT_TESTS += $(COMMON_TESTS)

# libFuzzer targets (clang only): each harness is compiled together with the
# common/*.c it needs, straight from source (libdevsep.a is gcc-built).
# Seeds: tests/fuzz-corpus/<target>/.  Without clang (or its libFuzzer
# runtime) FUZZERS stays empty and `make fuzz` runs nothing.
FUZZ_CC     ?= clang
FUZZ_RT     := $(shell $(FUZZ_CC) --print-runtime-dir 2>/dev/null)
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -Icommon \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer -Wall -Wextra -Werror -Wno-unused-parameter
FUZZ_SRCS_fuzz_msg    := common/msg.c common/msgchan.c common/log.c
FUZZ_LIBS_fuzz_msg    := -levent
FUZZ_SRCS_fuzz_config := common/config.c common/parse.c common/log.c
FUZZ_SRCS_fuzz_parse  := common/parse.c
COMMON_FUZZERS := fuzz_msg fuzz_config fuzz_parse

define common_fuzzer
$(BUILD)/fuzz/$(1): common/fuzz/$(1).c $(FUZZ_SRCS_$(1)) $(wildcard common/*.h)
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $$@ $$< $(FUZZ_SRCS_$(1)) $(FUZZ_LIBS_$(1))
FUZZERS += $(BUILD)/fuzz/$(1)
endef

ifneq ($(wildcard $(FUZZ_RT)/libclang_rt.fuzzer*.a),)
$(foreach f,$(COMMON_FUZZERS),$(eval $(call common_fuzzer,$(f))))
else
$(warning $(FUZZ_CC) with libFuzzer not found: common fuzzers not built)
endif

# `make torture-fuzz`: every fuzzer to >= 10 M executions on its seeds.
TORTURE_FUZZ_RUNS ?= 10000000
.PHONY: torture-fuzz
# (FUZZERS is complete only after every module.mk: build it from the recipe)
torture-fuzz:
	$(if $(FUZZERS),@$(MAKE) --no-print-directory $(FUZZERS))
	@common/fuzz/torture $(TORTURE_FUZZ_RUNS) $(FUZZERS)

# Every unit test under valgrind (tests/valgrind-unit); list-unit-tests
# prints the complete UNIT_TESTS list for scripts.
.PHONY: list-unit-tests valgrind-unit
list-unit-tests:
	@echo $(UNIT_TESTS)
valgrind-unit: progs
	@tests/valgrind-unit $(UNIT_TESTS)

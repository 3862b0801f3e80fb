# lockd/: devsep-lockd (per-domain slow/fast locks + JSON config store).
LOCKD_SRCS := lockd/lockd.c lockd/dispatch.c lockd/domain.c lockd/store.c \
              lockd/locktable.c lockd/stats.c lockd/libxl.c lockd/xlk.c
LOCKD_OBJS := $(LOCKD_SRCS:%.c=$(BUILD)/%.o)
$(eval $(call devsep_prog,devsep-lockd,$(LOCKD_OBJS)))

# cmocka unit tests (lockd/tests/test_*.c), linked with the pure modules.
LOCKD_UNIT := $(BUILD)/tests/unit/lockd_test_locktable \
              $(BUILD)/tests/unit/lockd_test_store
$(BUILD)/tests/unit/lockd_test_locktable: $(BUILD)/lockd/tests/test_locktable.o \
    $(BUILD)/lockd/locktable.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
$(BUILD)/tests/unit/lockd_test_store: $(BUILD)/lockd/tests/test_store.o \
    $(BUILD)/lockd/store.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
$(BUILD)/tests/unit/lockd_test_invariant: $(BUILD)/lockd/tests/test_invariant.o \
    $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
LOCKD_UNIT += $(BUILD)/tests/unit/lockd_test_invariant
# the dispatcher with the real lock table, domains and store (no main)
LOCKD_DISP_OBJS := $(filter-out $(BUILD)/lockd/lockd.o,$(LOCKD_OBJS))
$(BUILD)/tests/unit/lockd_test_dispatch: $(BUILD)/lockd/tests/test_dispatch.o \
    $(LOCKD_DISP_OBJS) $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
LOCKD_UNIT += $(BUILD)/tests/unit/lockd_test_dispatch
$(BUILD)/lockd/tests/%.o: CFLAGS += -Ilockd
TEST_PROGS += $(LOCKD_UNIT)
UNIT_TESTS += $(LOCKD_UNIT)

# Integration: a blocking client tool driven by shell scripts.
LOCKD_TOOL := $(BUILD)/tests/lockd-tool
$(LOCKD_TOOL): $(BUILD)/lockd/tests/lockd-tool.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
TEST_PROGS += $(LOCKD_TOOL)
$(BUILD)/tests/lockd-test-async: $(BUILD)/lockd/tests/test-async.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/lockd-test-async
INT_TESTS += lockd/tests/test-locks.sh lockd/tests/test-contend.sh \
             lockd/tests/test-restart.sh lockd/tests/test-seed002.sh \
             lockd/tests/test-async.sh lockd/tests/test-invariant-xs.sh \
             lockd/tests/test-xl-locks.sh lockd/tests/test-xl-world.sh
INT_TESTS += lockd/model/check-model.sh

# bench/lock-bench (not a test): the binary it runs.
$(BUILD)/bench/lock-bench-bin: $(BUILD)/bench/lock/lock-bench.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
TEST_PROGS += $(BUILD)/bench/lock-bench-bin

# libFuzzer targets (make fuzz; clang only, like common/module.mk).
LOCKD_FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -Icommon \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Wall -Wextra -Werror -Wno-unused-parameter
ifneq ($(wildcard $(FUZZ_RT)/libclang_rt.fuzzer*.a),)
$(BUILD)/fuzz/fuzz_lockd_store: lockd/fuzz/fuzz_store.c lockd/store.c \
    common/invariant.c common/inv_libxl.c common/parse.c common/log.c \
    common/fdio.c \
    lockd/store.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LOCKD_FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -ljansson -lxenstore
$(BUILD)/fuzz/fuzz_lockd_locktable: lockd/fuzz/fuzz_locktable.c \
    lockd/locktable.c lockd/locktable.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LOCKD_FUZZ_CFLAGS) -o $@ $(filter %.c,$^)
FUZZERS += $(BUILD)/fuzz/fuzz_lockd_store $(BUILD)/fuzz/fuzz_lockd_locktable
endif

# hotplugd/: devsep-hotplugd, its tests, and the tests + fuzzer of
# watcherd/xsproxy.c (whose object watcherd/module.mk links into watcherd).

HOTPLUGD_SRCS := hotplugd/hotplugd.c hotplugd/job.c hotplugd/spawn.c \
                 hotplugd/output.c hotplugd/stats.c hotplugd/cgroup.c \
                 hotplugd/launch.c
HOTPLUGD_OBJS := $(HOTPLUGD_SRCS:%.c=$(BUILD)/%.o)
$(eval $(call devsep_prog,devsep-hotplugd,$(HOTPLUGD_OBJS)))

# ---- watcherd/xsproxy.c: tests and fuzzer (the object itself is linked
# into devsep-watcherd by watcherd/module.mk) ----
XSPROXY_OBJ := $(BUILD)/watcherd/xsproxy.o

# xsproxy-run: runs a command against a proxy on a real xenstored.
$(BUILD)/tests/xsproxy-run: $(BUILD)/hotplugd/tests/xsproxy_run.o \
    $(XSPROXY_OBJ) $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/xsproxy-run
INT_TESTS += watcherd/tests/test_xsproxy.sh

# ---- hotplugd integration test: the real daemon, played-watcherd harness ----
HP_INT_OBJS := $(BUILD)/hotplugd/tests/hp_harness.o \
               $(BUILD)/hotplugd/tests/test_hotplugd_int.o
$(BUILD)/tests/test-hotplugd-int: $(HP_INT_OBJS) $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/test-hotplugd-int
INT_TESTS  += $(BUILD)/tests/test-hotplugd-int

# hp-send: plays watcherd for one job (used by watcherd/tests/test_xsproxy.sh)
$(BUILD)/tests/hp-send: $(BUILD)/hotplugd/tests/hp_send.o \
    $(BUILD)/hotplugd/tests/hp_harness.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/hp-send

# ---- hotplugd cmocka unit tests ----
# test_job: job.c's state machine with the process boundary wrapped.
$(BUILD)/tests/unit/hotplugd_test_job: $(BUILD)/hotplugd/tests/test_job.o \
    $(BUILD)/hotplugd/job.o $(BUILD)/hotplugd/stats.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -Wl,--wrap=msgchan_send \
	    -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)
# test_spawn: script resolution, job checks, argv/env, a real spawn.
$(BUILD)/tests/unit/hotplugd_test_spawn: $(BUILD)/hotplugd/tests/test_spawn.o \
    $(BUILD)/hotplugd/spawn.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)
HP_UNIT := $(BUILD)/tests/unit/hotplugd_test_job $(BUILD)/tests/unit/hotplugd_test_spawn
TEST_PROGS += $(HP_UNIT)
UNIT_TESTS += $(HP_UNIT)

# ---- libFuzzer target for xsproxy's parsers and scope (make fuzz) ----
FUZZ_CC ?= clang
FUZZ_XSPROXY_SRCS := hotplugd/fuzz/fuzz_xsproxy.c watcherd/xsproxy.c \
                     common/listen.c common/clock.c common/msg.c \
                     common/msgchan.c common/xsutil.c \
                     common/log.c common/parse.c
$(BUILD)/fuzz/fuzz_xsproxy: $(FUZZ_XSPROXY_SRCS) watcherd/xsproxy.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 \
	    -D_GNU_SOURCE -I. -Icommon -o $@ $(FUZZ_XSPROXY_SRCS) \
	    -levent -lxenstore
FUZZERS += $(BUILD)/fuzz/fuzz_xsproxy
# end to end: watcherd + hotplugd + proxy + the real block script
INT_TESTS  += hotplugd/tests/test_e2e_block.sh

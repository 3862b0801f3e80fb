# hotplugd/: devsep-hotplugd, its tests, and the tests + fuzzer of
# watcherd/xsproxy.c (whose object watcherd/module.mk links into watcherd).

HOTPLUGD_SRCS := hotplugd/hotplugd.c hotplugd/job.c hotplugd/spawn.c \
                 hotplugd/output.c hotplugd/jobsfile.c hotplugd/stats.c
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

# qemu-broker/: devsep-qemu-broker (broker + privileged launcher), its
# tests (cmocka units, a fake QMP peer, integration scripts with a real
# QEMU) and the QMP parser fuzzer.
BROKER_SRCS := broker.c dispatch.c client.c dm.c list.c qdisk.c op.c \
	cdrom.c disk.c fdset.c image.c xsupdate.c qmp.c qmp_parse.c \
	launcher.c launch_msg.c qemu_args.c jail.c qmpsock.c adopt.c
BROKER_OBJS := $(addprefix $(BUILD)/qemu-broker/,$(BROKER_SRCS:.c=.o))
$(eval $(call devsep_prog,devsep-qemu-broker,$(BROKER_OBJS)))

# ---- tests ----
# the broker's objects (minus main) as an archive: a test links only what
# it uses
BROKER_TLIB := $(BUILD)/qemu-broker/libbroker.a
$(BROKER_TLIB): $(filter-out $(BUILD)/qemu-broker/broker.o,$(BROKER_OBJS))
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/tests/brokerc: $(BUILD)/qemu-broker/tests/brokerc.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
# fake-qemu stands in for QEMU, under the launcher's seccomp filter and
# QEMU's -sandbox; like the real QEMU it is built without `make
# asan-check`'s sanitizers (instrumented, two were left spinning at 70% CPU
# after an asan-check run).  It needs only jansson.
$(BUILD)/tests/fake-qemu: qemu-broker/tests/fake-qemu.c qemu-broker/module.mk
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -o $@ $< -ljansson
$(BUILD)/tests/fake-watcherd: $(BUILD)/qemu-broker/tests/fake-watcherd.o \
    $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/brokerc $(BUILD)/tests/fake-qemu \
	$(BUILD)/tests/fake-watcherd

# cmocka unit tests: qemu-broker/tests/test_*.c, each linked with the
# broker objects (minus main) and libdevsep.
BROKER_UNIT := $(patsubst qemu-broker/tests/%.c,$(BUILD)/tests/unit/broker_%,\
	$(wildcard qemu-broker/tests/test_*.c))
$(BUILD)/tests/unit/broker_%: $(BUILD)/qemu-broker/tests/%.o $(BROKER_TLIB) \
    $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BROKER_TLIB) $(LIBDEVSEP) $(LDLIBS) \
	    $(CMOCKA_LIBS)
TEST_PROGS += $(BROKER_UNIT)
UNIT_TESTS += $(BROKER_UNIT)

# ---- libFuzzer target for the QMP parser (make fuzz) ----
FUZZ_CC ?= clang
FUZZ_QMP_SRCS := qemu-broker/fuzz/fuzz_qmp.c qemu-broker/qmp_parse.c
$(BUILD)/fuzz/fuzz_qmp: $(FUZZ_QMP_SRCS) qemu-broker/qmp_parse.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 \
	    -D_GNU_SOURCE -I. -Icommon -o $@ $(FUZZ_QMP_SRCS) -ljansson
FUZZERS += $(BUILD)/fuzz/fuzz_qmp

# Integration tests (real QEMU, real lockd; run from the repo root).
INT_TESTS += qemu-broker/tests/test-broker-qemu.sh \
	qemu-broker/tests/test-broker-hostile.sh \
	qemu-broker/tests/test-broker-race.sh \
	qemu-broker/tests/test-broker-qdisk.sh \
	qemu-broker/tests/test-broker-xs.sh \
	qemu-broker/tests/test-broker-restart.sh \
	qemu-broker/tests/test-broker-xl.sh

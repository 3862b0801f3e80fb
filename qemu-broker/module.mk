# qemu-broker/: devsep-qemu-broker (broker + privileged launcher), its
# tests (cmocka units, a fake QMP peer, integration scripts with a real
# QEMU) and the QMP parser fuzzer.
BROKER_SRCS := broker.c dispatch.c client.c dm.c list.c qdisk.c op.c \
	cdrom.c disk.c fdset.c image.c xsupdate.c qmp.c qmp_parse.c \
	launcher.c qemu_args.c jail.c
BROKER_OBJS := $(addprefix $(BUILD)/qemu-broker/,$(BROKER_SRCS:.c=.o))
$(eval $(call devsep_prog,devsep-qemu-broker,$(BROKER_OBJS)))

# ---- tests ----
BROKER_TLIB := $(filter-out $(BUILD)/qemu-broker/broker.o,$(BROKER_OBJS))

$(BUILD)/tests/brokerc: $(BUILD)/qemu-broker/tests/brokerc.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
$(BUILD)/tests/fake-qemu: $(BUILD)/qemu-broker/tests/fake-qemu.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/brokerc $(BUILD)/tests/fake-qemu

# qemu-broker/: devsep-qemu-broker (broker + privileged launcher), its
# tests (cmocka units, a fake QMP peer, integration scripts with a real
# QEMU) and the QMP parser fuzzer.
BROKER_SRCS := broker.c dispatch.c client.c dm.c list.c qdisk.c op.c \
	cdrom.c disk.c fdset.c image.c xsupdate.c qmp.c qmp_parse.c \
	launcher.c qemu_args.c jail.c
BROKER_OBJS := $(addprefix $(BUILD)/qemu-broker/,$(BROKER_SRCS:.c=.o))
$(eval $(call devsep_prog,devsep-qemu-broker,$(BROKER_OBJS)))

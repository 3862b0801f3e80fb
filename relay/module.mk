# relay/: devsep-relay, the hotplug script libxl execs for backends in its
# own domain (dom0): asks devsep-watcherd to run the real script in
# devsep-hotplugd's sandbox (backend_mode libxl; docs/DEPLOY.md).
RELAY_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard relay/*.c))
$(eval $(call devsep_prog,devsep-relay,$(RELAY_OBJS)))
INT_TESTS += $(sort $(wildcard relay/tests/it-*.sh))

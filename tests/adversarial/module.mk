# tests/adversarial/: hostile hotplug scripts run by the real hotplugd in its
# real sandbox, against the real watcherd proxy and xenstored (issue 14).
$(BUILD)/tests/xs-raw: $(BUILD)/tests/adversarial/xs-raw.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $<
$(BUILD)/tests/sys-probe: $(BUILD)/tests/adversarial/sys-probe.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $<
TEST_PROGS += $(BUILD)/tests/xs-raw $(BUILD)/tests/sys-probe
INT_TESTS += tests/adversarial/test-hostile-script.sh

# tests/adversarial/: hostile hotplug scripts run by the real hotplugd in its
# real sandbox, against the real watcherd proxy and xenstored (issue 14).
#
# xs-raw and sys-probe run inside a hostile script, under the scripts'
# seccomp filter.  They are built without `make asan-check`'s sanitizers:
# the sanitizer runtime's start-up makes calls that filter kills, so an
# instrumented probe would die before probing and every check would hold
# for the wrong reason.
ADV_CFLAGS := $(filter-out -fsanitize=%,$(CFLAGS))
$(BUILD)/tests/xs-raw: tests/adversarial/xs-raw.c tests/adversarial/module.mk
	@mkdir -p $(dir $@)
	$(CC) $(ADV_CFLAGS) -o $@ $<
$(BUILD)/tests/sys-probe: tests/adversarial/sys-probe.c tests/adversarial/module.mk
	@mkdir -p $(dir $@)
	$(CC) $(ADV_CFLAGS) -o $@ $<
TEST_PROGS += $(BUILD)/tests/xs-raw $(BUILD)/tests/sys-probe
INT_TESTS += tests/adversarial/test-hostile-script.sh

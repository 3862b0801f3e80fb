# watcherd/: devsep-watcherd (the xenstore side), its unit and integration
# tests.  Every watcherd/*.c except watcherd.c also goes into
# libwatcherd.a so unit tests link only what they use.
WATCHERD_SRCS := $(wildcard watcherd/*.c)
WATCHERD_OBJS := $(WATCHERD_SRCS:%.c=$(BUILD)/%.o)
WATCHERD_LIB  := $(BUILD)/watcherd/libwatcherd.a

$(WATCHERD_LIB): $(filter-out $(BUILD)/watcherd/watcherd.o,$(WATCHERD_OBJS))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(eval $(call devsep_prog,devsep-watcherd,$(WATCHERD_OBJS)))

# cmocka unit tests: watcherd/tests/test_*.c, one binary each.
WATCHERD_UTESTS := $(patsubst watcherd/tests/%.c,$(BUILD)/tests/unit/watcherd_%,$(wildcard watcherd/tests/test_*.c))
$(BUILD)/tests/unit/watcherd_%: $(BUILD)/watcherd/tests/%.o $(WATCHERD_LIB) $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(WATCHERD_LIB) $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
TEST_PROGS += $(WATCHERD_UTESTS)
UNIT_TESTS += $(WATCHERD_UTESTS)

# Integration tests (real xenstored via tests/xenworld, actors, hotplugd).
INT_TESTS += $(sort $(wildcard watcherd/tests/it-*.sh))

# Test client for watcherd.sock (integration tests).
$(BUILD)/tests/wd-client: $(BUILD)/watcherd/tests/wd-client.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/wd-client

# test_xsutil replaces libxenstore's transaction calls (common/xsutil's
# retry loop is tested at that boundary).
$(BUILD)/tests/unit/watcherd_test_xsutil: LDFLAGS += \
	-Wl,--wrap=xs_transaction_start,--wrap=xs_transaction_end

# test_input reads a device's inputs through the wrapped libxenstore
# (xs_read; xs_open/xs_close for the transport) and xsbatch's burst.
$(BUILD)/tests/unit/watcherd_test_input: LDFLAGS += \
	-Wl,--wrap=xs_read,--wrap=xs_open,--wrap=xs_close \
	-Wl,--wrap=xsb_available,--wrap=xsb_read

# test_hint routes events into the real device table with the scan
# replaced at its boundary.
$(BUILD)/tests/unit/watcherd_test_hint: LDFLAGS += \
	-Wl,--wrap=scan_all,--wrap=scan_guests

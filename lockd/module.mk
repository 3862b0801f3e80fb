# lockd/: devsep-lockd (per-domain slow/fast locks + JSON config store).
LOCKD_UNIT := $(BUILD)/tests/unit/lockd_test_locktable
$(BUILD)/tests/unit/lockd_test_locktable: $(BUILD)/lockd/tests/test_locktable.o \
    $(BUILD)/lockd/locktable.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
$(BUILD)/lockd/tests/%.o: CFLAGS += -Ilockd
TEST_PROGS += $(LOCKD_UNIT)
UNIT_TESTS += $(LOCKD_UNIT)

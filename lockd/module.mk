# lockd/: devsep-lockd (per-domain slow/fast locks + JSON config store).
LOCKD_UNIT := $(BUILD)/tests/unit/lockd_test_locktable
$(BUILD)/tests/unit/lockd_test_locktable: $(BUILD)/lockd/tests/test_locktable.o \
    $(BUILD)/lockd/locktable.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
$(BUILD)/lockd/tests/%.o: CFLAGS += -Ilockd
TEST_PROGS += $(LOCKD_UNIT)
UNIT_TESTS += $(LOCKD_UNIT)
LOCKD_UNIT += $(BUILD)/tests/unit/lockd_test_store
$(BUILD)/tests/unit/lockd_test_store: $(BUILD)/lockd/tests/test_store.o \
    $(BUILD)/lockd/store.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
TEST_PROGS += $(BUILD)/tests/unit/lockd_test_store
UNIT_TESTS += $(BUILD)/tests/unit/lockd_test_store

# devsepctl/: the CLI client (bin/devsepctl) and its tests.
CTL_SRCS := $(filter-out devsepctl/main.c,$(wildcard devsepctl/*.c))
CTL_OBJS := $(CTL_SRCS:%.c=$(BUILD)/%.o)

$(BIN)/devsepctl: $(BUILD)/devsepctl/main.o $(CTL_OBJS) $(LIBDEVSEP)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/devsepctl/main.o $(CTL_OBJS) $(LIBDEVSEP) $(LDLIBS)
PROGS += $(BIN)/devsepctl

# cmocka unit tests: devsepctl/tests/test_*.c, linked with everything but main.
CTL_UNIT := $(patsubst devsepctl/tests/%.c,$(BUILD)/tests/unit/ctl_%,$(wildcard devsepctl/tests/test_*.c))
$(BUILD)/tests/unit/ctl_%: $(BUILD)/devsepctl/tests/%.o $(CTL_OBJS) $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(CTL_OBJS) $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
TEST_PROGS += $(CTL_UNIT)
UNIT_TESTS += $(CTL_UNIT)

INT_TESTS += $(sort $(wildcard devsepctl/tests/test-*.sh))

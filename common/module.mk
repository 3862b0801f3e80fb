# common/: libdevsep.a, linked into every program.
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o)
LIBDEVSEP   := $(BUILD)/libdevsep.a

$(LIBDEVSEP): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# Helper for a program: $(call devsep_prog,NAME,OBJS)
# links bin/NAME from OBJS + libdevsep.a.
define devsep_prog
$(BIN)/$(1): $(2) $(LIBDEVSEP)
	@mkdir -p $(BIN)
	$$(CC) $$(LDFLAGS) -o $$@ $(2) $(LIBDEVSEP) $$(LDLIBS)
PROGS += $(BIN)/$(1)
endef

# cmocka unit tests: tests in common/tests/test_*.c, one binary each.
COMMON_TESTS := $(patsubst common/tests/%.c,$(BUILD)/tests/unit/%,$(wildcard common/tests/test_*.c))
$(BUILD)/tests/unit/%: $(BUILD)/common/tests/%.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
TEST_PROGS += $(COMMON_TESTS)
UNIT_TESTS += $(COMMON_TESTS)

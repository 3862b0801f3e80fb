# tests/reliability/: the reliability suite (issue 9; docs/RELIABILITY.md).
# Scenario scripts rel-*.sh run against the real xenstored (tests/xenworld)
# and the real daemons; the fast subset below runs in `make check`
# (test-integration), the long campaigns in `make torture` (bounded, stops
# by itself; see REL_TORTURE below).

# Small C helpers the scenarios use.
$(BUILD)/tests/rel-json: $(BUILD)/tests/reliability/rel-json.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/rel-json

# Fast subset (make check): each scenario with its small defaults.
REL_FAST := tests/reliability/rel-crash.sh
INT_TESTS += $(REL_FAST)

$(BUILD)/tests/rel-guest: $(BUILD)/tests/reliability/rel-guest.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -lxenstore
TEST_PROGS += $(BUILD)/tests/rel-guest

# tests/reliability/: the reliability suite (issue 9; docs/RELIABILITY.md).
# Scenario scripts rel-*.sh run against the real xenstored (tests/xenworld)
# and the real daemons.  The fast subset (small settings) runs in
# `make check` (test-integration, about 2 minutes); the long campaigns and
# the known failures run in `make torture` (tests/reliability/torture, then
# every libFuzzer target to 10 M executions), bounded, stops by itself.

# Small C helpers the scenarios use.
$(BUILD)/tests/rel-json: $(BUILD)/tests/reliability/rel-json.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS)
$(BUILD)/tests/rel-guest: $(BUILD)/tests/reliability/rel-guest.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -lxenstore
TEST_PROGS += $(BUILD)/tests/rel-json $(BUILD)/tests/rel-guest

# Fast subset (make check).  Every bug this suite found is fixed; a
# rel-known-*.sh scenario (torture only) would mark a known, unfixed one.
# (The no-script case this suite found is now watcherd/tests/it-noscript.sh.)
REL_FAST := tests/reliability/rel-crash.sh tests/reliability/rel-xs-restart.sh \
            tests/reliability/rel-scripts.sh tests/reliability/rel-hostile.sh \
            tests/reliability/rel-driverdom.sh tests/reliability/rel-setsid.sh
INT_TESTS += $(REL_FAST)

.PHONY: torture
torture: progs
	@tests/reliability/torture; r=$$?; \
	$(MAKE) --no-print-directory torture-fuzz || r=1; exit $$r

# bench/: side-by-side benchmarks of devsep against the real `xl devd`
# (bench/devd-compare, run by `make bench` through bench/run-all).
#   bench-driver   timing-critical parts (storms, floor, reconcile, CPU/RSS)
#   trivial-script the cheapest hotplug script, linked statically so that
#                  LD_PRELOAD (the shim, inherited from xl devd) never
#                  loads into it and both daemons run the same binary

BENCH_DRIVER_OBJS := $(patsubst %.c,$(BUILD)/%.o,bench/driver.c bench/storm.c \
                     bench/floor.c bench/recon.c bench/tlog.c bench/procstat.c \
                     bench/util.c)

$(BUILD)/bench/bench-driver: $(BENCH_DRIVER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lxenstore -lpthread

# Static and without sanitizers (an ASan runtime cannot be linked statically).
$(BUILD)/bench/trivial-script: bench/trivial-script.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -static -o $@ $< \
	    -lxenstore -lxentoolcore

TEST_PROGS += $(BUILD)/bench/bench-driver $(BUILD)/bench/trivial-script

# Unit test of the log parsing, concurrency and percentile arithmetic.
$(BUILD)/tests/unit/bench_test_tlog: $(BUILD)/bench/tests/test_tlog.o \
    $(BUILD)/bench/tlog.o $(BUILD)/bench/util.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)
TEST_PROGS += $(BUILD)/tests/unit/bench_test_tlog
UNIT_TESTS += $(BUILD)/tests/unit/bench_test_tlog

# The smoke run (bench/devd-compare --quick) is not in `make check`: it
# needs 35-100 s on this shared machine (the goal was < 60 s, reliably).

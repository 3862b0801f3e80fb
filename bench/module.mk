# bench/: side-by-side benchmarks of devsep against the real `xl devd`
# (bench/devd-compare, run by `make bench` through bench/run-all).
#   bench-driver   timing-critical parts (storms, floor, reconcile, CPU/RSS)
#   trivial-script the cheapest hotplug script, linked statically so that
#                  LD_PRELOAD (the shim, inherited from xl devd) never
#                  loads into it and both daemons run the same binary

BENCH_DRIVER_OBJS := $(patsubst %.c,$(BUILD)/%.o,bench/driver.c bench/storm.c \
                     bench/floor.c bench/recon.c bench/tlog.c bench/procstat.c)

$(BUILD)/bench/bench-driver: $(BENCH_DRIVER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lxenstore -lpthread

# Static and without sanitizers (an ASan runtime cannot be linked statically).
$(BUILD)/bench/trivial-script: bench/trivial-script.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -static -o $@ $< \
	    -lxenstore -lxentoolcore

TEST_PROGS += $(BUILD)/bench/bench-driver $(BUILD)/bench/trivial-script

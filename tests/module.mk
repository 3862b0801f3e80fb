# tests/: the test world (fake hypervisor shim for the real xenstored,
# world control helper, simulated kernel backends / guest frontends / toolstack).
# See tests/world/README.md.

SHIM_SRCS := $(wildcard tests/shim/*.c)
SHIM_OBJS := $(SHIM_SRCS:%.c=$(BUILD)/%.o)
XENSHIM   := $(BUILD)/tests/libxenshim.so

# The shim is LD_PRELOADed into xenstored: never build it with sanitizers.
$(BUILD)/tests/shim/%.o: tests/shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -fvisibility=default -MMD -MP -c -o $@ $<

$(XENSHIM): $(SHIM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ -ldl -lpthread

ACTOR_COMMON := $(BUILD)/tests/actors/xsutil.o $(BUILD)/common/xsutil.o
WORLD_PROGS  := $(BUILD)/tests/xenworld-ctl $(BUILD)/tests/actor-toolstack \
                $(BUILD)/tests/actor-backend $(BUILD)/tests/actor-frontend \
                $(BUILD)/tests/check-dominfo $(BUILD)/tests/check-xs

$(BUILD)/tests/xenworld-ctl: $(BUILD)/tests/world/xenworld-ctl.o $(ACTOR_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ -lxenstore
$(BUILD)/tests/actor-%: $(BUILD)/tests/actors/%.o $(ACTOR_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ -lxenstore
$(BUILD)/tests/check-xs: $(BUILD)/tests/world/check-xs.o $(ACTOR_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ -lxenstore
# check-dominfo runs under the shim's LD_PRELOAD, like xenstored: no
# sanitizers (ASan must be the first DSO loaded, the shim would be).
$(BUILD)/tests/world/check-dominfo.o: tests/world/check-dominfo.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -MMD -MP -c -o $@ $<
$(BUILD)/tests/check-dominfo: $(BUILD)/tests/world/check-dominfo.o
	$(CC) $(filter-out -fsanitize=%,$(LDFLAGS)) -o $@ $^ -lxenctrl

TEST_PROGS += $(XENSHIM) $(WORLD_PROGS)
INT_TESTS  += tests/world/test-world.sh tests/world/test-actors.sh \
              tests/world/test-xl.sh

# vmm-sched-sim, the discrete-event simulator (docs/simulator.md): a library
# of the world, the rules and the reports (also linked by the unit tests),
# and the command. Included from the top-level Makefile.
SIM_SRCS := $(filter-out vmm-sched/sim/main.c,$(wildcard vmm-sched/sim/*.c))
SIM_OBJS := $(SIM_SRCS:%.c=$(BUILD)/%.o)
SIMLIB   := $(BUILD)/libvmmsim.a
SIM_BIN  := $(BUILD)/vmm-sched-sim
SIM_LIBS := -linih -lm

$(BUILD)/vmm-sched/sim/%.o: vmm-sched/sim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Ivmm-sched/lib -Ivmm-sched/sim -c $< -o $@

$(SIMLIB): $(SIM_OBJS)
	$(AR) rcs $@ $^

$(SIM_BIN): $(BUILD)/vmm-sched/sim/main.o $(SIMLIB) $(LIBVS)
	$(CC) $(LDFLAGS) -o $@ $^ $(SIM_LIBS)

all: $(SIM_BIN)

-include $(SIM_OBJS:.o=.d) $(BUILD)/vmm-sched/sim/main.d

# Its unit tests (tests/unit/test_sim*.c) link the simulator too.
SIM_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_sim*.c))
$(SIM_TESTS): $(SIMLIB)
$(SIM_TESTS): UNIT_LIBS = $(SIMLIB) $(LIBVS) $(SIM_LIBS)

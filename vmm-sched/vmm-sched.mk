# Host side: the pure policy library, the daemon, the CLI.
LIB_SRCS := $(wildcard vmm-sched/lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBVS    := $(BUILD)/libvmmsched.a

DAEMON_SRCS := $(wildcard vmm-sched/daemon/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
CTL_SRCS    := $(wildcard vmm-sched/ctl/*.c)
CTL_OBJS    := $(CTL_SRCS:%.c=$(BUILD)/%.o)

DAEMON_LIBS := $(shell pkg-config --libs libbpf liburing json-c libmicrohttpd inih libvirt libxml-2.0 2>/dev/null) -lnuma -lpthread
# libvirt's and libxml2's headers (libvirt_meta.c parses domain XML).
XML_CFLAGS  := $(shell pkg-config --cflags libvirt libxml-2.0 2>/dev/null)
CTL_LIBS    := $(shell pkg-config --libs json-c 2>/dev/null)

$(BUILD)/vmm-sched/%.o: vmm-sched/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XML_CFLAGS) -MMD -MP -Ivmm-sched/lib -Ivmm-sched/include -Iguest-agent/include -c $< -o $@

# The daemon includes the generated skeleton.
$(DAEMON_OBJS): $(BUILD)/vmm_sched.skel.h

$(LIBVS): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/vmm-schedd: $(DAEMON_OBJS) $(LIBVS)
	$(CC) $(LDFLAGS) -o $@ $^ $(DAEMON_LIBS)

$(BUILD)/vmm-schedctl: $(CTL_OBJS) $(LIBVS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LIBS)

all: $(LIBVS) $(BUILD)/vmm-schedd $(BUILD)/vmm-schedctl

-include $(LIB_OBJS:.o=.d) $(DAEMON_OBJS:.o=.d) $(CTL_OBJS:.o=.d)

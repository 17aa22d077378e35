# vmm-sched top-level build. `make deps` installs packages; `make` builds everything
# into build/; `make test` runs unit tests and the VM tests; `make bench` benchmarks.
BUILD      ?= build
CC         ?= gcc
BPF_CLANG  ?= $(shell command -v clang-19 || command -v clang)
BPFTOOL    ?= bpftool
SANITIZE   ?= -fsanitize=address,undefined -fno-omit-frame-pointer
# Debug builds use sanitizers; `make SANITIZE=` for a plain build.
WARN       := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -I$(BUILD)
LDFLAGS    += $(SANITIZE)
CFLAGS     += $(SANITIZE)

.PHONY: all deps test unit-test vm-test bench clean format check-format install uninstall
all:

deps:
	bash deploy/install-deps.sh

include vmm-sched/vmm-sched.mk
include vmm-sched/sim/sim.mk
include bpf/bpf.mk
include tests/testvmm/testvmm.mk
include tests/tests.mk
include guest-agent/guest.mk

$(BUILD):
	mkdir -p $@

# `make install [DESTDIR=...] [PREFIX=/usr/local] [SYSCONFDIR=/etc]`: binaries
# built without sanitizers (INSTALL_FROM= installs others, e.g. the test build),
# the systemd unit, tmpfiles.d, man pages and the example configuration;
# `make uninstall` with the same variables removes exactly what it put.
PREFIX       ?= /usr/local
SYSCONFDIR   ?= /etc
INSTALL_FROM ?= $(BUILD)/release
INSTALL_ENV   = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" \
		BIN_FROM="$(INSTALL_FROM)"

install:
ifeq ($(INSTALL_FROM),$(BUILD)/release)
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/vmm-schedd \
		$(BUILD)/release/vmm-schedctl
endif
	$(INSTALL_ENV) deploy/install.sh install

uninstall:
	$(INSTALL_ENV) deploy/install.sh uninstall

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h' ':!bpf/include/vmlinux.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' ':!bpf/include/vmlinux.h')

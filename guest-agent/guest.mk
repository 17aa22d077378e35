# The guest side of the paravirtual hints (guest-agent/) and the real-guest test
# tooling (tests/guest/), included from the top Makefile.
# `make guest` fetches Debian's 6.1 guest kernel and headers (tests/guest/fetch-kernel),
# copies the kernel to $(BUILD)/guest/kernel (the test VM cannot see the cache)
# and builds what the real-guest tests put into the guest's initramfs.
.PHONY: guest guest-kernel
guest-kernel:
	@mkdir -p $(BUILD)/guest/kernel
	@k=$$(tests/guest/fetch-kernel) && cp -L $$k/vmlinuz $$k/release $(BUILD)/guest/kernel/

guest: guest-kernel

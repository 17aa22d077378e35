include tests/unit/unit.mk
include tests/checker/checker.mk
include tests/tools/tools.mk

.PHONY: vm-test test demo
# The VM suite only (needs root: virtiofsd shares the host root with the VM).
vm-test: all
	tests/vm/run --timeout 2400 -- tests/vm/suite

# Everything, on a fresh machine: packages, build, unit, host and VM tests.
test: deps
	$(MAKE) all
	tests/run-all

# The main job on a built-in default: three test VMs scheduled in the test VM.
demo: deps
	$(MAKE) all
	tests/vm/run --timeout 900 -- tests/vm/demo

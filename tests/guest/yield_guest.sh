# The guest side of tests/guest/yield_nested, run as the initramfs's /test.sh
# by busybox sh. It loads the vmm_pvhint driver, says "yield-ready" on the
# console and waits for one command on the second serial port (/dev/ttyS1):
#   go SECS    run libpvhint's example (3 threads contending for a spinlock
#              on the 2 vCPUs, each critical section published) over and over
#              for about SECS s, then report and unload the driver
#   quit       unload the driver and exit
# Its answers on the console: "yield-result runs=N yields=N yield_acks=N
# yield_hypercalls=N" (yields: the vCPUs libpvhint gave back at the host's
# request; the driver's counters: requests acknowledged and the KVM_HC_SCHED_YIELD
# hypercalls made for them), or "yield-error WHAT".
export PATH=/bin
insmod /lib/modules/vmm_pvhint.ko || { echo "yield-error insmod vmm_pvhint failed"; exit 1; }
# Only kernel errors on the console: a warning must not split a result line.
dmesg -n 4
exec 3<>/dev/ttyS1 || { echo "yield-error cannot open /dev/ttyS1"; exit 1; }
stty -F /dev/ttyS1 -echo -icrnl 2>/dev/null
echo "yield-ready $(nproc) CPUs, $(uname -r)"
param() { cat "/sys/module/vmm_pvhint/parameters/$1"; }
read -r cmd secs <&3 || { echo "yield-error /dev/ttyS1 closed"; exit 1; }
case "$cmd $secs" in
"go "*[!0-9]* | "go ") echo "yield-error '$secs' is not a whole number of seconds"; exit 1 ;;
go*) ;;
*) rmmod vmm_pvhint; exit 0 ;;
esac
end=$(($(date +%s) + secs)) runs=0 yields=0
while [ "$(date +%s)" -lt "$end" ]; do
	pvhint_spin --threads 3 --iterations 20000 >/tmp/out 2>&1 ||
		{ echo "yield-error pvhint_spin failed: $(tail -n 3 /tmp/out | tr '\n' ' ')"; exit 1; }
	n=$(sed -n 's/.*yields=\([0-9]*\).*/\1/p' /tmp/out | tail -n 1)
	yields=$((yields + ${n:-0}))
	runs=$((runs + 1))
done
echo "yield-result runs=$runs yields=$yields yield_acks=$(param yield_acks)" \
	"yield_hypercalls=$(param yield_hypercalls)"
rmmod vmm_pvhint || { echo "yield-error rmmod vmm_pvhint failed"; exit 1; }

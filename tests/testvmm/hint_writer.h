/*
 * The test VMM playing a guest's hint driver: a thread that writes a hint
 * region (docs/guest-abi.md) into a file the agent reads, benign or hostile.
 */
#ifndef TESTVMM_HINT_WRITER_H
#define TESTVMM_HINT_WRITER_H

#include "guest_abi.h"

/*
 * Modes: benign, cs-forever, flap, hostile, payload (publishes @guest's state),
 * guest (the header only: the payload writes its slots, hint_writer_region()
 * mapped into the VM at GUEST_HINTS_GPA). 0, or -1 after a line on stderr.
 */
int hint_writer_start(const char *path, const char *mode, int nr_vcpus,
		      const volatile struct vcpu_slot *guest);
/* Leaves the region in the "no guest" state and stops the thread. */
void hint_writer_stop(void);
/* Is @mode one hint_writer_start() knows? */
int hint_writer_mode_known(const char *mode);
/* Does the payload write the region itself in @mode? */
int hint_writer_in_guest(const char *mode);
/* The region's mapping (GUEST_HINTS_SIZE bytes) while started, else NULL. */
void *hint_writer_region(void);

#endif

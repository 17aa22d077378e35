/* The pins under --pin-dir that let the scheduler outlive the agent. */
#ifndef VS_PINNED_STATE_H
#define VS_PINNED_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_daemon;

enum vs_pinned {
	VS_PINNED_ERROR = -1, /* unreadable or not ours: err says what */
	VS_PINNED_NONE,	      /* nothing pinned */
	VS_PINNED_INCOMPLETE, /* an agent died while starting: no stamp */
	VS_PINNED_FOUND,      /* a scheduler of this ABI */
	VS_PINNED_OTHER_ABI,  /* a scheduler of another ABI (*abi_out): err says the way out */
};
enum vs_pinned pinned_state_probe(const char *dir, uint32_t *abi_out, char *err, size_t errlen);
/* Creates the pin directory if needed and locks it: one agent per pinned scheduler. */
int pinned_state_lock(struct vs_daemon *d, char *err, size_t errlen);
/* Before load: pin every map (fresh) or reuse the pinned ones (adopt). */
int pinned_maps_prepare(struct vs_daemon *d, bool adopt, char *err, size_t errlen);
/* After attach: pin both links and write the stamp. */
int pinned_links_pin(struct vs_daemon *d, char *err, size_t errlen);
int pinned_links_open(struct vs_daemon *d, char *err, size_t errlen);
/*
 * Unregisters the pinned struct_ops map, then unpins everything under dir
 * (which stays). The map is registered without a kernel link (libbpf gives a
 * link only for ".struct_ops.link"), so closing fds never unloads it.
 */
int pinned_state_unload(const char *dir, char *err, size_t errlen);

#endif

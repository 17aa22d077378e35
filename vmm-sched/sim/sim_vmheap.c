/* Indexed min-heap of VMs (see sim_vmheap.h). */
#include "sim_vmheap.h"

#include <stdlib.h>

int sim_vmheap_init(struct sim_vmheap *h, uint32_t n, const uint64_t *keys, uint32_t stride)
{
	uint32_t i;

	h->vm = calloc(n ? n : 1, sizeof(*h->vm));
	h->pos = calloc(n ? n : 1, sizeof(*h->pos));
	h->keys = keys;
	h->stride = stride;
	h->len = 0;
	if (!h->vm || !h->pos)
		return -1;
	for (i = 0; i < n; i++)
		h->pos[i] = -1;
	return 0;
}

void sim_vmheap_free(struct sim_vmheap *h)
{
	free(h->vm);
	free(h->pos);
	h->vm = h->pos = NULL;
	h->len = 0;
}

static bool less(const struct sim_vmheap *h, int32_t a, int32_t b)
{
	uint64_t ka = h->keys[(uint64_t)a * h->stride], kb = h->keys[(uint64_t)b * h->stride];

	return ka < kb || (ka == kb && a < b);
}

static void put(struct sim_vmheap *h, uint32_t i, int32_t vm)
{
	h->vm[i] = vm;
	h->pos[vm] = (int32_t)i;
}

static void sift_up(struct sim_vmheap *h, uint32_t i)
{
	int32_t vm = h->vm[i];

	while (i > 0 && less(h, vm, h->vm[(i - 1) / 2])) {
		put(h, i, h->vm[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	put(h, i, vm);
}

static void sift_down(struct sim_vmheap *h, uint32_t i)
{
	int32_t vm = h->vm[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->len)
			break;
		if (c + 1 < h->len && less(h, h->vm[c + 1], h->vm[c]))
			c++;
		if (!less(h, h->vm[c], vm))
			break;
		put(h, i, h->vm[c]);
		i = c;
	}
	put(h, i, vm);
}

bool sim_vmheap_has(const struct sim_vmheap *h, int32_t vm)
{
	return h->pos[vm] >= 0;
}

void sim_vmheap_add(struct sim_vmheap *h, int32_t vm)
{
	if (h->pos[vm] >= 0)
		return;
	put(h, h->len++, vm);
	sift_up(h, h->len - 1);
}

void sim_vmheap_remove(struct sim_vmheap *h, int32_t vm)
{
	uint32_t i;
	int32_t last;

	if (h->pos[vm] < 0)
		return;
	i = (uint32_t)h->pos[vm];
	h->pos[vm] = -1;
	last = h->vm[--h->len];
	if (i == h->len)
		return;
	put(h, i, last);
	sift_up(h, i);
	sift_down(h, (uint32_t)h->pos[last]);
}

void sim_vmheap_update(struct sim_vmheap *h, int32_t vm)
{
	if (h->pos[vm] < 0)
		return;
	sift_up(h, (uint32_t)h->pos[vm]);
	sift_down(h, (uint32_t)h->pos[vm]);
}

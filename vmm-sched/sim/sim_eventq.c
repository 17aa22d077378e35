/* The simulator's event queue (see sim_eventq.h). */
#include "sim_eventq.h"

#include <stdlib.h>

int sim_eventq_init(struct sim_eventq *q, uint32_t cap)
{
	q->cap = cap ? cap : 64;
	q->len = 0;
	q->next_seq = 0;
	q->heap = malloc(sizeof(*q->heap) * q->cap);
	return q->heap ? 0 : -1;
}

void sim_eventq_free(struct sim_eventq *q)
{
	free(q->heap);
	q->heap = NULL;
	q->len = q->cap = 0;
}

static bool before(const struct sim_event *a, const struct sim_event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

int sim_eventq_post(struct sim_eventq *q, uint64_t at, uint32_t kind, uint32_t arg, uint64_t gen)
{
	struct sim_event ev = {
	    .at = at, .seq = q->next_seq++, .kind = kind, .arg = arg, .gen = gen};
	uint32_t i;

	if (q->len == q->cap) {
		struct sim_event *h = realloc(q->heap, sizeof(*h) * q->cap * 2);

		if (!h)
			return -1;
		q->heap = h;
		q->cap *= 2;
	}
	i = q->len++;
	while (i > 0 && before(&ev, &q->heap[(i - 1) / 2])) {
		q->heap[i] = q->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->heap[i] = ev;
	return 0;
}

bool sim_eventq_pop(struct sim_eventq *q, struct sim_event *ev)
{
	struct sim_event last;
	uint32_t i = 0;

	if (!q->len)
		return false;
	*ev = q->heap[0];
	last = q->heap[--q->len];
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= q->len)
			break;
		if (c + 1 < q->len && before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!before(&q->heap[c], &last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (q->len)
		q->heap[i] = last;
	return true;
}

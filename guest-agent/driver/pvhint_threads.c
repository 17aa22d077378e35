// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registered application threads: which thread slot each task owns. The
 * context-switch probe looks the incoming task up (RCU, no lock); registering,
 * unregistering, the thread's exit and closing the file change the table under
 * a spinlock. A slot given back is cleared (depth 0, not in use).
 */
#include <linux/hashtable.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include "pvhint_drv.h"

struct registration {
	struct hlist_node node;
	struct task_struct *task; /* only compared, never dereferenced */
	void *owner;		  /* the open file that handed out the page */
	u32 slot;
	struct rcu_head rcu;
};

static DEFINE_HASHTABLE(regs, 8);
static DEFINE_SPINLOCK(regs_lock);
static DECLARE_BITMAP(slots_used, PVHINT_MAX_THREAD_SLOTS);
static atomic_t nr_regs;
static struct tracepoint *tp_exit;

static struct registration *find_locked(struct task_struct *t)
{
	struct registration *r;

	hash_for_each_possible(regs, r, node, (unsigned long)t) if (r->task == t) return r;
	return NULL;
}

u32 pvhint_thread_of(struct task_struct *t)
{
	struct registration *r;

	if (!atomic_read(&nr_regs))
		return PVHINT_NO_THREAD;
	hash_for_each_possible_rcu_notrace(
	    regs, r, node, (unsigned long)t) if (READ_ONCE(r->task) == t) return r->slot;
	return PVHINT_NO_THREAD;
}

static void clear_slot(u32 slot)
{
	struct pvhint_thread_slot *ts = pvhint_thread(slot);

	WRITE_ONCE(ts->flags, 0);
	smp_wmb();
	memset(ts, 0, sizeof(*ts));
}

static void drop_locked(struct registration *r)
{
	clear_slot(r->slot);
	clear_bit(r->slot, slots_used);
	hash_del_rcu(&r->node);
	atomic_dec(&nr_regs);
	kfree_rcu(r, rcu);
}

int pvhint_thread_register(void *owner, unsigned int page)
{
	struct registration *r, *old;
	struct pvhint_thread_slot *ts;
	unsigned long irqflags;
	unsigned int first = page * PVHINT_THREADS_PER_PAGE, slot;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	spin_lock_irqsave(&regs_lock, irqflags);
	old = find_locked(current);
	if (old) {
		spin_unlock_irqrestore(&regs_lock, irqflags);
		kfree(r);
		return old->owner == owner ? (int)old->slot : -EBUSY;
	}
	slot = find_next_zero_bit(slots_used, first + PVHINT_THREADS_PER_PAGE, first);
	if (slot >= first + PVHINT_THREADS_PER_PAGE) {
		spin_unlock_irqrestore(&regs_lock, irqflags);
		kfree(r);
		return -ENOSPC;
	}
	set_bit(slot, slots_used);
	ts = pvhint_thread(slot);
	memset(ts, 0, sizeof(*ts));
	ts->tid = current->pid;
	smp_wmb();
	WRITE_ONCE(ts->flags, PVHINT_THREAD_IN_USE);
	r->task = current;
	r->owner = owner;
	r->slot = slot;
	hash_add_rcu(regs, &r->node, (unsigned long)current);
	atomic_inc(&nr_regs);
	spin_unlock_irqrestore(&regs_lock, irqflags);
	pvhint_note_current(slot); /* this vCPU runs it now */
	return slot;
}

int pvhint_thread_unregister(void *owner)
{
	struct registration *r;
	unsigned long irqflags;
	int err = -ENOENT;

	spin_lock_irqsave(&regs_lock, irqflags);
	r = find_locked(current);
	if (r && r->owner == owner) {
		drop_locked(r);
		err = 0;
	}
	spin_unlock_irqrestore(&regs_lock, irqflags);
	if (!err)
		pvhint_note_current(PVHINT_NO_THREAD);
	return err;
}

/* The file was closed: every thread it registered loses its slot. */
void pvhint_threads_release(void *owner)
{
	struct registration *r;
	struct hlist_node *tmp;
	unsigned long irqflags;
	unsigned int bkt;

	spin_lock_irqsave(&regs_lock, irqflags);
	hash_for_each_safe(regs, bkt, tmp, r, node) if (r->owner == owner) drop_locked(r);
	spin_unlock_irqrestore(&regs_lock, irqflags);
}

/* A thread exits: its slot goes back, so a new task at the same address never inherits it. */
static void probe_exit(void *data, struct task_struct *p)
{
	struct registration *r;
	unsigned long irqflags;

	if (!atomic_read(&nr_regs))
		return;
	spin_lock_irqsave(&regs_lock, irqflags);
	r = find_locked(p);
	if (r)
		drop_locked(r);
	spin_unlock_irqrestore(&regs_lock, irqflags);
}

int pvhint_threads_start(void)
{
	tp_exit = pvhint_find_tracepoint("sched_process_exit");
	if (!tp_exit) {
		pr_err("vmm_pvhint: this kernel lacks the sched_process_exit tracepoint\n");
		return -ENOENT;
	}
	return tracepoint_probe_register(tp_exit, probe_exit, NULL);
}

void pvhint_threads_stop(void)
{
	struct registration *r;
	struct hlist_node *tmp;
	unsigned long irqflags;
	unsigned int bkt;

	tracepoint_probe_unregister(tp_exit, probe_exit, NULL);
	tracepoint_synchronize_unregister();
	spin_lock_irqsave(&regs_lock, irqflags);
	hash_for_each_safe(regs, bkt, tmp, r, node) drop_locked(r);
	spin_unlock_irqrestore(&regs_lock, irqflags);
	synchronize_rcu();
}

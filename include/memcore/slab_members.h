/* SPDX-License-Identifier: MIT */
/*
 * memcore/slab_members.h - the members every design's struct slab shares
 * with 6.18's (mm/slab.h): the list links, the freelist and counters word
 * SLUB swaps with one double-word cmpxchg, and the RCU head, as one
 * anonymous union.  A fragment, not a header: it is included inside the
 * body of struct slab (memcore/slab.h, memcore/memdesc_types.h), where the
 * surrounding members differ by design.
 */
	union {
		struct {
			union {
				struct list_head slab_list;	/* node partial or full list */
				struct {	/* deferred freeing of a slab */
					struct llist_node llnode;	/* lockless free queue */
					MC_PTR(void) flush_freelist;	/* objects to flush */
				};
#if defined(CONFIG_SLUB_CPU_PARTIAL)
				struct {	/* per-cpu partial list */
					MC_PTR(struct slab) next;	/* next partial slab */
					int slabs;			/* slabs left on the list */
				};
#endif
			};
			union {
				struct {
					MC_PTR(void) freelist;	/* first free object */
					union {
						mc_ulong counters;	/* the three fields below as one word */
						struct {
							unsigned int inuse:16;		/* objects handed out */
							unsigned int objects:15;	/* objects in the slab */
							unsigned int frozen:1;		/* owned by a CPU */
						};
					};
				};
				freelist_aba_t freelist_counter;	/* freelist+counters as one unit */
			};
		};
		struct rcu_head rcu_head;	/* SLAB_TYPESAFE_BY_RCU: deferred slab free */
	};

/* SPDX-License-Identifier: MIT */
/*
 * memcore/folio_refs.h - a folio's reference count (include/linux/page_ref.h)
 * and the words every design's struct folio has by the same name (mapping,
 * index, memcg_data), whether the folio is the head struct page (classic)
 * or a separately allocated descriptor.
 * Included by a design header after its struct folio is declared.
 */
#ifndef MEMCORE_FOLIO_REFS_H
#define MEMCORE_FOLIO_REFS_H

static inline int folio_ref_count(const struct folio *f)
{
	return f->_refcount.counter;
}

static inline void folio_set_count(struct folio *f, int v)
{
	f->_refcount.counter = v;
}

static inline void folio_ref_add(struct folio *f, int nr)
{
	f->_refcount.counter += nr;
}

/* folio->mapping as a raw word (address_space or anon_vma | FOLIO_MAPPING_*) */
static inline mc_ulong mc_folio_mapping_word(const struct folio *f)
{
	return f->mapping;
}

static inline mc_ulong folio_index(const struct folio *f)
{
	return f->index;
}

/* folio->mapping = ...; folio->index = ... (the page cache's writes) */
static inline void mc_folio_set_mapping(struct folio *f, mc_ulong mapping)
{
	f->mapping = mapping;
}

static inline void mc_folio_set_index(struct folio *f, mc_ulong index)
{
	f->index = index;
}

static inline mc_ulong folio_memcg_data(const struct folio *f)
{
	return f->memcg_data;
}

/* folio_ref_freeze(): cmpxchg(count -> 0); 1 if it was exactly `count`. */
static inline int folio_ref_freeze(struct folio *f, int count)
{
	if (f->_refcount.counter != count)
		return 0;
	f->_refcount.counter = 0;
	return 1;
}

#endif /* MEMCORE_FOLIO_REFS_H */

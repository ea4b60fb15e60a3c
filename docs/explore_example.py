"""docs/EXPLORE.md's worked example: a scenario written against the step
primitives.  A page-cache lookup races a removal whose folio descriptors come
from a cache WITHOUT SLAB_TYPESAFE_BY_RCU.  The remover's last folio_put()
frees the descriptor; a reader still inside rcu_read_lock() may hold the old
pointer.  Waiting for a grace period (synchronize_rcu()) before that put is
what makes the plain cache safe; without it the explorer finds the
use-after-free.

    python docs/explore_example.py [--design D] [--bits B]
"""
import argparse

import memcore
from memcore.explore import Scenario


def build(m, wait_for_readers: bool) -> Scenario:
    fa = m.address_space("file-a")
    f = m.alloc_folio(0, kind="file")
    fa.add_folio(0, f)                 # locked, with the cache's reference
    f.unlock()                         # refcount 2: the cache's and ours

    s = Scenario(m, "rcu-freed descriptor" + (" + synchronize_rcu" if wait_for_readers else ""))
    F = s.folio(f, "folio F", typesafe=False)
    slot = s.slot(fa, "file-a[0]")
    file_a = s.mapping(fa, "file-a")

    reader = s.task("filemap_get_entry(file-a, 0)")
    reader.rcu_read_lock().label("repeat")
    reader.xas_load("r0", slot).if_null("r0", "out")
    reader.folio_try_get("r0").if_failed("repeat")
    reader.xas_reload_is("r0", slot).if_failed("put")
    reader.label("out").rcu_read_unlock()
    reader.expect_found("r0", file_a, 0)
    reader.if_null("r0", "done").folio_put("r0")
    reader.label("done").end()
    reader.label("put").folio_put("r0").goto("repeat")

    remover = s.task("remove F from file-a and free it")
    s.hold(remover, "r0", F)           # our reference
    remover.folio_lock("r0")
    remover.xa_store(slot, None)       # unpublish
    remover.page_cache_delete("r0")
    remover.folio_unlock("r0")
    remover.folio_put_owner(F)         # the cache's reference
    if wait_for_readers:
        remover.synchronize_rcu()      # no reader can still hold the old pointer
    remover.folio_put("r0")            # the last reference (unless a reader has one)
    return s


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--design", default="memdesc")
    p.add_argument("--bits", type=int, default=64)
    a = p.parse_args()
    for wait in (True, False):
        m = memcore.Machine("64MiB", design=a.design, bits=a.bits)
        s = build(m, wait)
        r = s.explore()
        if r.passed:
            print(f"{s.name}: passes ({'exhaustive' if r.exhaustive else 'NOT exhaustive'}, "
                  f"{r.states} states)")
        else:
            print(f"{s.name}: COUNTEREXAMPLE (found after {r.states} states)")
            print(r.violation)
            print(r.counterexample)
        s.close()


if __name__ == "__main__":
    main()

//! mm/memory.c (v6.8) with the mm lifetime helpers of kernel/fork.c and mm/mmap.c: the anon
//! unmap/exit path into `free_swap_and_cache()` under the PTL, `do_swap_page()` (swap cache and
//! `SWP_SYNCHRONOUS_IO` direct swap-in), and fork's copy of swap PTEs.

use super::context::{Kernel, Touch};
use super::invariants::{check_page, note_install};
use super::kernel::lock::LockId;
use super::page_io::swap_read_folio;
use super::swap_state::{get_shadow_from_swap_cache, read_swap_cache_async, swap_cache_get_folio};
use super::swapfile::dup::{swap_duplicate, swapcache_clear, swapcache_prepare};
use super::swapfile::free::{
    __swap_count, folio_free_swap, free_swap_and_cache, get_swap_device, put_swap_device, swap_free,
};
use super::types::*;
use super::world::{BugKind, GhostPage};

/// mm/memory.c: pte_same(ptep_get(pte), orig_pte), v6.8 (PTL held): the PTE still holds the
/// swap entry read before the lock was taken.
pub fn pte_same(k: &Kernel, mm: MmId, idx: usize, entry: SwpEntry) -> bool {
    k.with_footprint(|w, fp| {
        fp.read(Touch::Pte(mm, idx));
        w.mms[mm].ptes[idx] == Pte::Swap(entry)
    })
}

/// mm/memory.c: set_pte_at(), v6.8 (PTL held), of a present PTE mapping `folio`, with the
/// mapcount `folio_add_anon_rmap_pte()` (or fork's `folio_dup_file_rmap_pte()`) raises.
///
/// Footprint: the PTE, the folio, and the PTE's ghost (`note_install()` also reads this CPU's
/// call stack, which only this CPU changes).
pub fn set_pte_at(k: &Kernel, mm: MmId, idx: usize, folio: FolioId) {
    k.with_footprint(|w, fp| {
        fp.write(Touch::Pte(mm, idx));
        fp.write(Touch::Folio(folio));
        fp.write(Touch::Ghost(mm, idx));
        w.mms[mm].ptes[idx] = Pte::Present(folio);
        w.folios[folio].mapcount += 1;
        note_install(w, k.cpu, mm, idx);
    });
}

/// kernel/fork.c: mmget_not_zero(), v6.8: a reference unless the mm is exiting.
pub fn mmget_not_zero(k: &Kernel, mm: MmId) -> bool {
    k.with_footprint(|w, fp| {
        fp.write(Touch::MmUsers(mm));
        let m = &mut w.mms[mm];
        if m.mm_users == 0 {
            return false;
        }
        m.mm_users += 1;
        true
    })
}

/// kernel/fork.c: mmput(), v6.8: the last reference runs `__mmput()`: `exit_mmap()`, then the
/// mm leaves `init_mm.mmlist`.
pub fn mmput(k: &Kernel, mm: MmId) {
    let _f = k.enter("mmput");
    let last = k.with_footprint(|w, fp| {
        fp.write(Touch::MmUsers(mm));
        let m = &mut w.mms[mm];
        m.mm_users -= 1;
        m.mm_users == 0
    });
    if !last {
        return;
    }
    exit_mmap(k, mm);
    let on = k.with_footprint(|w, fp| {
        fp.read(Touch::OnMmlist(mm));
        w.mms[mm].on_mmlist
    });
    if on {
        k.spin_lock(LockId::MmlistLock);
        k.with_footprint(|w, fp| {
            fp.write(Touch::Mmlist);
            fp.write(Touch::OnMmlist(mm));
            w.mmlist.retain(|&m| m != mm);
            w.mms[mm].on_mmlist = false;
        });
        k.spin_unlock(LockId::MmlistLock);
    }
}

/// mm/mmap.c: exit_mmap(), v6.8: unmap every PTE (`unmap_vmas()` → `zap_pte_range()`).
pub fn exit_mmap(k: &Kernel, mm: MmId) {
    let _f = k.enter("exit_mmap");
    // The PTE vector's length never changes after the mm is created: nothing to declare.
    let nr = k.with_footprint(|w, fp| {
        fp.local();
        w.mms[mm].ptes.len()
    });
    zap_pte_range(k, mm, 0, nr);
}

/// mm/memory.c: zap_pte_range(), v6.8: under the PTL, for each PTE: a present page is unmapped;
/// a swap entry goes to `free_swap_and_cache()` while the PTE still holds it, and the PTE is
/// cleared only afterwards (`pte_clear_not_present_full()`).
pub fn zap_pte_range(k: &Kernel, mm: MmId, start: usize, end: usize) {
    let _f = k.enter("zap_pte_range");
    k.spin_lock(LockId::Ptl(mm));
    for idx in start..end {
        let ptent = k.with_footprint(|w, fp| {
            fp.read(Touch::Pte(mm, idx));
            w.mms[mm].ptes[idx]
        });
        match ptent {
            Pte::None => {}
            Pte::Present(folio) => k.with_footprint(|w, fp| {
                fp.write(Touch::Pte(mm, idx));
                fp.write(Touch::Folio(folio));
                w.mms[mm].ptes[idx] = Pte::None;
                w.folios[folio].mapcount -= 1;
            }),
            Pte::Swap(entry) => {
                k.with_no_point_footprint(|w, fp| {
                    fp.write(Touch::Zapping(mm, idx));
                    w.ghost.zapping.push((mm, idx))
                });
                if !k.call("free_swap_and_cache", |k| free_swap_and_cache(k, entry)) {
                    k.with(|w| {
                        w.report(
                            Some(k.cpu),
                            BugKind::KernelBug(format!(
                                "Bad page map: print_bad_pte() for {entry}"
                            )),
                        )
                    });
                }
                k.with_footprint(|w, fp| {
                    fp.write(Touch::Pte(mm, idx));
                    fp.write(Touch::Zapping(mm, idx));
                    w.mms[mm].ptes[idx] = Pte::None;
                    w.ghost.zapping.retain(|&z| z != (mm, idx));
                });
            }
        }
    }
    k.spin_unlock(LockId::Ptl(mm));
}

/// mm/memory.c: do_swap_page(), v6.8: under `get_swap_device()` (added by 2799e77529c2, "swap:
/// fix do_swap_page() race with swapoff"; its revert is `patches/revert_2799e77529c2.rs`), find
/// the folio in the swap cache, or read it: on an `SWP_SYNCHRONOUS_IO` device a page with one
/// reference is read directly into a fresh folio that never enters the swap cache, its slot
/// pinned by `swapcache_prepare()` (13ddaf26be32, "mm/swap: fix race when skipping swapcache";
/// its revert is `patches/revert_13ddaf26be32.rs`) until `swapcache_clear()` after the PTL is
/// dropped; else through the swap cache (`swapin_readahead()`). Then lock the folio, recheck
/// the PTE under the PTL, map it, drop the swap reference, and free the swap cache on a write
/// fault.
///
/// Simplified: `pte_unmap_same()` takes no lock (`sizeof(pte_t) <= sizeof(long)`) and the
/// model has only genuine swap entries (no `non_swap_entry()` branch). `swapin_readahead()` is
/// the model's `read_swap_cache_async()` (`vm.page-cluster=0`: the target page only), and a
/// failed swap-cache read returns without the `VM_FAULT_OOM` recheck under the PTL. The
/// allocation never fails; memcg charging, the LRU, the workingset, KSM, `arch_swap_restore()`,
/// `PG_anon_exclusive`, `PG_uptodate` (the read completes at once) and the write fault's
/// `do_wp_page()` are left out. On the swap-cache path `set_pte_at()` precedes `swap_free()`
/// (v6.8 has the opposite order, both under the PTL) and `should_try_to_free_swap()` is taken
/// as true on a write fault (`folio_ref_count() == 2`). `schedule_timeout_uninterruptible(1)`
/// after a failed `swapcache_prepare()` is left out: the fault returns either way.
pub fn do_swap_page(k: &Kernel, mm: MmId, idx: usize, write: bool) {
    if let Some(patched) = k.patched().do_swap_page {
        return patched(k, mm, idx, write);
    }
    let _f = k.enter("do_swap_page");
    let Pte::Swap(entry) = k.with_footprint(|w, fp| {
        fp.read(Touch::Pte(mm, idx));
        w.mms[mm].ptes[idx]
    }) else {
        return;
    };
    // Prevent swapoff from happening to us.
    let Some(si) = get_swap_device(k, entry) else {
        return;
    };
    let mut need_clear_cache = false;
    let mut folio = swap_cache_get_folio(k, entry);
    let mut swapcache = folio;
    if folio.is_none() {
        if k.with_footprint(|w, fp| {
            fp.read(Touch::SiSlot(si));
            fp.read(Touch::SiFlags(si));
            w.swap_info[si].flags & SWP_SYNCHRONOUS_IO != 0 // data_race()
        }) && __swap_count(k, entry) == 1
        {
            // Prevent parallel swapin from proceeding with the cache flag.
            if swapcache_prepare(k, entry).is_err() {
                put_swap_device(k, si); // out:
                return;
            }
            need_clear_cache = true;
            // skip swapcache
            let new = vma_alloc_folio(k);
            get_shadow_from_swap_cache(k, entry);
            // To provide entry to swap_read_folio()
            k.with_no_point_footprint(|w, fp| {
                fp.write(Touch::Folio(new));
                w.folios[new].swap = entry
            });
            swap_read_folio(k, new, true);
            k.with_no_point_footprint(|w, fp| {
                fp.write(Touch::Folio(new));
                w.folios[new].swap = SwpEntry::default() // folio->private = NULL
            });
            folio = Some(new);
        } else {
            folio = read_swap_cache_async(k, entry); // swapin_readahead()
            swapcache = folio;
        }
    }
    if let Some(folio) = folio {
        k.folio_lock(folio);
        // if (swapcache): folio_free_swap() or swapoff may have released the swap cache.
        let ok = swapcache.is_none()
            || k.with_footprint(|w, fp| {
                fp.read(Touch::Folio(folio));
                let f = &w.folios[folio];
                f.swapcache
                    && entry.offset >= f.swap.offset
                    && entry.offset < f.swap.offset + f.nr
                    && f.swap.type_ == entry.type_
            });
        if ok {
            k.spin_lock(LockId::Ptl(mm));
            if pte_same(k, mm, idx, entry) {
                set_pte_at(k, mm, idx, folio);
                swap_free(k, entry);
                // should_try_to_free_swap(): swap-cache folios only.
                if write && swapcache.is_some() {
                    folio_free_swap(k, folio);
                }
            }
            k.spin_unlock(LockId::Ptl(mm));
        }
        k.folio_unlock(folio);
    }
    // out: Clear the swap cache pin for direct swapin after PTL unlock
    if need_clear_cache {
        swapcache_clear(k, si, entry);
    }
    put_swap_device(k, si);
}

/// A user load from process `mm`'s page at PTE `idx` (operation `read`). A swap PTE faults
/// first: `handle_mm_fault()` → `handle_pte_fault()` → [`do_swap_page`], a read fault. If the
/// PTE is then present the load reads the page, which must hold what the process last stored
/// (invariant D1). If the fault did not map it (`do_swap_page()` lost a race and returned; the
/// kernel then retries the fault), the load has not happened, and the operation ends there.
pub fn user_read(k: &Kernel, mm: MmId, idx: usize) {
    if let Pte::Swap(_) = k.with(|w| w.mms[mm].ptes[idx]) {
        let _f = k.enter("handle_mm_fault");
        do_swap_page(k, mm, idx, false);
    }
    k.with(|w| check_page(w, Some(k.cpu), mm, idx));
}

/// A user store to process `mm`'s page at PTE `idx` (operation `write`): a fresh value folded
/// into the page ([`store`]: a store keeps the rest of the page, so a store to a stale page
/// leaves it stale, and a later load or the end of the run sees it). A swap
/// PTE faults first ([`do_swap_page`], a write fault); a page this PTE may share is copied
/// first ([`do_wp_page`]). As in [`user_read`], a fault that did not map the page ends the
/// operation with nothing stored. Simplified: the store is made under the PTL, in one step
/// with the check of the PTE (in the kernel the store goes through a writable PTE, which is made
/// writable and unmapped only under the PTL; no other CPU observes the difference).
pub fn user_write(k: &Kernel, mm: MmId, idx: usize) {
    if let Pte::Swap(_) = k.with(|w| w.mms[mm].ptes[idx]) {
        let _f = k.enter("handle_mm_fault");
        do_swap_page(k, mm, idx, true);
    }
    k.spin_lock(LockId::Ptl(mm));
    if let Pte::Present(folio) = k.with(|w| w.mms[mm].ptes[idx]) {
        let folio = do_wp_page(k, mm, idx, folio);
        k.with(|w| {
            let v = w.ghost.fresh_data();
            let f = &mut w.folios[folio];
            let page = &mut f.data[folio_page_index(f.nr, idx)];
            *page = store(*page, v);
            f.dirty = true; // pte_mkdirty(), transferred to the folio when it is unmapped
            let expected = &mut w.ghost.pages[mm.0][idx].expected;
            *expected = store(*expected, v);
        });
        k.note(|w| {
            format!(
                "/* mm{mm} pte{idx} := {:#x} */",
                w.ghost.pages[mm.0][idx].expected
            )
        });
    }
    k.spin_unlock(LockId::Ptl(mm));
}

/// mm/memory.c: do_wp_page(), v6.8, for an anonymous folio mapped at `idx` (PTL held): the
/// folio to store to. Reused if this PTE is its only user (`wp_can_reuse_anon_folio()`:
/// `folio_trylock()`, `folio_free_swap()` of a swap-cache folio, then no other reference),
/// else copied (`wp_page_copy()`: a new folio with the page's contents replaces it in the PTE).
/// Simplified: "no other reference" is "mapped once and not in the swap cache" (the model keeps
/// no reference counts; a CPU that still holds the folio from a swap-cache lookup rechecks
/// `folio_test_swapcache()` under the folio lock and backs out); a folio reused without a fault
/// (`PageAnonExclusive`) is one that passes the same test; a large folio mapped by several PTEs
/// is copied page by page; `wp_page_copy()` runs under the PTL (allocation never sleeps in the
/// model, and a page mapped more than once is never stored to, so its contents cannot change
/// while it is copied).
pub fn do_wp_page(k: &Kernel, mm: MmId, idx: usize, folio: FolioId) -> FolioId {
    let _f = k.enter("do_wp_page");
    let (mapcount, swapcache) = k.with(|w| (w.folios[folio].mapcount, w.folios[folio].swapcache));
    if mapcount == 1 && swapcache && k.folio_trylock(folio) {
        folio_free_swap(k, folio);
        k.folio_unlock(folio);
    }
    let reuse = k.with(|w| {
        let f = &w.folios[folio];
        f.mapcount == 1 && !f.swapcache && f.shmem.is_none()
    });
    if reuse {
        return folio;
    }
    let _c = k.enter("wp_page_copy");
    k.with(|w| {
        let old = &w.folios[folio];
        let data = old.data[folio_page_index(old.nr, idx)];
        let new = w.folios.push(Folio {
            nr: 1,
            ..Default::default()
        });
        w.folios[new].data[0] = data;
        w.folios[new].mapcount = 1;
        w.folios[folio].mapcount -= 1;
        w.mms[mm].ptes[idx] = Pte::Present(new);
        note_install(w, k.cpu, mm, idx);
        new
    })
}

/// mm/mempolicy.c: vma_alloc_folio(), v6.8, for a direct swap-in: a new order-0 folio, not in
/// the swap cache, not mapped; no other CPU can find it until it is mapped. It never fails in
/// the model.
pub fn vma_alloc_folio(k: &Kernel) -> FolioId {
    k.with_footprint(|w, fp| {
        fp.write(Touch::Folios);
        fp.write(Touch::Folio(w.folios.next_id()));
        w.folios.push(Folio {
            nr: 1,
            ..Default::default()
        })
    })
}

/// kernel/fork.c dup_mm() → mm/memory.c: copy_nonpresent_pte(), v6.8: a child sharing every
/// page: a swap PTE takes one more count (`swap_duplicate()`) under both PTLs, and the child
/// joins `init_mm.mmlist` after the parent. Returns the child.
pub fn fork(k: &Kernel, parent: MmId) -> MmId {
    let _f = k.enter("copy_page_range");
    let (child, nr) = k.with(|w| {
        let nr = w.mms[parent].ptes.len();
        let child = w.mms.push(Mm {
            mm_users: 1,
            alive: true,
            ptes: vec![Pte::None; nr],
            on_mmlist: false,
        });
        w.ghost.pages.push(vec![GhostPage::default(); nr]);
        (child, nr)
    });
    k.spin_lock(LockId::Ptl(child));
    k.spin_lock(LockId::Ptl(parent));
    for idx in 0..nr {
        let ptent = k.with(|w| {
            // Invariant D1: the child sees what the parent stored (its writes take the
            // parent's PTL, held here).
            w.ghost.pages[child.0][idx].expected = w.ghost.pages[parent.0][idx].expected;
            w.mms[parent].ptes[idx]
        });
        match ptent {
            Pte::None => {}
            // The child shares the page; a write to it by either process copies it first
            // (`do_wp_page()`, as the write operation models it): the page stays as it is.
            Pte::Present(folio) => set_pte_at(k, child, idx, folio),
            Pte::Swap(entry) => {
                if swap_duplicate(k, entry).is_ok() {
                    let on = k.with(|w| w.mms[child].on_mmlist);
                    if !on {
                        k.spin_lock(LockId::MmlistLock);
                        k.with(|w| {
                            let pos = w.mmlist.iter().position(|&m| m == parent);
                            let at = pos.map_or(w.mmlist.len(), |p| p + 1);
                            w.mmlist.insert(at, child);
                            w.mms[child].on_mmlist = true;
                        });
                        k.spin_unlock(LockId::MmlistLock);
                    }
                    k.with(|w| w.mms[child].ptes[idx] = Pte::Swap(entry));
                }
            }
        }
    }
    k.spin_unlock(LockId::Ptl(parent));
    k.spin_unlock(LockId::Ptl(child));
    child
}

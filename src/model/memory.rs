//! mm/memory.c (v6.8) with the mm lifetime helpers of kernel/fork.c and mm/mmap.c: the anon
//! unmap/exit path into `free_swap_and_cache()` under the PTL, `do_swap_page()`, and fork's
//! copy of swap PTEs.

use super::context::Kernel;
use super::kernel::lock::LockId;
use super::swap_state::{read_swap_cache_async, swap_cache_get_folio};
use super::swapfile::dup::swap_duplicate;
use super::swapfile::free::{
    folio_free_swap, free_swap_and_cache, get_swap_device, put_swap_device, swap_free,
};
use super::types::*;
use super::world::BugKind;

/// mm/memory.c: pte_same(ptep_get(pte), orig_pte), v6.8 (PTL held): the PTE still holds the
/// swap entry read before the lock was taken.
pub fn pte_same(k: &Kernel, mm: MmId, idx: usize, entry: SwpEntry) -> bool {
    k.with(|w| w.mms[mm].ptes[idx] == Pte::Swap(entry))
}

/// mm/memory.c: set_pte_at(), v6.8 (PTL held), of a present PTE mapping `folio`, with the
/// mapcount `folio_add_anon_rmap_pte()` (or fork's `folio_dup_file_rmap_pte()`) raises.
pub fn set_pte_at(k: &Kernel, mm: MmId, idx: usize, folio: FolioId) {
    k.with(|w| {
        w.mms[mm].ptes[idx] = Pte::Present(folio);
        w.folios[folio].mapcount += 1;
    });
}

/// kernel/fork.c: mmget_not_zero(), v6.8: a reference unless the mm is exiting.
pub fn mmget_not_zero(k: &Kernel, mm: MmId) -> bool {
    k.with(|w| {
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
    let last = k.with(|w| {
        let m = &mut w.mms[mm];
        m.mm_users -= 1;
        m.mm_users == 0
    });
    if !last {
        return;
    }
    exit_mmap(k, mm);
    if k.with(|w| w.mms[mm].on_mmlist) {
        k.spin_lock(LockId::MmlistLock);
        k.with(|w| {
            w.mmlist.retain(|&m| m != mm);
            w.mms[mm].on_mmlist = false;
        });
        k.spin_unlock(LockId::MmlistLock);
    }
}

/// mm/mmap.c: exit_mmap(), v6.8: unmap every PTE (`unmap_vmas()` → `zap_pte_range()`).
pub fn exit_mmap(k: &Kernel, mm: MmId) {
    let _f = k.enter("exit_mmap");
    let nr = k.with(|w| w.mms[mm].ptes.len());
    zap_pte_range(k, mm, 0, nr);
}

/// mm/memory.c: zap_pte_range(), v6.8: under the PTL, for each PTE: a present page is unmapped;
/// a swap entry goes to `free_swap_and_cache()` while the PTE still holds it, and the PTE is
/// cleared only afterwards (`pte_clear_not_present_full()`).
pub fn zap_pte_range(k: &Kernel, mm: MmId, start: usize, end: usize) {
    let _f = k.enter("zap_pte_range");
    k.spin_lock(LockId::Ptl(mm));
    for idx in start..end {
        let ptent = k.with(|w| w.mms[mm].ptes[idx]);
        match ptent {
            Pte::None => {}
            Pte::Present(folio) => k.with(|w| {
                w.mms[mm].ptes[idx] = Pte::None;
                w.folios[folio].mapcount -= 1;
            }),
            Pte::Swap(entry) => {
                k.with_no_point(|w| w.ghost.zapping.push((mm, idx)));
                if !free_swap_and_cache(k, entry) {
                    k.with(|w| {
                        w.report(
                            Some(k.cpu),
                            BugKind::KernelBug(format!(
                                "Bad page map: print_bad_pte() for {entry}"
                            )),
                        )
                    });
                }
                k.with(|w| {
                    w.mms[mm].ptes[idx] = Pte::None;
                    w.ghost.zapping.retain(|&z| z != (mm, idx));
                });
            }
        }
    }
    k.spin_unlock(LockId::Ptl(mm));
}

/// mm/memory.c: do_swap_page(), v6.8, swap-cache path (no SWP_SYNCHRONOUS_IO): under
/// `get_swap_device()`, find or read the folio, lock it, recheck the PTE under the PTL, map it,
/// drop the swap reference, and free the swap cache on a write fault
/// (`should_try_to_free_swap()`; `folio_ref_count() == 2` is taken as true).
pub fn do_swap_page(k: &Kernel, mm: MmId, idx: usize, write: bool) {
    let _f = k.enter("do_swap_page");
    let Pte::Swap(entry) = k.with(|w| w.mms[mm].ptes[idx]) else {
        return;
    };
    let Some(si) = get_swap_device(k, entry) else {
        return;
    };
    let mut folio = swap_cache_get_folio(k, entry);
    if folio.is_none() {
        folio = read_swap_cache_async(k, entry);
    }
    if let Some(folio) = folio {
        k.folio_lock(folio);
        let ok = k.with(|w| {
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
                if write {
                    folio_free_swap(k, folio);
                }
            }
            k.spin_unlock(LockId::Ptl(mm));
        }
        k.folio_unlock(folio);
    }
    put_swap_device(k, si);
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
        (child, nr)
    });
    k.spin_lock(LockId::Ptl(child));
    k.spin_lock(LockId::Ptl(parent));
    for idx in 0..nr {
        let ptent = k.with(|w| w.mms[parent].ptes[idx]);
        match ptent {
            Pte::None => {}
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

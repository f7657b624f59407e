//! mm/vmscan.c (v6.8) with mm/rmap.c's `try_to_unmap_one()`: page reclaim, in two steps an
//! operation can stop between. `shrink_folio_list()` up to `pageout()` swaps an anon folio out
//! (its PTEs now hold swap entries, the folio stays in the swap cache); `__remove_mapping()`
//! later drops a clean, unmapped folio from the swap cache.

use super::context::Kernel;
use super::kernel::lock::LockId;
use super::swap_slots::folio_alloc_swap;
use super::swap_state::{__delete_from_swap_cache, add_to_swap_cache};
use super::swapfile::dup::swap_duplicate;
use super::swapfile::free::put_swap_folio;
use super::types::*;

/// mm/swap_state.c: add_to_swap(), v6.8: allocate slots for the folio and add it to the swap
/// cache. Returns the first entry.
pub fn add_to_swap(k: &Kernel, folio: FolioId) -> Option<SwpEntry> {
    let _f = k.enter("add_to_swap");
    let entry = folio_alloc_swap(k, folio)?;
    add_to_swap_cache(k, folio, entry);
    k.with(|w| w.folios[folio].dirty = true);
    Some(entry)
}

/// mm/rmap.c: try_to_unmap() → try_to_unmap_one(), v6.8: every PTE mapping the folio (rmap
/// walk over all mms) becomes its swap entry, with one count each (`swap_duplicate()`); the mm
/// joins `init_mm.mmlist`.
pub fn try_to_unmap(k: &Kernel, folio: FolioId) {
    let _f = k.enter("try_to_unmap");
    let mms = k.with(|w| w.mms.ids());
    for mm in mms {
        k.spin_lock(LockId::Ptl(mm));
        let n = k.with(|w| w.mms[mm].ptes.len());
        for idx in 0..n {
            let (pte, swap, nr) = k.with(|w| {
                let f = &w.folios[folio];
                (w.mms[mm].ptes[idx], f.swap, f.nr)
            });
            if pte != Pte::Present(folio) {
                continue;
            }
            // The folio's page at this PTE (`page_swap_entry(subpage)`): a large folio's PTEs map
            // its pages in order from an aligned index.
            let entry = SwpEntry::new(swap.type_, swap.offset + folio_page_index(nr, idx) as u32);
            if swap_duplicate(k, entry).is_err() {
                continue;
            }
            let on = k.with(|w| w.mms[mm].on_mmlist);
            if !on {
                k.spin_lock(LockId::MmlistLock);
                k.with(|w| {
                    if !w.mms[mm].on_mmlist {
                        w.mmlist.push(mm);
                        w.mms[mm].on_mmlist = true;
                    }
                });
                k.spin_unlock(LockId::MmlistLock);
            }
            k.with(|w| {
                w.mms[mm].ptes[idx] = Pte::Swap(entry);
                w.folios[folio].mapcount -= 1;
            });
        }
        k.spin_unlock(LockId::Ptl(mm));
    }
}

/// mm/vmscan.c: shrink_folio_list(), v6.8, for one anon folio, up to and including
/// `pageout()` (the write completes at once and cleans the folio): lock, `add_to_swap()`,
/// `try_to_unmap()`, write. The folio stays in the swap cache.
pub fn swap_out(k: &Kernel, folio: FolioId) {
    let _f = k.enter("shrink_folio_list");
    if !k.folio_trylock(folio) {
        return;
    }
    let fresh = k.with(|w| !w.folios[folio].swapcache && w.folios[folio].shmem.is_none());
    if fresh && add_to_swap(k, folio).is_some() {
        try_to_unmap(k, folio);
        // pageout() → swap_writepage(): the folio's pages are written to its slots (the write
        // completes at once) and the folio is clean.
        k.with(|w| {
            let f = &w.folios[folio];
            let (swap, nr, data) = (f.swap, f.nr, f.data);
            for i in 0..nr {
                w.swap_info[swap.type_].slot_data[(swap.offset + i) as usize] = data[i as usize];
            }
            w.folios[folio].dirty = false;
        });
    }
    k.folio_unlock(folio);
}

/// mm/vmscan.c: shrink_folio_list() → __remove_mapping(), v6.8, for a swap-cache folio: if
/// it is still in the swap cache, clean and unmapped, take it out under the xa_lock, then
/// `put_swap_folio()` (which frees slots nobody else references).
pub fn reclaim(k: &Kernel, folio: FolioId) {
    let _f = k.enter("shrink_folio_list");
    if !k.folio_trylock(folio) {
        return;
    }
    let ok = k.with(|w| {
        let f = &w.folios[folio];
        f.swapcache && f.mapcount == 0 && !f.dirty
    });
    if ok {
        let _r = k.enter("__remove_mapping");
        let (swap, nr) = k.with(|w| (w.folios[folio].swap, w.folios[folio].nr));
        k.spin_lock(LockId::SwapCacheXa(swap.type_));
        __delete_from_swap_cache(k, folio, swap);
        k.spin_unlock(LockId::SwapCacheXa(swap.type_));
        put_swap_folio(k, nr, swap);
        k.note(|_| "/* remove swap cache */".into());
    }
    k.folio_unlock(folio);
}

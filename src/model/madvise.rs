//! mm/madvise.c (v6.8): `madvise(MADV_WILLNEED)` on a private anonymous mapping, which starts
//! the swap-in of the pages its PTEs hold in swap: `madvise_willneed()` walks the page table
//! with `swapin_walk_ops`, and `swapin_walk_pmd_entry()` reads each PTE under the PTL, drops
//! the PTL and calls `read_swap_cache_async()`. Nothing but `__read_swap_cache_async()`'s own
//! `get_swap_device()` keeps swapoff out of that read (race 1 of the catalogue,
//! docs/catalogue.md#race-1-eb085574a752).

use super::context::{Kernel, Touch};
use super::kernel::lock::LockId;
use super::swap_state::read_swap_cache_async;
use super::types::*;

/// mm/madvise.c: madvise_willneed(), v6.8, for an anonymous VMA (`!file`): `*prev = vma`,
/// `walk_page_range(vma->vm_mm, start, end, &swapin_walk_ops, vma)`, `lru_add_drain()`.
/// Simplified: the range is the one page at PTE `idx`; the mmap lock (`PGWALK_RDLOCK`, taken by
/// `madvise()` for reading) is not modelled, as elsewhere; the shmem branch
/// (`shmem_swapin_range()`) and the file branch (`vfs_fadvise()`) are left out, and
/// `lru_add_drain()` has nothing to drain (no LRU).
pub fn madvise_willneed(k: &Kernel, mm: MmId, idx: usize) -> i64 {
    let _f = k.enter("madvise_willneed");
    swapin_walk_pmd_entry(k, mm, idx, idx + 1);
    0
}

/// mm/madvise.c: swapin_walk_pmd_entry(), v6.8: for each PTE in `start..end`, map and lock the
/// page table (`pte_offset_map_lock()`) unless still locked, read the PTE; for a swap entry
/// unlock the PTL *before* `read_swap_cache_async()` (which may sleep), then `folio_put()`.
/// Simplified: `non_swap_entry()` always passes (the model has no migration or other special
/// swap entries); the swap plug (`splug`, `swap_read_unplug()`) and `cond_resched()` are left
/// out; `folio_put()` is nothing (folios are never freed in the model).
pub fn swapin_walk_pmd_entry(k: &Kernel, mm: MmId, start: usize, end: usize) -> i32 {
    let _f = k.enter("swapin_walk_pmd_entry");
    let mut locked = false; // ptep
    for addr in start..end {
        if !locked {
            k.spin_lock(LockId::Ptl(mm)); // pte_offset_map_lock()
            locked = true;
        }
        let pte = k.with_footprint(|w, fp| {
            fp.read(Touch::Pte(mm, addr));
            w.mms[mm].ptes[addr] // ptep_get()
        });
        let Pte::Swap(entry) = pte else {
            continue; // !is_swap_pte(pte)
        };
        k.spin_unlock(LockId::Ptl(mm)); // pte_unmap_unlock()
        locked = false;
        let _folio = read_swap_cache_async(k, entry); // and folio_put()
    }
    if locked {
        k.spin_unlock(LockId::Ptl(mm));
    }
    0
}

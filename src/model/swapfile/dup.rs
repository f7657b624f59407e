//! mm/swapfile.c (v6.8): taking references on a swap entry (`__swap_duplicate()` and its
//! wrappers). Callers hold protection against swapoff (since c07aee4f82af there is no
//! `get_swap_device()` inside).

use super::free::__swap_entry_free_locked;
use super::*;

/// `-ENOENT` / `-EEXIST` of `__swap_duplicate()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DupError {
    /// The slot is free (or bad): `-ENOENT`.
    Enoent,
    /// `SWAP_HAS_CACHE` was already set: `-EEXIST`.
    Eexist,
}

/// mm/swapfile.c: __swap_duplicate(), v6.8: add `usage` (1, `SWAP_HAS_CACHE` or
/// `SWAP_MAP_SHMEM`) to the slot under the cluster lock.
pub fn __swap_duplicate(k: &Kernel, entry: SwpEntry, usage: u8) -> Result<(), DupError> {
    let _f = k.enter("__swap_duplicate");
    let p = entry.type_;
    let offset = entry.offset;
    let ci = lock_cluster_or_swap_info(k, p, offset);
    let cpu = k.cpu;
    let map = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(p));
        fp.read(Touch::SiMap(p));
        w.swap_info[p].swap_map
    });
    let err = k.with_footprint(|w, fp| {
        fp.elem(cpu, map, offset as usize, true);
        let mut count = map_get(w, cpu, map, offset, "p->swap_map[offset]");
        if swap_count(count) == SWAP_MAP_BAD {
            return Err(DupError::Enoent);
        }
        let mut has_cache = count & SWAP_HAS_CACHE;
        count &= !SWAP_HAS_CACHE;
        let mut err = Ok(());
        if usage == SWAP_HAS_CACHE {
            if has_cache == 0 && count != 0 {
                has_cache = SWAP_HAS_CACHE;
            } else if has_cache != 0 {
                err = Err(DupError::Eexist);
            } else {
                err = Err(DupError::Enoent);
            }
        } else if count != 0 || has_cache != 0 {
            // Counts stay far below SWAP_MAP_MAX in the model: no continuation.
            count += usage;
        } else {
            err = Err(DupError::Enoent);
        }
        map_set(
            w,
            cpu,
            map,
            offset,
            count | has_cache,
            "p->swap_map[offset]",
        );
        err
    });
    unlock_cluster_or_swap_info(k, ci);
    err
}

/// mm/swapfile.c: swap_duplicate(), v6.8: one more PTE reference (fork, unmap to swap).
pub fn swap_duplicate(k: &Kernel, entry: SwpEntry) -> Result<(), DupError> {
    __swap_duplicate(k, entry, 1)
}

/// mm/swapfile.c: swap_shmem_alloc(), v6.8: the slot becomes owned by a shmem xarray slot.
pub fn swap_shmem_alloc(k: &Kernel, entry: SwpEntry) {
    let _ = __swap_duplicate(k, entry, SWAP_MAP_SHMEM);
}

/// mm/swapfile.c: swapcache_prepare(), v6.8: pin the slot for a folio about to enter the swap
/// cache (`-EEXIST` if another already did).
pub fn swapcache_prepare(k: &Kernel, entry: SwpEntry) -> Result<(), DupError> {
    __swap_duplicate(k, entry, SWAP_HAS_CACHE)
}

/// mm/swapfile.c: swapcache_clear(), v6.8 (added by 13ddaf26be32): drop the `SWAP_HAS_CACHE`
/// pin `swapcache_prepare()` took for a direct swap-in that skipped the swap cache; a slot left
/// with no reference goes to `free_swap_slot()`.
pub fn swapcache_clear(k: &Kernel, si: SwapType, entry: SwpEntry) {
    let _f = k.enter("swapcache_clear");
    let offset = entry.offset;
    let ci = lock_cluster_or_swap_info(k, si, offset);
    let usage = __swap_entry_free_locked(k, si, offset, SWAP_HAS_CACHE);
    unlock_cluster_or_swap_info(k, ci);
    if usage == 0 {
        crate::model::swap_slots::free_swap_slot(k, entry);
    }
}

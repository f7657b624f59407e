//! mm/shmem.c (v6.8): tmpfs pages in swap: `shmem_writepage()`, truncation
//! (`shmem_undo_range()` → `shmem_free_swap()`, which calls `free_swap_and_cache()` holding
//! nothing), and swapoff's `shmem_unuse()`.

use super::context::Kernel;
use super::kernel::lock::LockId;
use super::swap_slots::folio_alloc_swap;
use super::swap_state::swap_cache_get_folio;
use super::swap_state::{add_to_swap_cache, delete_from_swap_cache, read_swap_cache_async};
use super::swapfile::dup::swap_shmem_alloc;
use super::swapfile::free::{free_swap_and_cache, get_swap_device, put_swap_device, swap_free};
use super::types::*;
use super::world::WaitFor;

/// `-EEXIST`.
pub const EEXIST: i32 = 17;
/// `-ENOMEM`.
pub const ENOMEM: i32 = 12;

/// mm/shmem.c: shmem_get_folio(SGP_WRITE), v6.8, for an empty index only: a new page-cache folio.
pub fn shmem_write(k: &Kernel, inode: InodeId, index: usize) {
    let _f = k.enter("shmem_get_folio");
    k.spin_lock(LockId::ShmemXa(inode));
    k.with(|w| {
        if w.inodes[inode].i_pages[index] == ShmemSlot::None {
            let f = w.folios.push(Folio {
                nr: 1,
                shmem: Some((inode, index)),
                dirty: true,
                ..Default::default()
            });
            w.inodes[inode].i_pages[index] = ShmemSlot::Folio(f);
        }
    });
    k.spin_unlock(LockId::ShmemXa(inode));
}

/// mm/shmem.c: shmem_writepage(), v6.8: move a page-cache folio to swap: allocate a slot, put
/// the inode on `shmem_swaplist`, add the folio to the swap cache, `swap_shmem_alloc()`, and
/// replace the xarray's folio by the swap value entry. The write completes at once; the folio
/// stays in the swap cache.
pub fn shmem_writepage(k: &Kernel, inode: InodeId, index: usize) {
    let _f = k.enter("shmem_writepage");
    let ShmemSlot::Folio(folio) = k.with(|w| w.inodes[inode].i_pages[index]) else {
        return;
    };
    if !k.folio_trylock(folio) {
        return;
    }
    if k.with(|w| w.folios[folio].shmem != Some((inode, index))) {
        k.folio_unlock(folio);
        return;
    }
    let Some(swap) = folio_alloc_swap(k, folio) else {
        k.folio_unlock(folio);
        return;
    };
    k.mutex_lock(LockId::ShmemSwaplistMutex);
    k.with(|w| {
        if !w.inodes[inode].on_swaplist {
            w.inodes[inode].on_swaplist = true;
            w.shmem_swaplist.push(inode);
        }
    });
    add_to_swap_cache(k, folio, swap);
    k.with(|w| w.inodes[inode].swapped += 1); // shmem_recalc_inode(inode, 0, 1)
    swap_shmem_alloc(k, swap);
    // shmem_delete_from_page_cache(folio, swp_to_radix_entry(swap))
    k.spin_lock(LockId::ShmemXa(inode));
    k.with(|w| {
        w.inodes[inode].i_pages[index] = ShmemSlot::Swap(swap);
        let f = &mut w.folios[folio];
        f.shmem = None;
        f.dirty = false; // swap_writepage(): written at once
    });
    k.spin_unlock(LockId::ShmemXa(inode));
    k.mutex_unlock(LockId::ShmemSwaplistMutex);
    k.folio_unlock(folio);
}

/// mm/shmem.c: shmem_free_swap(), v6.8: take the value entry out of the xarray
/// (`xa_cmpxchg_irq()`, the only lock), then `free_swap_and_cache()` holding nothing.
pub fn shmem_free_swap(k: &Kernel, inode: InodeId, index: usize, radswap: SwpEntry) -> i32 {
    let _f = k.enter("shmem_free_swap");
    k.spin_lock(LockId::ShmemXa(inode));
    let ok = k.with(|w| {
        let slot = &mut w.inodes[inode].i_pages[index];
        if *slot == ShmemSlot::Swap(radswap) {
            *slot = ShmemSlot::None;
            true
        } else {
            false
        }
    });
    k.spin_unlock(LockId::ShmemXa(inode));
    if !ok {
        return -2; // -ENOENT
    }
    k.note(|_| format!("/* xa_cmpxchg_irq: index {index} no longer holds {radswap} */"));
    free_swap_and_cache(k, radswap);
    0
}

/// mm/shmem.c: shmem_undo_range(), v6.8, whole file: pass 1 frees value entries (not locked:
/// there is nothing to lock) and truncates locked folios; pass 2 (`find_get_entries()`) retries
/// what pass 1 missed. Then `shmem_recalc_inode()` accounts the freed swap.
pub fn shmem_undo_range(k: &Kernel, inode: InodeId) {
    let _f = k.enter("shmem_undo_range");
    let n = k.with(|w| w.inodes[inode].i_pages.len());
    let mut nr_swaps_freed = 0;
    for _pass in 0..2 {
        for index in 0..n {
            // find_lock_entries() / find_get_entries(): an RCU walk of the xarray.
            let slot = k.with(|w| w.inodes[inode].i_pages[index]);
            match slot {
                ShmemSlot::None => {}
                ShmemSlot::Swap(e) => {
                    if shmem_free_swap(k, inode, index, e) == 0 {
                        nr_swaps_freed += 1;
                    }
                }
                ShmemSlot::Folio(f) => {
                    k.folio_lock(f);
                    // truncate_inode_folio(): still ours?
                    k.spin_lock(LockId::ShmemXa(inode));
                    k.with(|w| {
                        if w.inodes[inode].i_pages[index] == ShmemSlot::Folio(f) {
                            w.inodes[inode].i_pages[index] = ShmemSlot::None;
                            w.folios[f].shmem = None;
                        }
                    });
                    k.spin_unlock(LockId::ShmemXa(inode));
                    k.folio_unlock(f);
                }
            }
        }
    }
    k.with(|w| w.inodes[inode].swapped -= nr_swaps_freed);
}

/// mm/shmem.c: shmem_confirm_swap(), v6.8: does the xarray still hold the value entry?
pub fn shmem_confirm_swap(k: &Kernel, inode: InodeId, index: usize, swap: SwpEntry) -> bool {
    k.with(|w| w.inodes[inode].i_pages[index] == ShmemSlot::Swap(swap))
}

/// mm/shmem.c: shmem_swapin_folio(), v6.8: under `get_swap_device()`, get the folio (swap
/// cache or read), lock it, confirm the entry is still ours, put the folio in the page cache,
/// drop it from the swap cache and free the swap. Returns 0 or a negative errno.
pub fn shmem_swapin_folio(k: &Kernel, inode: InodeId, index: usize, swap: SwpEntry) -> i32 {
    let _f = k.enter("shmem_swapin_folio");
    let Some(si) = get_swap_device(k, swap) else {
        return if !shmem_confirm_swap(k, inode, index, swap) {
            -EEXIST
        } else {
            -22
        };
    };
    let mut folio = swap_cache_get_folio(k, swap);
    if folio.is_none() {
        folio = read_swap_cache_async(k, swap); // shmem_swapin()
    }
    let Some(folio) = folio else {
        put_swap_device(k, si);
        return -ENOMEM;
    };
    k.folio_lock(folio);
    let ours = k.with(|w| {
        let f = &w.folios[folio];
        f.swapcache && f.swap == swap && f.nr == 1
    }) && shmem_confirm_swap(k, inode, index, swap);
    if !ours {
        k.folio_unlock(folio);
        put_swap_device(k, si);
        return -EEXIST;
    }
    // shmem_add_to_page_cache(folio, mapping, index, swp_to_radix_entry(swap))
    k.spin_lock(LockId::ShmemXa(inode));
    let added = k.with(|w| {
        let slot = &mut w.inodes[inode].i_pages[index];
        if *slot == ShmemSlot::Swap(swap) {
            *slot = ShmemSlot::Folio(folio);
            w.folios[folio].shmem = Some((inode, index));
            true
        } else {
            false
        }
    });
    k.spin_unlock(LockId::ShmemXa(inode));
    if added {
        k.with(|w| w.inodes[inode].swapped -= 1); // shmem_recalc_inode(inode, 0, -1)
        delete_from_swap_cache(k, folio);
        k.with(|w| w.folios[folio].dirty = true);
        swap_free(k, swap);
    }
    k.folio_unlock(folio);
    put_swap_device(k, si);
    if added { 0 } else { -EEXIST }
}

/// Bound on `shmem_unuse_inode()`'s rescans of one inode (it restarts from the last index found).
pub const MAX_INODE_RESCANS: u32 = 4;

/// mm/shmem.c: shmem_unuse_inode(), v6.8: swap in every value entry of `type_` in the inode.
pub fn shmem_unuse_inode(k: &Kernel, inode: InodeId, type_: SwapType) -> i32 {
    let _f = k.enter("shmem_unuse_inode");
    for _ in 0..MAX_INODE_RESCANS {
        // shmem_find_swap_entries(): RCU walk.
        let found: Vec<(usize, SwpEntry)> = k.with(|w| {
            w.inodes[inode]
                .i_pages
                .iter()
                .enumerate()
                .filter_map(|(i, s)| match s {
                    ShmemSlot::Swap(e) if e.type_ == type_ => Some((i, *e)),
                    _ => None,
                })
                .collect()
        });
        if found.is_empty() {
            return 0;
        }
        for (index, swap) in found {
            if shmem_swapin_folio(k, inode, index, swap) == -ENOMEM {
                return -ENOMEM;
            }
        }
    }
    0
}

/// mm/shmem.c: shmem_unuse(), v6.8: walk `shmem_swaplist`, unusing each inode with swap; an
/// inode being scanned is kept from eviction by `stop_eviction`.
pub fn shmem_unuse(k: &Kernel, type_: SwapType) -> i32 {
    let _f = k.enter("shmem_unuse");
    if k.with(|w| w.shmem_swaplist.is_empty()) {
        return 0;
    }
    k.mutex_lock(LockId::ShmemSwaplistMutex);
    let list = k.with(|w| w.shmem_swaplist.clone());
    let mut error = 0;
    for inode in list {
        let swapped = k.with(|w| w.inodes[inode].swapped);
        if swapped == 0 {
            k.with(|w| {
                w.shmem_swaplist.retain(|&i| i != inode);
                w.inodes[inode].on_swaplist = false;
            });
            continue;
        }
        k.with(|w| w.inodes[inode].stop_eviction += 1);
        k.mutex_unlock(LockId::ShmemSwaplistMutex);
        error = shmem_unuse_inode(k, inode, type_);
        k.mutex_lock(LockId::ShmemSwaplistMutex);
        k.with(|w| {
            if w.inodes[inode].swapped == 0 {
                w.shmem_swaplist.retain(|&i| i != inode);
                w.inodes[inode].on_swaplist = false;
            }
            w.inodes[inode].stop_eviction -= 1;
            if w.inodes[inode].stop_eviction == 0 {
                w.wake(WaitFor::Var("stop_eviction"));
            }
        });
        if error != 0 {
            break;
        }
    }
    k.mutex_unlock(LockId::ShmemSwaplistMutex);
    error
}

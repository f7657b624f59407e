//! mm/shmem.c (v6.8): tmpfs pages in swap: `shmem_writepage()`, truncation
//! (`shmem_undo_range()` → `shmem_free_swap()`, which calls `free_swap_and_cache()` holding
//! nothing), the read path (`shmem_file_read_iter()` → `shmem_get_folio_gfp()` →
//! `shmem_swapin_folio()`), and swapoff's `shmem_unuse()`.

use super::context::{Kernel, Touch};
use super::kernel::lock::LockId;
use super::swap_slots::folio_alloc_swap;
use super::swap_state::{add_to_swap_cache, delete_from_swap_cache};
use super::swap_state::{filemap_get_entry, swap_cache_get_folio, swap_cluster_readahead};
use super::swapfile::dup::swap_shmem_alloc;
use super::swapfile::free::{free_swap_and_cache, get_swap_device, put_swap_device, swap_free};
use super::types::*;
use super::world::WaitFor;

/// `-EEXIST`.
pub const EEXIST: i32 = 17;
/// `-ENOMEM`.
pub const ENOMEM: i32 = 12;
/// `-EINVAL`.
pub const EINVAL: i32 = 22;

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
    // The compare-and-exchange reads the slot, and writes it when it still holds `radswap`.
    let ok = k.with_footprint(|w, fp| {
        fp.read(Touch::ShmemSlot(inode, index));
        let slot = &mut w.inodes[inode].i_pages[index];
        if *slot == ShmemSlot::Swap(radswap) {
            fp.write(Touch::ShmemSlot(inode, index));
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
    k.call("free_swap_and_cache", |k| free_swap_and_cache(k, radswap));
    0
}

/// mm/shmem.c: shmem_undo_range(), v6.8, whole file: pass 1 frees value entries (not locked:
/// there is nothing to lock) and truncates locked folios; pass 2 (`find_get_entries()`) retries
/// what pass 1 missed. Then `shmem_recalc_inode()` accounts the freed swap.
pub fn shmem_undo_range(k: &Kernel, inode: InodeId) {
    let _f = k.enter("shmem_undo_range");
    // Fixed when the world is made: nothing to declare.
    let n = k.with_footprint(|w, fp| {
        fp.local();
        w.inodes[inode].i_pages.len()
    });
    let mut nr_swaps_freed = 0;
    for _pass in 0..2 {
        for index in 0..n {
            // find_lock_entries() / find_get_entries(): an RCU walk of the xarray.
            let slot = k.with_footprint(|w, fp| {
                fp.read(Touch::ShmemSlot(inode, index));
                w.inodes[inode].i_pages[index]
            });
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
                    k.with_footprint(|w, fp| {
                        fp.write(Touch::ShmemSlot(inode, index));
                        fp.write(Touch::Folio(f));
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
    k.with_footprint(|w, fp| {
        fp.write(Touch::Inode(inode));
        w.inodes[inode].swapped -= nr_swaps_freed
    });
}

/// mm/shmem.c: shmem_confirm_swap(), v6.8: does the xarray still hold the value entry?
pub fn shmem_confirm_swap(k: &Kernel, inode: InodeId, index: usize, swap: SwpEntry) -> bool {
    k.with_footprint(|w, fp| {
        fp.read(Touch::ShmemSlot(inode, index));
        w.inodes[inode].i_pages[index] == ShmemSlot::Swap(swap)
    })
}

/// mm/shmem.c: shmem_swapin_folio(), v6.8: under `get_swap_device()`, get the folio (swap cache,
/// or `shmem_swapin_cluster()`), lock it, confirm the entry is still ours, put the folio in the
/// page cache, drop it from the swap cache, free the swap, `put_swap_device()`. Returns the
/// folio **locked** (the caller unlocks it), or a negative errno. Simplified: no poisoned
/// entries, sgp and the fault statistics (they change nothing the race touches), and reads
/// never fail nor need a replacement folio (I/O completes at once, no zone constraints), so
/// `-EIO`, `shmem_replace_folio()` and `shmem_set_folio_swapin_error()` are not modelled.
pub fn shmem_swapin_folio(
    k: &Kernel,
    inode: InodeId,
    index: usize,
    swap: SwpEntry,
) -> Result<FolioId, i32> {
    if let Some(patched) = k.patched().shmem_swapin_folio {
        return patched(k, inode, index, swap);
    }
    let _f = k.enter("shmem_swapin_folio");
    let Some(si) = get_swap_device(k, swap) else {
        return Err(if !shmem_confirm_swap(k, inode, index, swap) {
            -EEXIST
        } else {
            -EINVAL
        });
    };
    // Look it up and read it in..
    let mut folio = swap_cache_get_folio(k, swap);
    if folio.is_none() {
        // Here we actually start the io
        folio = shmem_swapin_cluster(k, swap);
    }
    let Some(folio) = folio else {
        return shmem_swapin_failed(k, inode, index, swap, None, si, -ENOMEM);
    };
    // We have to do this with folio locked to prevent races
    k.folio_lock(folio);
    let ours = k.with_footprint(|w, fp| {
        fp.read(Touch::Folio(folio));
        let f = &w.folios[folio];
        f.swapcache && f.swap == swap && f.nr == 1
    }) && shmem_confirm_swap(k, inode, index, swap);
    if !ours {
        return shmem_swapin_unlock(k, Some(folio), si, -EEXIST);
    }
    if shmem_add_to_page_cache(k, folio, inode, index, swap) != 0 {
        return shmem_swapin_failed(k, inode, index, swap, Some(folio), si, -EEXIST);
    }
    // shmem_recalc_inode(inode, 0, -1)
    k.with_footprint(|w, fp| {
        fp.write(Touch::Inode(inode));
        w.inodes[inode].swapped -= 1
    });
    delete_from_swap_cache(k, folio);
    k.with_footprint(|w, fp| {
        fp.write(Touch::Folio(folio));
        w.folios[folio].dirty = true // folio_mark_dirty()
    });
    swap_free(k, swap);
    put_swap_device(k, si);
    Ok(folio)
}

/// The `failed:` tail of mm/shmem.c: shmem_swapin_folio(), v6.8: `-EEXIST` if the entry is no
/// longer ours, then `unlock:`.
fn shmem_swapin_failed(
    k: &Kernel,
    inode: InodeId,
    index: usize,
    swap: SwpEntry,
    folio: Option<FolioId>,
    si: SwapType,
    mut error: i32,
) -> Result<FolioId, i32> {
    if !shmem_confirm_swap(k, inode, index, swap) {
        error = -EEXIST;
    }
    shmem_swapin_unlock(k, folio, si, error)
}

/// The `unlock:` tail of mm/shmem.c: shmem_swapin_folio(), v6.8: unlock the folio if any, then
/// `put_swap_device()`.
fn shmem_swapin_unlock(
    k: &Kernel,
    folio: Option<FolioId>,
    si: SwapType,
    error: i32,
) -> Result<FolioId, i32> {
    if let Some(folio) = folio {
        k.folio_unlock(folio); // and folio_put()
    }
    put_swap_device(k, si);
    Err(error)
}

/// mm/shmem.c: shmem_add_to_page_cache(), v6.8, for a swapped-in folio: under the xa_lock,
/// replace the expected value entry by the folio; `-EEXIST` if the slot changed.
pub fn shmem_add_to_page_cache(
    k: &Kernel,
    folio: FolioId,
    inode: InodeId,
    index: usize,
    swap: SwpEntry,
) -> i32 {
    k.spin_lock(LockId::ShmemXa(inode));
    let added = k.with_footprint(|w, fp| {
        fp.write(Touch::ShmemSlot(inode, index));
        fp.write(Touch::Folio(folio));
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
    if added { 0 } else { -EEXIST }
}

/// mm/shmem.c: shmem_swapin_cluster(), v6.8: `swap_cluster_readahead()` under the file's NUMA
/// policy (not modelled: one node).
pub fn shmem_swapin_cluster(k: &Kernel, swap: SwpEntry) -> Option<FolioId> {
    let _f = k.enter("shmem_swapin_cluster");
    swap_cluster_readahead(k, swap)
}

/// Bound on `shmem_get_folio_gfp()`'s `goto repeat` after `-EEXIST` (a racing swap-in or
/// swapoff); as the model's other retry bounds, it stands for the loop ending in time.
pub const MAX_GET_FOLIO_REPEATS: u32 = 4;

/// mm/shmem.c: shmem_get_folio_gfp(), v6.8, with `SGP_READ`: a folio in the page cache is
/// locked and returned; a swap value entry is swapped in (`shmem_swapin_folio()`, `-EEXIST` →
/// `repeat:`); a hole returns no folio and allocates nothing. The folio is returned locked.
/// Simplified: `i_size` (files keep their size in the model), userfaultfd and the allocation
/// of the other sgp types are left out.
pub fn shmem_get_folio_gfp_read(
    k: &Kernel,
    inode: InodeId,
    index: usize,
) -> Result<Option<FolioId>, i32> {
    let _f = k.enter("shmem_get_folio_gfp");
    for _ in 0..MAX_GET_FOLIO_REPEATS {
        match filemap_get_entry(k, inode, index) {
            ShmemSlot::Swap(swap) => match shmem_swapin_folio(k, inode, index, swap) {
                Err(e) if e == -EEXIST => continue,
                Err(e) => return Err(e),
                Ok(folio) => return Ok(Some(folio)),
            },
            ShmemSlot::Folio(folio) => {
                k.folio_lock(folio);
                // Has the folio been truncated or swapped out?
                if k.with(|w| w.folios[folio].shmem != Some((inode, index))) {
                    k.folio_unlock(folio);
                    continue;
                }
                return Ok(Some(folio)); // uptodate: goto out
            }
            // SGP_READ: succeed on hole, with NULL folio, letting caller zero.
            ShmemSlot::None => return Ok(None),
        }
    }
    Err(-EEXIST) // out of repeats
}

/// mm/shmem.c: shmem_file_read_iter(), v6.8, for one page: `shmem_get_folio(SGP_READ)`, then
/// `folio_unlock()` and the copy to user space (not modelled: contents are not tracked).
pub fn shmem_file_read_iter(k: &Kernel, inode: InodeId, index: usize) {
    let _f = k.enter("shmem_file_read_iter");
    if let Ok(Some(folio)) = shmem_get_folio_gfp_read(k, inode, index) {
        k.folio_unlock(folio);
    }
}

/// Bound on `shmem_unuse_inode()`'s rescans of one inode (it restarts from the last index found).
pub const MAX_INODE_RESCANS: u32 = 4;

/// mm/shmem.c: shmem_unuse_inode(), v6.8: swap in every value entry of `type_` in the inode.
pub fn shmem_unuse_inode(k: &Kernel, inode: InodeId, type_: SwapType) -> i32 {
    let _f = k.enter("shmem_unuse_inode");
    for _ in 0..MAX_INODE_RESCANS {
        // shmem_find_swap_entries(): RCU walk.
        let found: Vec<(usize, SwpEntry)> = k.with_footprint(|w, fp| {
            for i in 0..w.inodes[inode].i_pages.len() {
                fp.read(Touch::ShmemSlot(inode, i));
            }
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
            // shmem_unuse_swap_entries()
            match shmem_swapin_folio(k, inode, index, swap) {
                Ok(folio) => k.folio_unlock(folio), // and folio_put()
                Err(e) if e == -ENOMEM => return -ENOMEM,
                Err(_) => {}
            }
        }
    }
    0
}

/// mm/shmem.c: shmem_unuse(), v6.8: walk `shmem_swaplist`, unusing each inode with swap; an
/// inode being scanned is kept from eviction by `stop_eviction`.
pub fn shmem_unuse(k: &Kernel, type_: SwapType) -> i32 {
    let _f = k.enter("shmem_unuse");
    let empty = k.with_footprint(|w, fp| {
        fp.read(Touch::ShmemSwaplist);
        w.shmem_swaplist.is_empty()
    });
    if empty {
        return 0;
    }
    k.mutex_lock(LockId::ShmemSwaplistMutex);
    let list = k.with_footprint(|w, fp| {
        fp.read(Touch::ShmemSwaplist);
        w.shmem_swaplist.clone()
    });
    let mut error = 0;
    for inode in list {
        let swapped = k.with_footprint(|w, fp| {
            fp.read(Touch::Inode(inode));
            w.inodes[inode].swapped
        });
        if swapped == 0 {
            k.with_footprint(|w, fp| {
                fp.write(Touch::ShmemSwaplist);
                fp.write(Touch::Inode(inode));
                w.shmem_swaplist.retain(|&i| i != inode);
                w.inodes[inode].on_swaplist = false;
            });
            continue;
        }
        k.with_footprint(|w, fp| {
            fp.write(Touch::Inode(inode));
            w.inodes[inode].stop_eviction += 1
        });
        k.mutex_unlock(LockId::ShmemSwaplistMutex);
        error = k.call("shmem_unuse_inode", |k| shmem_unuse_inode(k, inode, type_));
        k.mutex_lock(LockId::ShmemSwaplistMutex);
        // Waking an evictor makes the step unknown.
        k.with_footprint(|w, fp| {
            fp.write(Touch::ShmemSwaplist);
            fp.write(Touch::Inode(inode));
            fp.wake_reads(WaitFor::Var("stop_eviction"));
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

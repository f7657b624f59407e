//! mm/swapfile.c (v6.8): the free path, from `_swap_info_get()` to `free_swap_and_cache()`, and
//! `get_swap_device()`/`put_swap_device()`, in the kernel file's order.

use super::*;
use crate::model::world::{BugKind, EventKind};

/// mm/swapfile.c: swp_swap_info(), v6.8: `swap_type_to_swap_info(swp_type(entry))`, no
/// reference and no check (`swap_info[type]` is never freed). The ghost of invariant S3 records
/// the device's generation here, as `_swap_info_get()` does.
pub fn swp_swap_info(k: &Kernel, entry: SwpEntry) -> SwapType {
    let cpu = k.cpu;
    k.with_no_point(|w| w.ghost.obtain_si(cpu, entry.type_));
    entry.type_
}

/// mm/swapfile.c: _swap_info_get(), v6.8. Validates `entry` without a lock or a reference:
/// the type's slot is in use, `offset < max`, and `swap_map[offset] != 0` (each failure is the
/// kernel's `pr_err` and returns NULL).
pub fn _swap_info_get(k: &Kernel, entry: SwpEntry) -> Option<SwapType> {
    let _f = k.enter_helper("_swap_info_get");
    if entry.is_null() {
        return None;
    }
    let cpu = k.cpu;
    k.with_footprint(|w, fp| {
        let t = entry.type_;
        fp.read(Touch::SiSlot(t));
        fp.read(Touch::SiFlags(t));
        fp.read(Touch::SiMap(t));
        fp.write(Touch::SiGen(cpu));
        let Some(p) = w.swap_info.get(t) else {
            return None; // Bad_file
        };
        if p.flags & SWP_USED == 0 || entry.offset >= p.max {
            return None; // Unused_file / Bad_offset
        }
        let map = p.swap_map;
        fp.elem(cpu, map, entry.offset as usize, false);
        w.ghost.obtain_si(cpu, t);
        // data_race(p->swap_map[offset]): Unused_offset
        (map_get(w, cpu, map, entry.offset, "p->swap_map[offset]") != 0).then_some(t)
    })
}

/// mm/swapfile.c: swap_info_get_cont(), v6.8: `_swap_info_get()` and move `si->lock` from the
/// previous device to this one.
pub fn swap_info_get_cont(k: &Kernel, entry: SwpEntry, q: Option<SwapType>) -> Option<SwapType> {
    let p = _swap_info_get(k, entry);
    if p != q {
        if let Some(q) = q {
            k.spin_unlock(LockId::SiLock(q));
        }
        if let Some(p) = p {
            k.spin_lock(LockId::SiLock(p));
        }
    }
    p
}

/// mm/swapfile.c: __swap_entry_free_locked(), v6.8: the count transition (cluster locked).
/// A last reference leaves `SWAP_HAS_CACHE` (a pin until `swap_entry_free()`), and the return
/// value 0 tells the caller to `free_swap_slot()`.
pub fn __swap_entry_free_locked(k: &Kernel, p: SwapType, offset: u32, usage: u8) -> u8 {
    let _f = k.enter("__swap_entry_free_locked");
    let cpu = k.cpu;
    let map = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(p));
        fp.read(Touch::SiMap(p));
        w.swap_info[p].swap_map
    });
    k.with_footprint(|w, fp| {
        fp.elem(cpu, map, offset as usize, true);
        let mut count = map_get(w, cpu, map, offset, "p->swap_map[offset]");
        let mut has_cache = count & SWAP_HAS_CACHE;
        count &= !SWAP_HAS_CACHE;
        if usage == SWAP_HAS_CACHE {
            if has_cache == 0 {
                w.report(
                    Some(cpu),
                    BugKind::KernelBug("VM_BUG_ON(!has_cache)".into()),
                );
                return 0;
            }
            has_cache = 0;
        } else if count == SWAP_MAP_SHMEM {
            // A shmem slot has a single owner: the count drops straight to 0.
            count = 0;
        } else if (count & !COUNT_CONTINUED) <= SWAP_MAP_MAX {
            if count == 0 {
                // C4: the fixed code's WARN catches this before; the buggy code underflows.
                w.report(
                    Some(cpu),
                    BugKind::Invariant {
                        id: "C4",
                        detail: format!("swap count underflow at {}", SwpEntry::new(p, offset)),
                    },
                );
                return 0;
            }
            count -= 1;
        }
        let usage = count | has_cache;
        let v = if usage != 0 { usage } else { SWAP_HAS_CACHE };
        map_set(w, cpu, map, offset, v, "p->swap_map[offset]");
        usage
    })
}

/// mm/swapfile.c: __swap_entry_free(), v6.8: drop one count under the cluster lock; a last
/// reference with no cache goes to `free_swap_slot()`.
pub fn __swap_entry_free(k: &Kernel, p: SwapType, entry: SwpEntry) -> u8 {
    let _f = k.enter("__swap_entry_free");
    let ci = lock_cluster_or_swap_info(k, p, entry.offset);
    let usage = __swap_entry_free_locked(k, p, entry.offset, 1);
    unlock_cluster_or_swap_info(k, ci);
    if usage == 0 || usage == SWAP_HAS_CACHE {
        k.note(|_| "/* swap count become 0 */".into());
    }
    if usage == 0 {
        crate::model::swap_slots::free_swap_slot(k, entry);
    }
    usage
}

/// mm/swapfile.c: swap_entry_free(), v6.8 (si->lock held): the slot pinned by `HAS_CACHE`
/// becomes free: map byte 0, cluster count down, `swap_range_free()`.
pub fn swap_entry_free(k: &Kernel, p: SwapType, entry: SwpEntry) {
    let _f = k.enter("swap_entry_free");
    let offset = entry.offset;
    let ci = lock_cluster(k, p, offset);
    let cpu = k.cpu;
    let (map, cip) = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(p));
        fp.read(Touch::SiMap(p));
        (w.swap_info[p].swap_map, w.swap_info[p].cluster_info)
    });
    k.with_footprint(|w, fp| {
        fp.elem(cpu, map, offset as usize, true);
        let count = map_get(w, cpu, map, offset, "p->swap_map[offset]");
        if count != SWAP_HAS_CACHE && w.bug.is_none() {
            w.report(
                Some(cpu),
                BugKind::KernelBug(format!("VM_BUG_ON(count != SWAP_HAS_CACHE): {count:#x}")),
            );
        }
        map_set(w, cpu, map, offset, 0, "p->swap_map[offset]");
    });
    dec_cluster_info_page(k, p, cip, offset);
    unlock_cluster(k, ci);
    swap_range_free(k, p, offset, 1);
}

/// mm/swapfile.c: swap_free(), v6.8: drop one reference of `entry`.
pub fn swap_free(k: &Kernel, entry: SwpEntry) {
    let _f = k.enter("swap_free");
    if let Some(p) = _swap_info_get(k, entry) {
        __swap_entry_free(k, p, entry);
    }
}

/// mm/swapfile.c: put_swap_folio(), v6.8: drop the swap cache's `HAS_CACHE` on every slot of the
/// folio; a large folio whose slots are all cache-only frees its whole cluster at once.
pub fn put_swap_folio(k: &Kernel, nr: u32, entry: SwpEntry) {
    let _f = k.enter("put_swap_folio");
    let Some(si) = _swap_info_get(k, entry) else {
        return;
    };
    let offset = entry.offset;
    let mut ci = lock_cluster_or_swap_info(k, si, offset);
    if nr == SWAPFILE_CLUSTER {
        let cpu = k.cpu;
        let (map, cip) = k.with_footprint(|w, fp| {
            fp.read(Touch::SiSlot(si));
            fp.read(Touch::SiMap(si));
            (w.swap_info[si].swap_map, w.swap_info[si].cluster_info)
        });
        let free_entries = k.with_footprint(|w, fp| {
            let idx = (offset / SWAPFILE_CLUSTER) as usize;
            fp.elem(cpu, cip, idx, true);
            for i in 0..SWAPFILE_CLUSTER {
                fp.elem(cpu, map, (offset + i) as usize, false);
            }
            let huge = cluster_do(w, cpu, cip, idx, |c| c.flags & CLUSTER_FLAG_HUGE != 0);
            if !huge && w.bug.is_none() {
                w.report(
                    Some(cpu),
                    BugKind::KernelBug("VM_BUG_ON(!cluster_is_huge(ci))".into()),
                );
            }
            let n = (0..SWAPFILE_CLUSTER)
                .filter(|i| map_get(w, cpu, map, offset + i, "map[i]") == SWAP_HAS_CACHE)
                .count() as u32;
            cluster_do(w, cpu, cip, idx, |c| c.flags &= !CLUSTER_FLAG_HUGE);
            n
        });
        if free_entries == SWAPFILE_CLUSTER {
            unlock_cluster_or_swap_info(k, ci);
            k.spin_lock(LockId::SiLock(si));
            swap_free_cluster(k, si, offset / SWAPFILE_CLUSTER);
            k.spin_unlock(LockId::SiLock(si));
            return;
        }
    }
    for i in 0..nr {
        let e = SwpEntry::new(si, offset + i);
        if __swap_entry_free_locked(k, si, offset + i, SWAP_HAS_CACHE) == 0 {
            unlock_cluster_or_swap_info(k, ci);
            crate::model::swap_slots::free_swap_slot(k, e);
            if i == nr - 1 {
                return;
            }
            ci = lock_cluster_or_swap_info(k, si, offset);
        }
    }
    unlock_cluster_or_swap_info(k, ci);
}

/// mm/swapfile.c: swap_free_cluster(), v6.8 (si->lock held): zero the cluster's map, free the
/// cluster, `swap_range_free()` of all its slots (bypassing the slots cache).
pub fn swap_free_cluster(k: &Kernel, si: SwapType, idx: u32) {
    let _f = k.enter("swap_free_cluster");
    let offset = idx * SWAPFILE_CLUSTER;
    let ci = lock_cluster(k, si, offset);
    let cpu = k.cpu;
    let (map, cip) = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(si));
        fp.read(Touch::SiMap(si));
        (w.swap_info[si].swap_map, w.swap_info[si].cluster_info)
    });
    k.with_footprint(|w, fp| {
        for o in offset..offset + SWAPFILE_CLUSTER {
            fp.elem(cpu, map, o as usize, true);
        }
        fp.elem(cpu, cip, idx as usize, true);
        for o in offset..offset + SWAPFILE_CLUSTER {
            map_set(w, cpu, map, o, 0, "si->swap_map[offset]");
        }
        cluster_do(w, cpu, cip, idx as usize, |c| {
            c.count = 0;
            c.flags = CLUSTER_FLAG_FREE;
        });
    });
    unlock_cluster(k, ci);
    swap_range_free(k, si, offset, SWAPFILE_CLUSTER);
}

/// mm/swapfile.c: swapcache_free_entries(), v6.8: free a batch of pinned slots, each under its
/// device's `si->lock` (sorting by type is not needed: batches here are short and ordered).
pub fn swapcache_free_entries(k: &Kernel, entries: &[SwpEntry]) {
    let _f = k.enter("swapcache_free_entries");
    let mut prev = None;
    for &e in entries {
        let p = swap_info_get_cont(k, e, prev);
        if let Some(p) = p {
            swap_entry_free(k, p, e);
        }
        prev = p;
    }
    if let Some(p) = prev {
        k.spin_unlock(LockId::SiLock(p));
    }
}

/// mm/swapfile.c: __swap_count(), v6.8: `swap_count(si->swap_map[offset])` with `si =
/// swp_swap_info(entry)`: no lock, no reference (callers hold one). The pointer and the byte are
/// two loads, two steps.
pub fn __swap_count(k: &Kernel, entry: SwpEntry) -> u8 {
    let _f = k.enter("__swap_count");
    let si = entry.type_; // swp_swap_info(entry): swap_info[] is never freed
    let cpu = k.cpu;
    let map = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(si));
        fp.read(Touch::SiMap(si));
        w.swap_info[si].swap_map
    });
    k.with_footprint(|w, fp| {
        fp.elem(cpu, map, entry.offset as usize, false);
        swap_count(map_get(w, cpu, map, entry.offset, "si->swap_map[offset]"))
    })
}

/// mm/swapfile.c: swap_swapcount(), v6.8: `swap_count(map[offset])` under the cluster lock.
pub fn swap_swapcount(k: &Kernel, si: SwapType, entry: SwpEntry) -> u8 {
    let _f = k.enter_helper("swap_swapcount");
    let ci = lock_cluster_or_swap_info(k, si, entry.offset);
    let cpu = k.cpu;
    let map = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(si));
        fp.read(Touch::SiMap(si));
        w.swap_info[si].swap_map
    });
    let count = k.with_footprint(|w, fp| {
        fp.elem(cpu, map, entry.offset as usize, false);
        swap_count(map_get(w, cpu, map, entry.offset, "si->swap_map[offset]"))
    });
    unlock_cluster_or_swap_info(k, ci);
    count
}

/// mm/swapfile.c: swap_page_trans_huge_swapped(), v6.8: does any slot of the (huge) cluster
/// still have a reference other than the cache? Reads `si->swap_map` once, unlocked; then the
/// cluster lock (`si->cluster_info`), then the map bytes.
pub fn swap_page_trans_huge_swapped(k: &Kernel, si: SwapType, entry: SwpEntry) -> bool {
    let _f = k.enter("swap_page_trans_huge_swapped");
    let cpu = k.cpu;
    let map = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(si));
        fp.read(Touch::SiMap(si));
        w.swap_info[si].swap_map
    });
    let roffset = entry.offset;
    let offset = roffset - roffset % SWAPFILE_CLUSTER;
    let ci = lock_cluster_or_swap_info(k, si, offset);
    let huge = match ci {
        LockId::Cluster { alloc, idx } => k.with_footprint(|w, fp| {
            fp.elem(cpu, Some(alloc), idx, true);
            cluster_do(w, cpu, Some(alloc), idx, |c| {
                c.flags & CLUSTER_FLAG_HUGE != 0
            })
        }),
        _ => false,
    };
    let ret = k.with_footprint(|w, fp| {
        // Every byte the scan may read (it stops at the first in use).
        let scanned = if huge {
            offset..offset + SWAPFILE_CLUSTER
        } else {
            roffset..roffset + 1
        };
        for o in scanned {
            fp.elem(cpu, map, o as usize, false);
        }
        if !huge {
            swap_count(map_get(w, cpu, map, roffset, "si->swap_map[roffset]")) != 0
        } else {
            (offset..offset + SWAPFILE_CLUSTER)
                .any(|o| swap_count(map_get(w, cpu, map, o, "si->swap_map[offset + i]")) != 0)
        }
    });
    unlock_cluster_or_swap_info(k, ci);
    ret
}

/// mm/swapfile.c: folio_swapped(), v6.8: does any slot of the folio have a non-cache reference?
pub fn folio_swapped(k: &Kernel, folio: FolioId) -> bool {
    let _f = k.enter_helper("folio_swapped");
    let (entry, nr) = k.with_footprint(|w, fp| {
        fp.read(Touch::Folio(folio));
        (w.folios[folio].swap, w.folios[folio].nr)
    });
    let Some(si) = _swap_info_get(k, entry) else {
        return false;
    };
    if nr == 1 {
        swap_swapcount(k, si, entry) != 0
    } else {
        swap_page_trans_huge_swapped(k, si, entry)
    }
}

/// mm/swapfile.c: folio_free_swap(), v6.8 (folio locked): drop the swap cache of a folio that
/// no swap entry references any more. Writeback and suspend are not modelled.
pub fn folio_free_swap(k: &Kernel, folio: FolioId) -> bool {
    let _f = k.enter("folio_free_swap");
    if !k.with_footprint(|w, fp| {
        fp.read(Touch::Folio(folio));
        w.folios[folio].swapcache
    }) {
        return false;
    }
    if folio_swapped(k, folio) {
        return false;
    }
    crate::model::swap_state::delete_from_swap_cache(k, folio);
    k.with_footprint(|w, fp| {
        fp.write(Touch::Folio(folio));
        w.folios[folio].dirty = true
    });
    k.note(|_| "/* remove swap cache */".into());
    true
}

/// mm/swapfile.c: __try_to_reclaim_swap(), v6.8: find the swap-cache folio at `offset`, trylock
/// it, and free its swap if it is unmapped (TTRS_UNMAPPED) or swap is full (TTRS_FULL; the
/// model's swap is never "full", `mem_cgroup_swap_full()` is false).
pub fn __try_to_reclaim_swap(k: &Kernel, si: SwapType, offset: u32, flags: u32) -> bool {
    let _f = k.enter("__try_to_reclaim_swap");
    let entry = SwpEntry::new(si, offset);
    let Some(folio) = crate::model::swap_state::filemap_get_folio(k, entry) else {
        return false;
    };
    let mut ret = false;
    if k.folio_trylock(folio) {
        let mapped = k.with_footprint(|w, fp| {
            fp.read(Touch::Folio(folio));
            w.folios[folio].mapcount > 0
        });
        if flags & TTRS_ANYWAY != 0 || (flags & TTRS_UNMAPPED != 0 && !mapped) {
            ret = folio_free_swap(k, folio);
        }
        k.folio_unlock(folio);
    }
    ret
}

/// mm/swapfile.c: free_swap_and_cache(), v6.8: drop one reference; if only the swap cache is
/// left, try to reclaim it. Returns false where the kernel returns 0 (`print_bad_pte()` in
/// zap). A patch may replace it (`model/patches/`; commit 82b1c07a0af6 does).
///
/// The race 82b1c07a0af6 closes (shmem truncate, which holds no lock and no reference here):
///
/// ```text
/// CPU0                                      CPU1
/// ----                                      ----
/// shmem_undo_range
///   shmem_free_swap
///     xa_cmpxchg_irq
///     free_swap_and_cache
///       __swap_entry_free
///       /* swap count become 0 */
///                                           swapoff
///                                             try_to_unuse
///                                               filemap_get_folio
///                                               folio_free_swap
///                                               /* remove swap cache */
///                                             /* free si->swap_map[] */
///       swap_page_trans_huge_swapped <-- access freed si->swap_map !!!
/// ```
///
/// With a PTL held (zap, exit) `synchronize_rcu()` in swapoff waits for CPU0 instead, as a held
/// spinlock is an RCU read-side section; the fix takes `get_swap_device()` so that no caller
/// depends on that. The model's `swapfuzz hunt` finds this diagram from an empty corpus.
pub fn free_swap_and_cache(k: &Kernel, entry: SwpEntry) -> bool {
    if let Some(patched) = k.patched().free_swap_and_cache {
        return patched(k, entry);
    }
    let _f = k.enter("free_swap_and_cache");
    // non_swap_entry(): the model has only genuine swap entries.
    let Some(p) = _swap_info_get(k, entry) else {
        return false;
    };
    let count = __swap_entry_free(k, p, entry);
    if count == SWAP_HAS_CACHE && !swap_page_trans_huge_swapped(k, p, entry) {
        __try_to_reclaim_swap(k, p, entry.offset, TTRS_UNMAPPED | TTRS_FULL);
    }
    true
}

/// `WARN_ON(data_race(!p->swap_map[swp_offset(entry)]))`, the check 82b1c07a0af6 adds to
/// `free_swap_and_cache()`: a reference to a slot that is already free. The model's warning
/// ends the run with its report, so the kernel's `put_swap_device(); return 0;` after it never
/// runs.
pub fn warn_on_free_slot(k: &Kernel, p: SwapType, entry: SwpEntry) {
    let cpu = k.cpu;
    let free = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(p));
        fp.read(Touch::SiMap(p));
        let map = w.swap_info[p].swap_map;
        fp.elem(cpu, map, entry.offset as usize, false);
        map_get(w, cpu, map, entry.offset, "p->swap_map[offset]") == 0
    });
    if free {
        k.report(|w| {
            w.record(cpu, EventKind::Note("WARN_ON(!p->swap_map[offset])".into()));
            BugKind::Warn(format!(
                "WARN_ON(data_race(!p->swap_map[{}]))",
                entry.offset
            ))
        });
    }
}

/// mm/swapfile.c: get_swap_device(), v6.8: take `si->users` unless swapoff killed it, and check
/// the offset. Returns the device on success.
pub fn get_swap_device(k: &Kernel, entry: SwpEntry) -> Option<SwapType> {
    let _f = k.enter_helper("get_swap_device");
    if entry.is_null() {
        return None;
    }
    let cpu = k.cpu;
    let si = entry.type_;
    let ok = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(si));
        fp.write(Touch::SiUsers(si));
        fp.write(Touch::SiGen(cpu));
        let Some(s) = w.swap_info.get_mut(si) else {
            return false; // Bad_file
        };
        if !s.users.tryget_live() {
            return false;
        }
        w.ghost.obtain_si(cpu, si);
        true
    });
    if !ok {
        return None;
    }
    // smp_rmb(); then the offset check.
    if k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(si));
        fp.read(Touch::SiMap(si));
        entry.offset >= w.swap_info[si].max
    }) {
        put_swap_device(k, si); // Bad_offset
        return None;
    }
    Some(si)
}

/// include/linux/swap.h: put_swap_device(), v6.8: `percpu_ref_put(&si->users)`; the last put
/// after swapoff's kill completes `si->comp`.
pub fn put_swap_device(k: &Kernel, si: SwapType) {
    let _f = k.enter_helper("put_swap_device");
    k.with_footprint(|w, fp| {
        // The last put completes `si->comp` and wakes its waiter (a wake-up makes the step
        // unknown).
        fp.write(Touch::SiUsers(si));
        fp.wake_reads(WaitFor::Completion(si));
        percpu_ref_put(w, k.cpu, si)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, quiet_panics, run_once};
    use crate::model::context::{BugPanic, Shared};
    use crate::model::world::{ModelConfig, World};

    /// [`PatchSet::fixed()`] on a slot that is already free: the `WARN_ON()` ends the run in
    /// `free_swap_and_cache()`, before the kernel's `put_swap_device()`.
    #[test]
    fn the_warn_on_a_free_slot_ends_the_run() {
        quiet_panics();
        let cfg = ModelConfig {
            patches: crate::model::PatchSet::fixed(),
            record: true,
            ..ModelConfig::default()
        };
        let exec = run_once(&[], &EngineConfig::default(), move || {
            let k = Kernel::new(Shared::new(World::new(cfg, 1)), 0);
            let si = crate::model::swapfile::swapoff::swapon(&k, false).expect("swapon");
            free_swap_and_cache(&k, SwpEntry::new(si, 1));
        });
        let Some(BugPanic { bug, events }) = exec.payload.as_ref().and_then(|p| p.downcast_ref())
        else {
            panic!("no bug: {:?}", exec.outcome)
        };
        assert_eq!(
            bug.kind,
            BugKind::Warn("WARN_ON(data_race(!p->swap_map[1]))".into())
        );
        assert_eq!(bug.stack, ["free_swap_and_cache"]);
        let calls: Vec<&EventKind> = events.iter().map(|e| &e.kind).collect();
        assert!(matches!(
            calls[calls.len() - 2..],
            [
                EventKind::Note(_),
                EventKind::Fatal {
                    func: "free_swap_and_cache",
                    ..
                }
            ]
        ));
        assert!(!calls.contains(&&EventKind::Helper("put_swap_device")));
    }
}

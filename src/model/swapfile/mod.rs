//! mm/swapfile.c (v6.8), split in the kernel file's own order: cluster and range helpers
//! (here), the free path with `free_swap_and_cache()` ([`free`]), the reference helpers
//! ([`dup`]), `try_to_unuse()` ([`unuse`]), and `swapoff`/`swapon` ([`swapoff`]).
//!
//! Model-wide simplifications (the full list: docs/model.md#simplifications): every device is an
//! SSD (it has `cluster_info`); the allocator is a first-fit scan under `si->lock` (no per-CPU
//! clusters, no free list, no discard); counts stay below `SWAP_MAP_MAX` (no continuation
//! pages); `lowest_bit`/`highest_bit`, priorities, the avail list and memcg charging are left out
//! because no verdict depends on them.

pub mod dup;
pub mod free;
pub mod swapoff;
pub mod unuse;

use super::context::{Kernel, Touch, access};
use super::kernel::Cpu;
use super::kernel::lock::LockId;
use super::types::*;
use super::world::{WaitFor, World};

/// Reads `swap_map[offset]` through the pointer `map` (0 after a bad access, which is reported).
pub fn map_get(w: &mut World, cpu: Cpu, map: Option<usize>, offset: u32, expr: &'static str) -> u8 {
    match access(w, cpu, map, offset as usize, false, expr) {
        Some(p) => match &w.heap.get(p).data {
            Object::SwapMap(m) => m[offset as usize],
            _ => unreachable!("swap_map pointer to another object"),
        },
        None => 0,
    }
}

/// Writes `swap_map[offset] = v` through `map`.
pub fn map_set(
    w: &mut World,
    cpu: Cpu,
    map: Option<usize>,
    offset: u32,
    v: u8,
    expr: &'static str,
) {
    if let Some(p) = access(w, cpu, map, offset as usize, true, expr)
        && let Object::SwapMap(m) = w.heap.data_mut(p)
    {
        m[offset as usize] = v;
    }
}

/// Runs `f` on `cluster_info[idx]` through `ci` (reported and skipped after a bad access).
pub fn cluster_do<R: Default>(
    w: &mut World,
    cpu: Cpu,
    ci: Option<usize>,
    idx: usize,
    f: impl FnOnce(&mut SwapClusterInfo) -> R,
) -> R {
    match access(w, cpu, ci, idx, true, "si->cluster_info[idx]") {
        Some(p) => match w.heap.data_mut(p) {
            Object::ClusterInfo(c) => f(&mut c[idx]),
            _ => unreachable!("cluster_info pointer to another object"),
        },
        None => R::default(),
    }
}

/// mm/swapfile.c: swap_users_ref_free(), v6.8: the release callback of `si->users`, run by the
/// put or kill that drops its last reference: `complete(&si->comp)`.
fn swap_users_ref_free(w: &mut World, si: SwapType) {
    complete(w, si);
}

/// kernel/sched/completion.c: complete(), v6.8, on `si->comp`: done, and its waiter woken.
fn complete(w: &mut World, si: SwapType) {
    w.swap_info[si].comp.done = true;
    w.wake(WaitFor::Completion(si));
}

/// kernel/sched/completion.c: wait_for_completion(), v6.8, on `si->comp`: sleeps until the
/// last put of `si->users` completed it.
pub fn wait_for_completion(k: &Kernel, si: SwapType) {
    let _w = k.enter_helper("wait_for_completion");
    k.might_sleep();
    let reads = |_: &World, fp: &mut crate::model::context::Footprint| fp.read(Touch::SiUsers(si));
    k.wait_event_reading(WaitFor::Completion(si), reads, |w, _| {
        w.swap_info[si].comp.done
    });
}

/// The outcome of a put or kill of `si->users`: the release callback when it dropped the last
/// reference, invariant R1 when the ref was misused.
fn percpu_ref_outcome(w: &mut World, cpu: Cpu, si: SwapType, r: Result<bool, &'static str>) {
    match r {
        Ok(true) => swap_users_ref_free(w, si),
        Ok(false) => {}
        Err(m) => super::invariants::violated(w, Some(cpu), "R1", m.into()),
    }
}

/// lib/percpu-refcount.c: percpu_ref_put(), v6.8, on `si->users` (one step of the caller's).
pub fn percpu_ref_put(w: &mut World, cpu: Cpu, si: SwapType) {
    let r = w.swap_info[si].users.put();
    percpu_ref_outcome(w, cpu, si, r);
}

/// lib/percpu-refcount.c: percpu_ref_kill(), v6.8, on `si->users`: no new tryget succeeds, and
/// the base reference is dropped.
pub fn percpu_ref_kill(w: &mut World, cpu: Cpu, si: SwapType) {
    let r = w.swap_info[si].users.kill();
    percpu_ref_outcome(w, cpu, si, r);
}

/// lib/percpu-refcount.c: percpu_ref_resurrect(), v6.8, on `si->users`: live again with its
/// base reference.
pub fn percpu_ref_resurrect(w: &mut World, cpu: Cpu, si: SwapType) {
    if let Err(m) = w.swap_info[si].users.resurrect() {
        super::invariants::violated(w, Some(cpu), "R1", m.into());
    }
}

/// The lock `lock_cluster_or_swap_info()` took: the cluster's or `si->lock`.
pub type ClusterLock = LockId;

/// mm/swapfile.c: lock_cluster(), v6.8. Reads `si->cluster_info`, locks the cluster of `offset`.
pub fn lock_cluster(k: &Kernel, si: SwapType, offset: u32) -> Option<ClusterLock> {
    let ci = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(si));
        fp.read(Touch::SiMap(si));
        w.swap_info[si].cluster_info
    });
    let ci = ci?;
    let id = LockId::Cluster {
        alloc: ci,
        idx: (offset / SWAPFILE_CLUSTER) as usize,
    };
    k.spin_lock(id);
    Some(id)
}

/// mm/swapfile.c: unlock_cluster(), v6.8.
pub fn unlock_cluster(k: &Kernel, ci: Option<ClusterLock>) {
    if let Some(id) = ci {
        k.spin_unlock(id);
    }
}

/// mm/swapfile.c: lock_cluster_or_swap_info(), v6.8. `si->lock` when there is no cluster_info
/// (after swapoff cleared the pointer, as a stale caller would find it).
pub fn lock_cluster_or_swap_info(k: &Kernel, si: SwapType, offset: u32) -> ClusterLock {
    match lock_cluster(k, si, offset) {
        Some(id) => id,
        None => {
            k.spin_lock(LockId::SiLock(si));
            LockId::SiLock(si)
        }
    }
}

/// mm/swapfile.c: unlock_cluster_or_swap_info(), v6.8.
pub fn unlock_cluster_or_swap_info(k: &Kernel, ci: ClusterLock) {
    k.spin_unlock(ci);
}

/// mm/swapfile.c: swap_range_alloc(), v6.8 (under si->lock): `inuse_pages += nr`.
pub fn swap_range_alloc(k: &Kernel, si: SwapType, nr: u32) {
    let _f = k.enter_helper("swap_range_alloc");
    k.with_footprint(|w, fp| {
        fp.write(Touch::Inuse(si));
        w.swap_info[si].inuse_pages += nr
    });
}

/// mm/swapfile.c: swap_range_free(), v6.8 (under si->lock): `inuse_pages -= nr`, then the
/// per-slot cleanups, of which `clear_shadow_from_swap_cache()` touches the swap cache.
///
/// A zram-like (`SWP_SYNCHRONOUS_IO`) device's `swap_slot_free_notify()` (zram's
/// `zram_slot_free_notify()`) discards the freed slots: they read back as [`ZEROED`]. It is
/// merged into the `inuse_pages` step (both under `si->lock`; the kernel calls it per offset
/// after the update, and no reader of a freed slot holds `si->lock`).
pub fn swap_range_free(k: &Kernel, si: SwapType, offset: u32, nr: u32) {
    let _f = k.enter("swap_range_free");
    k.with_footprint(|w, fp| {
        fp.write(Touch::Inuse(si));
        fp.read(Touch::SiSlot(si));
        fp.read(Touch::SiFlags(si));
        let s = &mut w.swap_info[si];
        if s.flags & SWP_SYNCHRONOUS_IO != 0 {
            fp.unknown(); // `slot_data`, which no Touch names
        }
        s.inuse_pages -= nr;
        if s.flags & SWP_SYNCHRONOUS_IO != 0 {
            for o in offset..offset + nr {
                s.slot_data[o as usize] = ZEROED;
            }
        }
    });
    k.note(|w| format!("/* si->inuse_pages = {} */", w.swap_info[si].inuse_pages));
    super::swap_state::clear_shadow_from_swap_cache(k, si, offset, offset + nr - 1);
}

/// mm/swapfile.c: dec_cluster_info_page(), v6.8 (cluster locked): a cluster whose count drops to
/// 0 becomes free (`free_cluster()`; discard and the free list are not modelled).
pub fn dec_cluster_info_page(k: &Kernel, si: SwapType, ci: Option<usize>, offset: u32) {
    let _ = si;
    k.with_footprint(|w, fp| {
        let cpu = k.cpu;
        fp.elem(cpu, ci, (offset / SWAPFILE_CLUSTER) as usize, true);
        cluster_do(w, cpu, ci, (offset / SWAPFILE_CLUSTER) as usize, |c| {
            c.count -= 1;
            if c.count == 0 {
                c.flags = CLUSTER_FLAG_FREE;
            }
        })
    });
}

/// mm/swapfile.c: scan_swap_map_slots() via get_swap_pages(), v6.8, reduced to a first-fit scan
/// under `si->lock` of every device with `SWP_WRITEOK`: one slot (`nr == 1`) or a whole free
/// cluster marked HUGE (`nr == SWAPFILE_CLUSTER`, as swap_alloc_cluster()). Slots start as
/// `SWAP_HAS_CACHE`. Returns the first entry.
pub fn get_swap_pages(k: &Kernel, nr: u32) -> Option<SwpEntry> {
    let _f = k.enter("get_swap_pages");
    let types = k.with(|w| w.swap_info.ids());
    for si in types {
        k.spin_lock(LockId::SiLock(si));
        let found = k.with(|w| {
            let cpu = k.cpu;
            let s = &w.swap_info[si];
            if s.flags & SWP_WRITEOK == 0 {
                return None;
            }
            let (map, ci, max) = (s.swap_map, s.cluster_info, s.max);
            w.ghost.obtain_si(cpu, si);
            let free = |w: &mut World, o: u32| map_get(w, cpu, map, o, "si->swap_map[offset]") == 0;
            if nr == 1 {
                (1..max).find(|&o| free(w, o)).inspect(|&o| {
                    map_set(w, cpu, map, o, SWAP_HAS_CACHE, "si->swap_map[offset]");
                    cluster_do(w, cpu, ci, (o / SWAPFILE_CLUSTER) as usize, |c| {
                        c.count += 1;
                        c.flags &= !CLUSTER_FLAG_FREE;
                    });
                })
            } else {
                let start = (0..max / SWAPFILE_CLUSTER)
                    .map(|c| c * SWAPFILE_CLUSTER)
                    .find(|&o| (o..o + SWAPFILE_CLUSTER).all(|i| i > 0 && free(w, i)))?;
                for o in start..start + SWAPFILE_CLUSTER {
                    map_set(w, cpu, map, o, SWAP_HAS_CACHE, "si->swap_map[offset]");
                }
                cluster_do(w, cpu, ci, (start / SWAPFILE_CLUSTER) as usize, |c| {
                    c.count = SWAPFILE_CLUSTER;
                    c.flags = CLUSTER_FLAG_HUGE;
                });
                Some(start)
            }
        });
        if found.is_some() {
            swap_range_alloc(k, si, nr);
        }
        k.spin_unlock(LockId::SiLock(si));
        if let Some(offset) = found {
            k.note(|_| format!("/* allocated {} */", SwpEntry::new(si, offset)));
            return Some(SwpEntry::new(si, offset));
        }
    }
    None
}

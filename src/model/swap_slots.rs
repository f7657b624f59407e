//! mm/swap_slots.c (v6.8): the per-CPU swap slots cache, return side only: `free_swap_slot()`
//! defers frees into `slots_ret`; swapoff disables and drains the caches. The allocation side
//! (`slots[]`) is left out: allocation goes straight to `get_swap_pages()`.
//!
//! The cache is in use (`use_swap_slot_cache`) only while it is *active*: `check_cache_active()`
//! activates it when free swap exceeds `num_online_cpus() * 5 * SWAP_BATCH` pages (320 a CPU)
//! and deactivates and drains it below `num_online_cpus() * SWAP_BATCH`. The model's devices
//! have 11 usable slots; what they stand for decides it. Simplified: a `swapon` device stands
//! for a large device (free swap above the threshold whatever the model uses of it), and its
//! swapon activates the cache (for `check_cache_active()` at its first allocations); a
//! `swapon-sync` device stands for a small zram or brd device (below the threshold: the commit
//! 13ddaf26be32 reproducer's small brd), which never activates it, so that with only such
//! devices frees are direct and a freed slot can be allocated again at once.

use super::context::{Footprint, Kernel, Touch};
use super::kernel::lock::LockId;
use super::swapfile::free::swapcache_free_entries;
use super::types::*;

/// mm/swap_slots.c: `use_swap_slot_cache`, v6.8: `swap_slot_cache_active &&
/// swap_slot_cache_enabled`.
fn use_swap_slot_cache(w: &mut crate::model::world::World, fp: &mut Footprint) -> bool {
    fp.read(Touch::SlotsCache);
    w.slots.active && w.slots.enabled
}

/// mm/swap_slots.c: free_swap_slot(), v6.8: the slot's map byte is `SWAP_HAS_CACHE` (a pin);
/// queue it in this CPU's `slots_ret`, flushing a full batch first, or free it directly when the
/// cache is off.
pub fn free_swap_slot(k: &Kernel, entry: SwpEntry) {
    let _f = k.enter("free_swap_slot");
    let cpu = k.cpu;
    if k.with_footprint(use_swap_slot_cache) {
        k.spin_lock(LockId::SlotsFreeLock(cpu));
        // Swap slots cache may be deactivated before acquiring lock.
        if k.with_footprint(use_swap_slot_cache) {
            let batch = k.with_footprint(|w, fp| {
                fp.write(Touch::SlotsRet(cpu));
                if w.slots.slots_ret[cpu].len() >= SWAP_SLOTS_CACHE_SIZE {
                    std::mem::take(&mut w.slots.slots_ret[cpu])
                } else {
                    Vec::new()
                }
            });
            if !batch.is_empty() {
                swapcache_free_entries(k, &batch);
            }
            k.with_footprint(|w, fp| {
                fp.write(Touch::SlotsRet(cpu));
                w.slots.slots_ret[cpu].push(entry)
            });
            k.note(|_| format!("/* {entry} deferred in slots_ret */"));
            k.spin_unlock(LockId::SlotsFreeLock(cpu));
            return;
        }
        k.spin_unlock(LockId::SlotsFreeLock(cpu));
    }
    // direct_free:
    swapcache_free_entries(k, &[entry]);
}

/// mm/swap_slots.c: drain_slots_cache_cpu(), v6.8, return side: flush one CPU's `slots_ret`.
pub fn drain_slots_cache_cpu(k: &Kernel, cpu: usize) {
    let _f = k.enter_helper("drain_slots_cache_cpu");
    k.spin_lock(LockId::SlotsFreeLock(cpu));
    let batch = k.with_footprint(|w, fp| {
        fp.write(Touch::SlotsRet(cpu));
        std::mem::take(&mut w.slots.slots_ret[cpu])
    });
    if !batch.is_empty() {
        swapcache_free_entries(k, &batch);
    }
    k.spin_unlock(LockId::SlotsFreeLock(cpu));
}

/// mm/swap_slots.c: disable_swap_slots_cache_lock(), v6.8: take the enable mutex, turn the
/// caches off and drain every CPU's cache (the set-up's included).
pub fn disable_swap_slots_cache_lock(k: &Kernel) {
    let _f = k.enter_helper("disable_swap_slots_cache_lock");
    k.mutex_lock(LockId::SlotsEnableMutex);
    k.with_footprint(|w, fp| {
        fp.write(Touch::SlotsCache);
        w.slots.enabled = false
    });
    // One batch per CPU, fixed when the world is made.
    let n = k.with_footprint(|w, fp| {
        fp.local();
        w.slots.slots_ret.len()
    });
    for cpu in 0..n {
        drain_slots_cache_cpu(k, cpu);
    }
}

/// mm/swap_slots.c: reenable_swap_slots_cache_unlock(), v6.8: on again if some device can be
/// allocated from (`has_usable_swap()`), drop the mutex.
pub fn reenable_swap_slots_cache_unlock(k: &Kernel) {
    let _f = k.enter_helper("reenable_swap_slots_cache_unlock");
    // Simplified: has_usable_swap() checks swap_active_head under swap_lock; the model reads
    // SWP_WRITEOK in one step without the lock (it may read inside a swap_lock section, and no
    // spinlock holds a grace period off here: more orders than the kernel's, none fewer).
    k.with_footprint(|w, fp| {
        fp.write(Touch::SlotsCache);
        // Every slot of swap_info[] (which exist, and their SWP_WRITEOK).
        for t in 0..MAX_SWAPFILES {
            fp.read(Touch::SiSlot(SwapType(t)));
            fp.read(Touch::SiWriteok(SwapType(t)));
        }
        w.slots.enabled = w.swap_info.iter().any(|s| s.flags & SWP_WRITEOK != 0);
    });
    k.mutex_unlock(LockId::SlotsEnableMutex);
}

/// mm/swap_slots.c: enable_swap_slots_cache(), v6.8 (after swapon). `large`: the device
/// stands for one whose free swap activates the cache (see the module comment), which the model
/// does here, in the same step, for `check_cache_active()` at its first allocations.
pub fn enable_swap_slots_cache(k: &Kernel, large: bool) {
    let _f = k.enter_helper("enable_swap_slots_cache");
    k.mutex_lock(LockId::SlotsEnableMutex);
    k.with(|w| {
        w.slots.enabled = true;
        if large {
            w.slots.active = true;
        }
    });
    k.mutex_unlock(LockId::SlotsEnableMutex);
}

/// mm/swap_slots.c: check_cache_active(), v6.8, in the model's terms (module comment): free swap
/// is above the activation threshold iff a large device (`swapon`, not `swapon-sync`) takes
/// allocations (`SWP_WRITEOK`: `nr_swap_pages` counts only those), and below the deactivation
/// threshold otherwise. Activates the cache (`reactivate_swap_slots_cache()`) at once; returns
/// true when the caller must deactivate and drain it (`deactivate_swap_slots_cache()`).
/// Simplified: the `swap_slots_cache_mutex` of both is not modelled (this runs inside the
/// caller's step; the drain that follows takes the per-CPU locks).
fn check_cache_active(w: &mut crate::model::world::World) -> bool {
    if !w.slots.enabled {
        return false;
    }
    let plenty = w
        .swap_info
        .iter()
        .any(|s| s.flags & SWP_WRITEOK != 0 && s.flags & SWP_SYNCHRONOUS_IO == 0);
    if !w.slots.active {
        w.slots.active = plenty;
        return false;
    }
    !plenty
}

/// mm/swap_slots.c: deactivate_swap_slots_cache(), v6.8: the cache goes inactive and every
/// CPU's cache is drained (`__drain_swap_slots_cache()`).
fn deactivate_swap_slots_cache(k: &Kernel) {
    let _f = k.enter_helper("deactivate_swap_slots_cache");
    k.with(|w| w.slots.active = false);
    let n = k.with(|w| w.slots.slots_ret.len());
    for cpu in 0..n {
        drain_slots_cache_cpu(k, cpu);
    }
}

/// mm/swap_slots.c: folio_alloc_swap(), v6.8: swap slots for a folio (1 or a whole cluster). A
/// small folio first asks `check_cache_active()` (its read of `nr_swap_pages` merged into the
/// first step); the cache's `slots[]` are not modelled, so the allocation is direct either way.
pub fn folio_alloc_swap(k: &Kernel, folio: FolioId) -> Option<SwpEntry> {
    let _f = k.enter("folio_alloc_swap");
    let (nr, deactivate) = k.with(|w| {
        let nr = w.folios[folio].nr;
        (nr, nr == 1 && check_cache_active(w))
    });
    if deactivate {
        deactivate_swap_slots_cache(k);
    }
    super::swapfile::get_swap_pages(k, nr)
}

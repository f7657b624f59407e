//! mm/swap_slots.c (v6.8): the per-CPU swap slots cache, return side only: `free_swap_slot()`
//! defers frees into `slots_ret`; swapoff disables and drains the caches. The allocation side
//! (`slots[]`) is left out: allocation goes straight to `get_swap_pages()`.

use super::context::Kernel;
use super::kernel::lock::LockId;
use super::swapfile::free::swapcache_free_entries;
use super::types::*;

/// mm/swap_slots.c: free_swap_slot(), v6.8: the slot's map byte is `SWAP_HAS_CACHE` (a pin);
/// queue it in this CPU's `slots_ret`, flushing a full batch first, or free it directly when the
/// cache is off.
pub fn free_swap_slot(k: &Kernel, entry: SwpEntry) {
    let _f = k.enter("free_swap_slot");
    let cpu = k.cpu;
    if k.with(|w| w.slots.enabled) {
        k.spin_lock(LockId::SlotsFreeLock(cpu));
        // Swap slots cache may be deactivated before acquiring lock.
        if k.with(|w| w.slots.enabled) {
            let batch = k.with(|w| {
                if w.slots.slots_ret[cpu].len() >= SWAP_SLOTS_CACHE_SIZE {
                    std::mem::take(&mut w.slots.slots_ret[cpu])
                } else {
                    Vec::new()
                }
            });
            if !batch.is_empty() {
                swapcache_free_entries(k, &batch);
            }
            k.with(|w| w.slots.slots_ret[cpu].push(entry));
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
    let batch = k.with(|w| std::mem::take(&mut w.slots.slots_ret[cpu]));
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
    k.with(|w| w.slots.enabled = false);
    let n = k.with(|w| w.slots.slots_ret.len());
    for cpu in 0..n {
        drain_slots_cache_cpu(k, cpu);
    }
}

/// mm/swap_slots.c: reenable_swap_slots_cache_unlock(), v6.8: on again if some device can be
/// allocated from (`has_usable_swap()`), drop the mutex.
pub fn reenable_swap_slots_cache_unlock(k: &Kernel) {
    let _f = k.enter_helper("reenable_swap_slots_cache_unlock");
    k.with(|w| {
        w.slots.enabled = w.swap_info.iter().any(|s| s.flags & SWP_WRITEOK != 0);
    });
    k.mutex_unlock(LockId::SlotsEnableMutex);
}

/// mm/swap_slots.c: enable_swap_slots_cache(), v6.8 (after swapon).
pub fn enable_swap_slots_cache(k: &Kernel) {
    let _f = k.enter_helper("enable_swap_slots_cache");
    k.mutex_lock(LockId::SlotsEnableMutex);
    k.with(|w| w.slots.enabled = true);
    k.mutex_unlock(LockId::SlotsEnableMutex);
}

/// mm/swap_slots.c: folio_alloc_swap(), v6.8: swap slots for a folio (1 or a whole cluster).
pub fn folio_alloc_swap(k: &Kernel, folio: FolioId) -> Option<SwpEntry> {
    let _f = k.enter("folio_alloc_swap");
    let nr = k.with(|w| w.folios[folio].nr);
    super::swapfile::get_swap_pages(k, nr)
}

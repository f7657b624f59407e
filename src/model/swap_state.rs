//! mm/swap_state.c (v6.8): the swap cache, one address space per device (`swapper_spaces[type]`,
//! a KASAN-tracked array freed by `exit_swap_address_space()`).

use super::context::{Kernel, Touch, access};
use super::kernel::lock::LockId;
use super::swapfile::dup::{DupError, swapcache_prepare};
use super::swapfile::free::{get_swap_device, put_swap_device, swap_swapcount};
use super::types::*;
use super::world::World;

/// `swapper_spaces[type][offset]` through the array pointer `space`.
fn space_do<R: Default>(
    w: &mut World,
    cpu: usize,
    space: Option<usize>,
    offset: u32,
    write: bool,
    f: impl FnOnce(&mut Option<FolioId>) -> R,
) -> R {
    match access(
        w,
        cpu,
        space,
        offset as usize,
        write,
        "swap_address_space(entry)->i_pages",
    ) {
        Some(p) => match w.heap.data_mut(p) {
            Object::SwapSpace(s) => f(&mut s[offset as usize]),
            _ => unreachable!("swapper_spaces pointer to another object"),
        },
        None => R::default(),
    }
}

/// mm/filemap.c: filemap_get_folio(swap_address_space(entry), offset), v6.8: the lockless
/// (RCU) lookup of the swap cache; reads `swapper_spaces[type]`, then the xarray.
pub fn filemap_get_folio(k: &Kernel, entry: SwpEntry) -> Option<FolioId> {
    let _f = k.enter("filemap_get_folio");
    let cpu = k.cpu;
    let space = k.with_footprint(|w, fp| {
        fp.read(Touch::SwapperSpace(entry.type_));
        w.swapper_spaces[entry.type_]
    });
    k.rcu_read_lock();
    let folio = k.with_footprint(|w, fp| {
        fp.elem(cpu, space, entry.offset as usize, false);
        space_do(w, cpu, space, entry.offset, false, |s| *s)
    });
    k.rcu_read_unlock();
    folio
}

/// mm/filemap.c: filemap_get_entry(), v6.8, on a tmpfs file's mapping: the xarray entry at
/// `index` (a folio, a shmem swap value entry, or nothing), loaded under `rcu_read_lock()`; the
/// RCU section ends before the function returns. Simplified: `xas_retry()`, `folio_try_get_rcu()`
/// and the `xas_reload()` recheck are one load, as folios are never freed in the model.
pub fn filemap_get_entry(k: &Kernel, mapping: InodeId, index: usize) -> ShmemSlot {
    let _f = k.enter("filemap_get_entry");
    k.rcu_read_lock();
    let folio = k.with_footprint(|w, fp| {
        fp.read(Touch::ShmemSlot(mapping, index));
        w.inodes[mapping].i_pages[index]
    });
    k.rcu_read_unlock();
    folio
}

/// mm/swap_state.c: filemap_get_incore_folio(), v6.8: the folio at `index` of a tmpfs file, from
/// the page cache, or for a swapped-out page from the swap cache under `get_swap_device()`
/// (added by aeb309b81c6b, "mm/mincore.c: fix race between swapoff and mincore"; its revert is
/// `patches/revert_aeb309b81c6b.rs`). `None` stands for `ERR_PTR(-ENOENT)`. Simplified: the
/// `shmem_mapping()` and `non_swap_entry()` checks always pass, as every mapping of the model is
/// a tmpfs file and it has no swapin error entries.
pub fn filemap_get_incore_folio(k: &Kernel, mapping: InodeId, index: usize) -> Option<FolioId> {
    if let Some(patched) = k.patched().filemap_get_incore_folio {
        return patched(k, mapping, index);
    }
    let _f = k.enter("filemap_get_incore_folio");
    let swp = match filemap_get_entry(k, mapping, index) {
        ShmemSlot::None => return None,
        ShmemSlot::Folio(folio) => return Some(folio), // !xa_is_value(folio)
        ShmemSlot::Swap(swp) => swp,                   // radix_to_swp_entry(folio)
    };
    // Prevent swapoff from happening to us
    let si = get_swap_device(k, swp)?;
    let folio = filemap_get_folio(k, swp); // swap_address_space(swp), swp_offset(swp)
    put_swap_device(k, si);
    folio
}

/// mm/swap_state.c: swap_cache_get_folio(), v6.8: the same lookup (readahead statistics left out).
pub fn swap_cache_get_folio(k: &Kernel, entry: SwpEntry) -> Option<FolioId> {
    let _f = k.enter_helper("swap_cache_get_folio");
    filemap_get_folio(k, entry)
}

/// mm/swap_state.c: add_to_swap_cache(), v6.8: store the folio at its slots under the xa_lock,
/// set `PG_swapcache` and `folio->swap`. The caller pinned the slots with `SWAP_HAS_CACHE`.
pub fn add_to_swap_cache(k: &Kernel, folio: FolioId, entry: SwpEntry) {
    let _f = k.enter("add_to_swap_cache");
    let cpu = k.cpu;
    let space = k.with_footprint(|w, fp| {
        fp.read(Touch::SwapperSpace(entry.type_));
        w.swapper_spaces[entry.type_]
    });
    let nr = k.with_footprint(|w, fp| {
        fp.read(Touch::Folio(folio));
        w.folios[folio].nr
    });
    k.spin_lock(LockId::SwapCacheXa(entry.type_));
    k.with_footprint(|w, fp| {
        fp.write(Touch::Folio(folio));
        for i in 0..nr {
            fp.elem(cpu, space, (entry.offset + i) as usize, true);
            space_do(w, cpu, space, entry.offset + i, true, |s| *s = Some(folio));
        }
        let f = &mut w.folios[folio];
        f.swapcache = true;
        f.swap = entry;
    });
    k.spin_unlock(LockId::SwapCacheXa(entry.type_));
}

/// mm/swap_state.c: __delete_from_swap_cache(), v6.8 (xa_lock held): clear the folio's slots,
/// `folio->swap`, `PG_swapcache`.
pub fn __delete_from_swap_cache(k: &Kernel, folio: FolioId, entry: SwpEntry) {
    let _f = k.enter("__delete_from_swap_cache");
    let cpu = k.cpu;
    let space = k.with_footprint(|w, fp| {
        fp.read(Touch::SwapperSpace(entry.type_));
        w.swapper_spaces[entry.type_]
    });
    k.with_footprint(|w, fp| {
        fp.write(Touch::Folio(folio));
        let nr = w.folios[folio].nr;
        for i in 0..nr {
            fp.elem(cpu, space, (entry.offset + i) as usize, true);
            space_do(w, cpu, space, entry.offset + i, true, |s| *s = None);
        }
        let f = &mut w.folios[folio];
        f.swapcache = false;
        f.swap = SwpEntry::default();
    });
}

/// mm/swap_state.c: delete_from_swap_cache(), v6.8: remove the folio from the swap cache, then
/// drop the slots' `SWAP_HAS_CACHE` with `put_swap_folio()`.
pub fn delete_from_swap_cache(k: &Kernel, folio: FolioId) {
    let _f = k.enter("delete_from_swap_cache");
    let (entry, nr) = k.with_footprint(|w, fp| {
        fp.read(Touch::Folio(folio));
        (w.folios[folio].swap, w.folios[folio].nr)
    });
    k.spin_lock(LockId::SwapCacheXa(entry.type_));
    __delete_from_swap_cache(k, folio, entry);
    k.spin_unlock(LockId::SwapCacheXa(entry.type_));
    super::swapfile::free::put_swap_folio(k, nr, entry);
}

/// mm/swap_state.c: clear_shadow_from_swap_cache(), v6.8: clears workingset shadows of freed
/// slots under the xa_lock; it touches `swapper_spaces[type]` (shadows themselves are not
/// modelled).
pub fn clear_shadow_from_swap_cache(k: &Kernel, type_: SwapType, begin: u32, end: u32) {
    let _f = k.enter_helper("clear_shadow_from_swap_cache");
    let cpu = k.cpu;
    let space = k.with_footprint(|w, fp| {
        fp.read(Touch::SwapperSpace(type_));
        w.swapper_spaces[type_]
    });
    k.spin_lock(LockId::SwapCacheXa(type_));
    k.with_footprint(|w, fp| {
        for o in begin..=end {
            fp.elem(cpu, space, o as usize, false);
            space_do(w, cpu, space, o, false, |_| ());
        }
    });
    k.spin_unlock(LockId::SwapCacheXa(type_));
}

/// mm/swap_state.c: exit_swap_address_space(), v6.8: `kvfree(spaces); swapper_spaces[type] =
/// NULL` (no RCU inside: swapoff's `synchronize_rcu()` protects lookups).
pub fn exit_swap_address_space(k: &Kernel, type_: SwapType) {
    let _f = k.enter("exit_swap_address_space");
    let cpu = k.cpu;
    k.with_footprint(|w, fp| {
        fp.write(Touch::SwapperSpace(type_));
        if let Some(p) = w.swapper_spaces[type_] {
            fp.write(Touch::Alloc(p));
        }
        if let Some(p) = w.swapper_spaces[type_].take() {
            let by = w.origin(cpu);
            let _ = w.heap.free(p, by);
        }
    });
}

/// mm/swap_state.c: swap_cluster_readahead(), v6.8, with `vm.page-cluster=0` (a common setting
/// on zram systems, and the smallest window): `swapin_nr_pages()` is 1, so `mask` is 0 and the
/// function goes straight to `skip:`, reading the target page only; the neighbours' loop, its
/// `si->max` clamp and the plugging are not modelled. `si = swp_swap_info(entry)` takes no
/// reference (and needs no step: `swap_info[type]` is never freed). At `skip:` v6.8 calls
/// `__read_swap_cache_async()` and, if it allocated, `swap_read_folio()`: the model's
/// [`read_swap_cache_async`] is that pair.
pub fn swap_cluster_readahead(k: &Kernel, entry: SwpEntry) -> Option<FolioId> {
    let _f = k.enter("swap_cluster_readahead");
    read_swap_cache_async(k, entry)
}

/// How many times `__read_swap_cache_async()` retries a racing `-EEXIST` (its
/// `schedule_timeout_uninterruptible(1)` loop) before giving up as if the allocation failed.
pub const READ_RETRIES: u32 = 3;

/// mm/swap_state.c: __read_swap_cache_async(), v6.8: under `get_swap_device()` (held from the
/// top to `got_folio:` / `fail_put_swap:`, since 46a774d3eae5 in v6.5; eb085574a752 first put it
/// around the lookup), return the swap-cache folio, or pin the slot with `swapcache_prepare()`
/// and add a new folio to the swap cache (`*new_page_allocated`; the caller reads it). Its
/// revert is `patches/revert_eb085574a752.rs`.
/// Simplified:
/// - `alloc_pages_mpol()` comes after `swapcache_prepare()` succeeds (a new folio is invisible to
///   other CPUs and allocation never fails or sleeps in the model; the loser's `folio_put()` goes).
/// - `schedule_timeout_uninterruptible(1)` on `-EEXIST` is a retry, at most [`READ_RETRIES`], then
///   the `fail_put_swap:` exit; the sleep is no RCU quiescent state (see docs/model.md).
/// - `__folio_set_locked()` and the caller's unlock at the end of the read are left out: the read
///   completes at once, touches no device memory, and the folio is in the swap cache only from
///   `add_to_swap_cache()`'s step on.
/// - `mem_cgroup_swapin_charge_folio()`, shadows (`workingset_refault()`) and `folio_add_lru()`
///   are not modelled (no memcg, no workingset).
pub fn __read_swap_cache_async(
    k: &Kernel,
    entry: SwpEntry,
    new_page_allocated: &mut bool,
    skip_if_exists: bool,
) -> Option<FolioId> {
    if let Some(patched) = k.patched().__read_swap_cache_async {
        return patched(k, entry, new_page_allocated, skip_if_exists);
    }
    let _f = k.enter("__read_swap_cache_async");
    *new_page_allocated = false;
    let si = get_swap_device(k, entry)?;
    let mut retries = 0;
    loop {
        // First check the swap cache.
        if let Some(folio) = filemap_get_folio(k, entry) {
            put_swap_device(k, si); // got_folio:
            return Some(folio);
        }
        // Just skip read ahead for unused swap slot.
        if swap_swapcount(k, si, entry) == 0 && swap_slot_cache_enabled(k) {
            break; // goto fail_put_swap
        }
        // Get a new folio to read into from swap: alloc_pages_mpol() (the model's folio comes
        // after the pin below), which may sleep.
        k.may_sleep_in_alloc();
        // Swap entry may have been freed since our caller observed it.
        match swapcache_prepare(k, entry) {
            Ok(()) => {
                // The swap entry is ours to swap in. Prepare the new folio.
                let folio = k.with_footprint(|w, fp| {
                    // Reads `slot_data`, which only undeclared steps write.
                    fp.read(Touch::SiSlot(entry.type_));
                    fp.write(Touch::Folios);
                    fp.write(Touch::Folio(w.folios.next_id()));
                    new_swapin_folio(w, entry)
                });
                add_to_swap_cache(k, folio, entry);
                *new_page_allocated = true;
                put_swap_device(k, si); // got_folio:
                return Some(folio);
            }
            Err(DupError::Enoent) => break, // err != -EEXIST: goto fail_put_swap
            Err(DupError::Eexist) => {
                if skip_if_exists || retries == READ_RETRIES {
                    break; // goto fail_put_swap
                }
                retries += 1; // schedule_timeout_uninterruptible(1)
            }
        }
    }
    put_swap_device(k, si); // fail_put_swap:
    None
}

/// The new folio of `__read_swap_cache_async()` for `entry`, pinned by `swapcache_prepare()`,
/// already holding the slot's contents: its caller's `swap_read_folio()`, made here. In the
/// kernel the folio is locked (`__folio_set_locked()`) from before `add_to_swap_cache()` until
/// the read completes, and whoever finds it in the swap cache waits in `folio_lock()` for the
/// contents; the model leaves that lock out, so the read must be done before the folio is
/// visible. The slot cannot change meanwhile: it is pinned (`SWAP_HAS_CACHE`), and a pinned slot
/// is written by nobody (`pageout()` writes only a folio's own slots, allocated while free; zram
/// discards only a freed slot).
pub fn new_swapin_folio(w: &mut World, entry: SwpEntry) -> FolioId {
    let data = w.swap_info[entry.type_]
        .slot_data
        .get(entry.offset as usize)
        .copied()
        .unwrap_or(ZEROED);
    let folio = w.folios.push(Folio {
        nr: 1,
        ..Default::default()
    });
    w.folios[folio].data[0] = data;
    folio
}

/// mm/swap_slots.c: `swap_slot_cache_enabled`, v6.8: read unlocked (a plain global; false while
/// swapoff has the slots cache disabled).
pub fn swap_slot_cache_enabled(k: &Kernel) -> bool {
    k.with(|w| w.slots.enabled)
}

/// mm/swap_state.c: read_swap_cache_async(), v6.8: `__read_swap_cache_async(…, false)`, then
/// `swap_read_folio()` into the new folio if it allocated one. No reference of its own: "the
/// swap entry is pinned by the new folio's SWAP_HAS_CACHE" (and `__read_swap_cache_async()`
/// took its own around the lookup and the add). Simplified: the read completes at once and is a
/// note (`swap_read_folio()`, mm/page_io.c, touches no modelled device memory).
pub fn read_swap_cache_async(k: &Kernel, entry: SwpEntry) -> Option<FolioId> {
    let _f = k.enter("read_swap_cache_async");
    let mut page_allocated = false;
    let folio = __read_swap_cache_async(k, entry, &mut page_allocated, false);
    if let Some(folio) = folio
        && page_allocated
    {
        // swap_read_folio(): the read was made when the folio was allocated (new_swapin_folio()).
        k.note(|w| {
            format!(
                "/* folio{folio} read from {entry}: {:#x} */",
                w.folios[folio].data[0]
            )
        });
    }
    folio
}

/// mm/swap_state.c: get_shadow_from_swap_cache(), v6.8: `xa_load()` (an RCU section of its own)
/// of `swap_address_space(entry)` at the entry's offset, for a workingset shadow. Shadows are not
/// modelled: what matters is that it reads `swapper_spaces[type]` and walks it.
pub fn get_shadow_from_swap_cache(k: &Kernel, entry: SwpEntry) {
    let _f = k.enter_helper("get_shadow_from_swap_cache");
    let cpu = k.cpu;
    let space = k.with_footprint(|w, fp| {
        fp.read(Touch::SwapperSpace(entry.type_));
        w.swapper_spaces[entry.type_]
    });
    k.rcu_read_lock();
    k.with_footprint(|w, fp| {
        fp.elem(cpu, space, entry.offset as usize, false);
        space_do(w, cpu, space, entry.offset, false, |_| ())
    });
    k.rcu_read_unlock();
}

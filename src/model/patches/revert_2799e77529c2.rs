//! Revert of 2799e77529c2 ("swap: fix do_swap_page() race with swapoff", Miaohe Lin,
//! v5.14-rc1): `do_swap_page()` without its `get_swap_device()`/`put_swap_device()` (race 3 of
//! the swapoff race catalogue, docs/catalogue.md#race-3-2799e77529c2).
//!
//! The commit message's race, on a `SWP_SYNCHRONOUS_IO` device (zram), whose swap-ins of a page
//! with one reference skip the swap cache:
//!
//! ```text
//! CPU0                                          CPU1
//! do_swap_page
//!   if (data_race(si->flags & SWP_SYNCHRONOUS_IO)
//!   swap_readpage
//!     if (data_race(sis->flags & SWP_FS_OPS)) {
//!                                               swapoff
//!                                                 ..
//!                                                 p->swap_file = NULL;
//!                                                 ..
//!     struct file *swap_file = sis->swap_file;
//!     struct address_space *mapping = swap_file->f_mapping;   /* oops */
//! ```
//!
//! The fix (as the catalogue quotes it) took the reference for the whole fault and dropped the
//! local `si` of the skip-swapcache branch:
//!
//! ```text
//! +	struct swap_info_struct *si = NULL;
//!  ...
//! +	/* Prevent swapoff from happening to us. */
//! +	si = get_swap_device(entry);
//! +	if (unlikely(!si))
//! +		goto out;
//! +
//!  	page = lookup_swap_cache(entry, vma, vmf->address);
//!  	swapcache = page;
//!
//!  	if (!page) {
//! -		struct swap_info_struct *si = swp_swap_info(entry);
//! -
//!  		if (data_race(si->flags & SWP_SYNCHRONOUS_IO) &&
//!  		    __swap_count(entry) == 1) {
//!  ...
//!  out:
//! +	if (si)
//! +		put_swap_device(si);
//!  	return ret;
//!  ...
//! +	if (si)
//! +		put_swap_device(si);
//!  	return ret;
//! ```
//!
//! This file is v6.8's `do_swap_page()` with that taken out again: no reference,
//! `si = swp_swap_info(entry)` in the `!folio` branch, and the swap-cache lookup bracketed by a
//! get/put of its own, as 5.13's `lookup_swap_cache()` had (v6.8's `swap_cache_get_folio()` has
//! none: "swap: avoid holding swap reference in swap_cache_get_folio" moved it out, relying on
//! this fix's outer reference; without the bracket the revert would reopen race 4's window, in
//! `filemap_get_folio()`, instead of this one).
//!
//! **What differs from the historical code.** In 5.13 the skip-swapcache branch took no pin:
//! after `__swap_count(entry) == 1` it allocated, charged (`lookup_swap_cgroup_id()`, the field
//! crash on 5.10 kernels) and read the page (`swap_readpage()`, the diagram's `si->swap_file`)
//! holding nothing, and `__swap_count()` had a get/put of its own (eb085574a752). v6.8 has
//! race 5's pin (13ddaf26be32: `swapcache_prepare()` before the allocation, `swapcache_clear()`
//! at `out:`) and a `__swap_count()` without get/put (v6.5's get/put clean-up). So on v6.8 with
//! only this fix reverted the read is protected by the pin, and the window is before it: the
//! unlocked `si->swap_map[offset]` of `__swap_count()` and `swapcache_prepare()`'s
//! `__swap_duplicate()`. The model has no swap cgroup map, zswap tree, block device or swap file
//! either; the 5.13 window (the accesses after the count check) needs race 5's revert as well.
//!
//! **Argued verdict: does not close the race** (the revert reopens it) on a preemptible kernel:
//! a NULL dereference (or use-after-free) of `si->swap_map` in `__swap_count()` or
//! `__swap_duplicate()`. A page of a zram-like device is swapped out and dropped from the swap
//! cache (count 1). CPU0 faults on its PTE: v6.8 takes no PTL before the read
//! (`pte_unmap_same()` locks only where a PTE is wider than a long), the bracketed lookup misses
//! and puts its reference, and CPU0 reads `si->flags` (`swap_info[]` is never freed):
//! `SWP_SYNCHRONOUS_IO`. From here to the pin CPU0 holds nothing: no reference, no lock, no
//! RCU. CPU1's swapoff runs whole in that window: `unuse_pte_range()` reads the page in through
//! the swap cache and maps it, `folio_free_swap()` frees the slot, `inuse_pages` is 0,
//! `percpu_ref_kill()` and `wait_for_completion()` have no reference to wait for,
//! `synchronize_rcu()` no reader, and step 12 sets `si->swap_map = NULL` before the `vfree()`;
//! `si->flags = 0` comes only at step 15, so CPU0 may have read the flag at any point before it.
//! CPU0's `__swap_count()` then reads `si->swap_map[offset]`: NULL, or the freed map if it
//! loaded the pointer before the detach; had it passed `__swap_count()` earlier,
//! `swapcache_prepare()` → `__swap_duplicate()` reads `si->cluster_info` and `p->swap_map` the
//! same way. If a `swapon()` reuses `swap_info[type]` after the swapoff, CPU0 reads the new
//! device's map at a stale offset instead (invariant S3: `si` is of the earlier swapon), and may
//! pin and read a slot that is not its own. Nothing after the pin is exposed: `swapcache_prepare()` succeeds only on a slot in
//! use, and while it holds `SWAP_HAS_CACHE` `inuse_pages` stays above 0, so swapoff cannot
//! pass `try_to_unuse()` (its own `__read_swap_cache_async()` meets `-EEXIST`) until
//! `swapcache_clear()`; the swap-cache path is covered by `read_swap_cache_async()`'s own
//! reference, the folio lock and the slot's counts, as in v6.8. With the fix, swapoff's
//! `wait_for_completion()` waits for CPU0's put, or `get_swap_device()` fails and the fault
//! returns. On a non-preemptible kernel (`--preempt off`) CPU0 does not sleep between the PTE
//! read and the pin, so it is one RCU reader there and `synchronize_rcu()` waits for it: clean.

use super::{Argued, Kind, Patch, Seams};
use crate::model::context::Kernel;
use crate::model::kernel::lock::LockId;
use crate::model::memory::{pte_same, set_pte_at, vma_alloc_folio};
use crate::model::page_io::swap_read_folio;
use crate::model::swap_state::{
    get_shadow_from_swap_cache, read_swap_cache_async, swap_cache_get_folio,
};
use crate::model::swapfile::dup::{swapcache_clear, swapcache_prepare};
use crate::model::swapfile::free::{
    __swap_count, folio_free_swap, get_swap_device, put_swap_device, swap_free, swp_swap_info,
};
use crate::model::types::*;

/// The patch.
pub const PATCH: Patch = Patch {
    name: "revert-2799e77529c2",
    kind: Kind::Revert(Argued::DoesNotClose {
        bug_in: &["__swap_count", "__swap_duplicate"],
    }),
    subject: "Revert \"swap: fix do_swap_page() race with swapoff\"",
    fixes: Some("0bcac06f27d7 (\"mm,swap: skip swapcache for swapin of synchronous device\")"),
    apply: |s: &mut Seams| s.do_swap_page = Some(do_swap_page),
};

/// 5.13's `lookup_swap_cache()`, as far as swapoff goes: the swap-cache lookup under a device
/// reference of its own, dropped before it returns (a device already gone: no folio).
fn lookup_swap_cache(k: &Kernel, entry: SwpEntry) -> Option<FolioId> {
    let si = get_swap_device(k, entry)?;
    let folio = swap_cache_get_folio(k, entry);
    put_swap_device(k, si);
    folio
}

/// mm/memory.c: do_swap_page(), v6.8 with 2799e77529c2 reverted: no `get_swap_device()` for the
/// fault, `si = swp_swap_info(entry)` in the `!folio` branch, no `put_swap_device()` at `out:`.
/// Simplified as v6.8's in `src/model/memory.rs`.
pub fn do_swap_page(k: &Kernel, mm: MmId, idx: usize, write: bool) {
    let _f = k.enter("do_swap_page");
    let Pte::Swap(entry) = k.with(|w| w.mms[mm].ptes[idx]) else {
        return;
    };
    let mut need_clear_cache = false;
    let mut folio = lookup_swap_cache(k, entry);
    let mut swapcache = folio;
    if folio.is_none() {
        let si = swp_swap_info(k, entry);
        if k.with(|w| w.swap_info[si].flags & SWP_SYNCHRONOUS_IO != 0) // data_race()
            && __swap_count(k, entry) == 1
        {
            // Prevent parallel swapin from proceeding with the cache flag.
            if swapcache_prepare(k, entry).is_err() {
                return; // out:
            }
            need_clear_cache = true;
            // skip swapcache
            let new = vma_alloc_folio(k);
            get_shadow_from_swap_cache(k, entry);
            // To provide entry to swap_read_folio()
            k.with_no_point(|w| w.folios[new].swap = entry);
            swap_read_folio(k, new, true);
            k.with_no_point(|w| w.folios[new].swap = SwpEntry::default()); // folio->private = NULL
            folio = Some(new);
        } else {
            folio = read_swap_cache_async(k, entry); // swapin_readahead()
            swapcache = folio;
        }
    }
    if let Some(folio) = folio {
        k.folio_lock(folio);
        // if (swapcache): folio_free_swap() or swapoff may have released the swap cache.
        let ok = swapcache.is_none()
            || k.with(|w| {
                let f = &w.folios[folio];
                f.swapcache
                    && entry.offset >= f.swap.offset
                    && entry.offset < f.swap.offset + f.nr
                    && f.swap.type_ == entry.type_
            });
        if ok {
            k.spin_lock(LockId::Ptl(mm));
            if pte_same(k, mm, idx, entry) {
                set_pte_at(k, mm, idx, folio);
                swap_free(k, entry);
                // should_try_to_free_swap(): swap-cache folios only.
                if write && swapcache.is_some() {
                    folio_free_swap(k, folio);
                }
            }
            k.spin_unlock(LockId::Ptl(mm));
        }
        k.folio_unlock(folio);
    }
    // out: Clear the swap cache pin for direct swapin after PTL unlock
    if need_clear_cache {
        swapcache_clear(k, entry.type_, entry);
    }
}

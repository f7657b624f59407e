//! Revert of 13ddaf26be32 ("mm/swap: fix race when skipping swapcache", Kairui Song,
//! v6.8-rc7): `do_swap_page()`'s direct swap-in without the `swapcache_prepare()` pin (race 5
//! of the swapoff race catalogue, docs/catalogue.md#race-5-13ddaf26be32).
//!
//! `Fixes: 0bcac06f27d7 ("mm, swap: skip swapcache for swapin of synchronous device")`. The
//! commit message's diagram:
//!
//! ```text
//! CPU0                                  CPU1
//! ----                                  ----
//! do_swap_page()                        do_swap_page() with same entry
//! <direct swapin path>                  <direct swapin path>
//! <alloc page A>                        <alloc page B>
//! swap_read_folio() <- read to page A   swap_read_folio() <- read to page B
//! <slow on later locks or interrupt>    <finished swapin first>
//! ...                                   set_pte_at()
//!                                       swap_free() <- entry is free
//!                                       <write to page B, now page A stalled>
//!                                       <swap out page B to same swap entry>
//! pte_same() <- check passes: PTE seems
//!               unchanged, but page A is stale
//! swap_free() <- page B content lost
//! set_pte_at() <- stale page A installed
//! ```
//!
//! The diff this patch takes out of v6.8's mm/memory.c (the `swapcache_clear()` it added to
//! mm/swapfile.c stays, unused):
//!
//! ```text
//!  		if (data_race(si->flags & SWP_SYNCHRONOUS_IO) &&
//!  		    __swap_count(entry) == 1) {
//! +			/*
//! +			 * Prevent parallel swapin from proceeding with
//! +			 * the cache flag. Otherwise, another thread may
//! +			 * finish swapin first, free the entry, and swapout
//! +			 * reusing the same entry. It's undetectable as
//! +			 * pte_same() returns true due to entry reuse.
//! +			 */
//! +			if (swapcache_prepare(entry)) {
//! +				/* Relax a bit to prevent rapid repeated page faults */
//! +				schedule_timeout_uninterruptible(1);
//! +				goto out;
//! +			}
//! +			need_clear_cache = true;
//! +
//!  			/* skip swapcache */
//!  ...
//!  out:
//! +	/* Clear the swap cache pin for direct swapin after PTL unlock */
//! +	if (need_clear_cache)
//! +		swapcache_clear(si, entry);
//!  	if (si)
//!  		put_swap_device(si);
//!  ...
//!  out_release:
//! +	if (need_clear_cache)
//! +		swapcache_clear(si, entry);
//!  	if (si)
//!  		put_swap_device(si);
//! ```
//!
//! **Argued verdict: does not close the race** (the revert reopens it): data corruption, a
//! stale page installed by `do_swap_page()` (invariant D1), on any kernel configuration.
//! The page of a small zram-like device (`SWP_SYNCHRONOUS_IO`) is swapped out and dropped
//! from the swap cache: its slot S has count 1 and no folio. CPU0 and CPU1 fault on it (two
//! threads of one process): both miss the swap cache and see `__swap_count() == 1`. CPU0
//! allocates page A and reads S into it (`swap_read_folio()`), then is slow before the PTL.
//! CPU1 allocates B, reads S, takes the PTL, `pte_same()` passes, maps B, and `swap_free()`
//! drops S's last count: nothing pins S (no `SWAP_HAS_CACHE`), and with the slots cache
//! inactive (free swap below `nr_cpus * 5 * SWAP_BATCH` pages, the case of a small device)
//! `free_swap_slot()` frees it at once. CPU1's thread stores to B, and reclaim swaps B out:
//! the first-fit allocator hands out S again, the PTE becomes the same swap entry, and B's new
//! contents are written to S. CPU0 takes the PTL: the PTE holds the entry it read before, so
//! `pte_same()` passes (the ABA), `swap_free()` drops the count that belonged to B's swap-out,
//! and `set_pte_at()` maps A: the old contents. The store is lost; a later load sees the old
//! value. No lock, reference or RCU section is involved, so neither `--preempt` nor
//! `--rcu-spinlocks` changes it. (The message's ZRAM variant: CPU0 reads S only after CPU1's
//! `swap_free()`, which discards the zram slot; A then holds zeroes, found the same way.) With
//! the fix, CPU0's `swapcache_prepare()` sets `SWAP_HAS_CACHE` on S before the read: CPU1's
//! `swapcache_prepare()` fails with `-EEXIST` and its fault returns without mapping anything
//! (the thread faults again later), and S cannot be freed, so not reused, until CPU0's
//! `swapcache_clear()` after its PTL section.
//!
//! **Does not combine with `revert-2799e77529c2`**, which replaces the same function: the two
//! reverts are hunks of one `do_swap_page()`, and `--patch` of both is a usage error. Their
//! union, 5.13's shape (no device reference and no pin: the whole direct read exposed to
//! swapoff, `get_shadow_from_swap_cache()`'s `swapper_spaces[type]` among the accesses), would be
//! a third patch file with both hunks taken out; it is not written yet.

use super::{Argued, Kind, Patch, Seams};
use crate::model::context::Kernel;
use crate::model::kernel::lock::LockId;
use crate::model::memory::{pte_same, set_pte_at, vma_alloc_folio};
use crate::model::page_io::swap_read_folio;
use crate::model::swap_state::{
    get_shadow_from_swap_cache, read_swap_cache_async, swap_cache_get_folio,
};
use crate::model::swapfile::free::{
    __swap_count, folio_free_swap, get_swap_device, put_swap_device, swap_free,
};
use crate::model::types::*;

/// The patch.
pub const PATCH: Patch = Patch {
    name: "revert-13ddaf26be32",
    kind: Kind::Revert(Argued::DoesNotClose {
        bug_in: &["do_swap_page"],
    }),
    subject: "Revert \"mm/swap: fix race when skipping swapcache\"",
    fixes: Some("0bcac06f27d7 (\"mm, swap: skip swapcache for swapin of synchronous device\")"),
    apply: |s: &mut Seams| s.do_swap_page = Some(do_swap_page),
};

/// mm/memory.c: do_swap_page(), v6.8 with 13ddaf26be32 reverted: the direct swap-in reads the
/// slot into a fresh folio without pinning it, and nothing is cleared at `out:`. Simplified as
/// v6.8's in `src/model/memory.rs`.
pub fn do_swap_page(k: &Kernel, mm: MmId, idx: usize, write: bool) {
    let _f = k.enter("do_swap_page");
    let Pte::Swap(entry) = k.with(|w| w.mms[mm].ptes[idx]) else {
        return;
    };
    // Prevent swapoff from happening to us.
    let Some(si) = get_swap_device(k, entry) else {
        return;
    };
    let mut folio = swap_cache_get_folio(k, entry);
    let mut swapcache = folio;
    if folio.is_none() {
        if k.with(|w| w.swap_info[si].flags & SWP_SYNCHRONOUS_IO != 0) // data_race()
            && __swap_count(k, entry) == 1
        {
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
    // out:
    put_swap_device(k, si);
}

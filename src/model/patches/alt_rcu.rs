//! Example, a *correct alternative* to 82b1c07a0af6: no device reference; the whole of
//! `free_swap_and_cache()`, from before `_swap_info_get()` to the end, is an RCU read-side
//! critical section.
//!
//! **Argued verdict: closes the race.** Swapoff frees `si->swap_map`, `si->cluster_info` and the
//! swap cache (`exit_swap_address_space()`) only after `synchronize_rcu()`, and reaches
//! `synchronize_rcu()` only after `try_to_unuse()` saw `si->inuse_pages == 0`. The caller's
//! swap entry holds a count on its slot (the PTE's, or the shmem mapping's, which
//! `shmem_free_swap()` took out of the mapping and now owns) until `__swap_entry_free()` drops
//! it, so `inuse_pages` stays above 0 until CPU0 is already inside `rcu_read_lock()`: every
//! grace period swapoff can wait for begins after CPU0's reader did, so it waits for the whole
//! function. Nothing in the section sleeps: `free_swap_and_cache()` already runs under the PTL
//! from zap, so it is atomic by contract (`__try_to_reclaim_swap()` uses `folio_trylock()`). The
//! price, against 82b1c07a0af6: the `WARN_ON` on a free slot is lost (`_swap_info_get()` still
//! refuses one with a `pr_err`), and the section is longer than a reference would be.
//!
//! ```text
//! +	rcu_read_lock();
//!  	p = _swap_info_get(entry);
//!  	if (p) {
//!  		count = __swap_entry_free(p, entry);
//!  		if (count == SWAP_HAS_CACHE &&
//!  		    !swap_page_trans_huge_swapped(p, entry))
//!  			__try_to_reclaim_swap(p, swp_offset(entry),
//!  					      TTRS_UNMAPPED | TTRS_FULL);
//!  	}
//! +	rcu_read_unlock();
//!  	return p != NULL;
//! ```

use super::{Argued, Kind, Patch, Seams};
use crate::model::context::Kernel;
use crate::model::swapfile::free::*;
use crate::model::types::*;

/// The patch.
pub const PATCH: Patch = Patch {
    name: "alt-rcu",
    kind: Kind::Example(Argued::Closes),
    subject: "free_swap_and_cache(): one RCU read-side section over the whole function",
    fixes: Some("7c00bafee87c (\"mm/swap: free swap slots in batch\")"),
    apply: |s: &mut Seams| s.free_swap_and_cache = Some(free_swap_and_cache),
};

/// mm/swapfile.c: free_swap_and_cache(), v6.8 + this example.
pub fn free_swap_and_cache(k: &Kernel, entry: SwpEntry) -> bool {
    let _f = k.enter("free_swap_and_cache");
    k.rcu_read_lock();
    let p = _swap_info_get(k, entry);
    if let Some(p) = p {
        let count = __swap_entry_free(k, p, entry);
        if count == SWAP_HAS_CACHE && !swap_page_trans_huge_swapped(k, p, entry) {
            __try_to_reclaim_swap(k, p, entry.offset, TTRS_UNMAPPED | TTRS_FULL);
        }
    }
    k.rcu_read_unlock();
    p.is_some()
}

//! Example, a *wrong* fix: 82b1c07a0af6's device reference, dropped as soon as
//! `swap_page_trans_huge_swapped()` is done, before `__try_to_reclaim_swap()`.
//!
//! The idea a reviewer might accept: the reference is there to keep `si->swap_map` alive, and
//! the last reader of the map is `swap_page_trans_huge_swapped()`; `__try_to_reclaim_swap()`
//! works on a swap-cache folio, which it looks up and locks itself.
//!
//! **Argued verdict: does not close the race** (shmem truncation on a preemptible kernel).
//! After `put_swap_device()` CPU0 holds nothing: the slot's count is 0 and only the swap cache's
//! `SWAP_HAS_CACHE` keeps `inuse_pages` up. Swapoff's `try_to_unuse()` drops that cache folio
//! itself, `percpu_ref_kill()`, `synchronize_rcu()` (CPU0 is no reader) and
//! `wait_for_completion()` (the reference is gone) all pass, and `exit_swap_address_space()`
//! frees the swap cache's address spaces. CPU0's `__try_to_reclaim_swap()` then looks the
//! folio up in `swap_address_space(entry)`: `filemap_get_folio()` on a NULL or freed
//! `swapper_spaces[type]`. The swap cache needs the reference as much as the map does.
//!
//! ```text
//! -	p = _swap_info_get(entry);
//! +	p = get_swap_device(entry);
//!  	if (p) {
//! +		if (WARN_ON(data_race(!p->swap_map[swp_offset(entry)]))) {
//! +			put_swap_device(p);
//! +			return 0;
//! +		}
//!  		count = __swap_entry_free(p, entry);
//! -		if (count == SWAP_HAS_CACHE &&
//! -		    !swap_page_trans_huge_swapped(p, entry))
//! +		swapped = count != SWAP_HAS_CACHE ||
//! +			  swap_page_trans_huge_swapped(p, entry);
//! +		put_swap_device(p);
//! +		if (!swapped)
//!  			__try_to_reclaim_swap(p, swp_offset(entry),
//!  					      TTRS_UNMAPPED | TTRS_FULL);
//!  	}
//! ```

use super::{Argued, Kind, Patch, Seams};
use crate::model::context::Kernel;
use crate::model::swapfile::free::*;
use crate::model::types::*;

/// The patch.
pub const PATCH: Patch = Patch {
    name: "wrong-early-put",
    kind: Kind::Example(Argued::DoesNotClose {
        bug_in: &["filemap_get_folio"],
    }),
    subject: "free_swap_and_cache(): put_swap_device() before __try_to_reclaim_swap() (wrong)",
    fixes: Some("7c00bafee87c (\"mm/swap: free swap slots in batch\")"),
    apply: |s: &mut Seams| s.free_swap_and_cache = Some(free_swap_and_cache),
};

/// mm/swapfile.c: free_swap_and_cache(), v6.8 + this example.
pub fn free_swap_and_cache(k: &Kernel, entry: SwpEntry) -> bool {
    let _f = k.enter("free_swap_and_cache");
    let Some(p) = get_swap_device(k, entry) else {
        return false;
    };
    // if (WARN_ON(data_race(!p->swap_map[swp_offset(entry)]))) {
    //         put_swap_device(p);
    //         return 0;
    // }
    warn_on_free_slot(k, p, entry);
    let count = __swap_entry_free(k, p, entry);
    let swapped = count != SWAP_HAS_CACHE || swap_page_trans_huge_swapped(k, p, entry);
    put_swap_device(k, p);
    if !swapped {
        __try_to_reclaim_swap(k, p, entry.offset, TTRS_UNMAPPED | TTRS_FULL);
    }
    true
}

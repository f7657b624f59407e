//! Commit 82b1c07a0af6 (v6.9-rc1, Ryan Roberts) "mm: swap: fix race between
//! free_swap_and_cache() and swapoff()".
//!
//! `Fixes: 7c00bafee87c ("mm/swap: free swap slots in batch")`. `free_swap_and_cache()` held
//! no reference to the device: a caller without the PTL (shmem truncation) can be overtaken by a
//! whole `swapoff()` between `__swap_entry_free()` and `swap_page_trans_huge_swapped()`. The fix
//! takes `get_swap_device()`, which stalls swapoff until `put_swap_device()`, and re-adds
//! `_swap_info_get()`'s "slot not free" check as a `WARN_ON`. The race, as the commit's thread
//! draws it for shmem:
//!
//! ```text
//! CPU0                                      CPU1
//! ----                                      ----
//! shmem_undo_range
//!   shmem_free_swap
//!     xa_cmpxchg_irq
//!     free_swap_and_cache
//!       __swap_entry_free
//!       /* swap count become 0 */
//!                                           swapoff
//!                                             try_to_unuse
//!                                               filemap_get_folio
//!                                               folio_free_swap
//!                                               /* remove swap cache */
//!                                             /* free si->swap_map[] */
//!       swap_page_trans_huge_swapped <-- access freed si->swap_map !!!
//! ```
//!
//! The diff, against v6.8's mm/swapfile.c:
//!
//! ```text
//! -	p = _swap_info_get(entry);
//! +	p = get_swap_device(entry);
//!  	if (p) {
//! +		if (WARN_ON(data_race(!p->swap_map[swp_offset(entry)]))) {
//! +			put_swap_device(p);
//! +			return 0;
//! +		}
//! +
//!  		count = __swap_entry_free(p, entry);
//!  		if (count == SWAP_HAS_CACHE &&
//!  		    !swap_page_trans_huge_swapped(p, entry))
//!  			__try_to_reclaim_swap(p, swp_offset(entry),
//!  					      TTRS_UNMAPPED | TTRS_FULL);
//! +		put_swap_device(p);
//!  	}
//!  	return p != NULL;
//! ```

use super::{Kind, Patch, Seams};
use crate::model::context::Kernel;
use crate::model::swapfile::free::*;
use crate::model::types::*;

/// The patch.
pub const PATCH: Patch = Patch {
    name: "82b1c07a0af6",
    kind: Kind::Upstream,
    subject: "mm: swap: fix race between free_swap_and_cache() and swapoff()",
    fixes: Some("7c00bafee87c (\"mm/swap: free swap slots in batch\")"),
    apply: |s: &mut Seams| s.free_swap_and_cache = Some(free_swap_and_cache),
};

/// mm/swapfile.c: free_swap_and_cache(), v6.8 + 82b1c07a0af6.
pub fn free_swap_and_cache(k: &Kernel, entry: SwpEntry) -> bool {
    let _f = k.enter("free_swap_and_cache");
    // non_swap_entry(): the model has only genuine swap entries.
    let Some(p) = get_swap_device(k, entry) else {
        return false;
    };
    // if (WARN_ON(data_race(!p->swap_map[swp_offset(entry)]))) {
    //         put_swap_device(p);
    //         return 0;
    // }
    warn_on_free_slot(k, p, entry);
    let count = __swap_entry_free(k, p, entry);
    if count == SWAP_HAS_CACHE && !swap_page_trans_huge_swapped(k, p, entry) {
        __try_to_reclaim_swap(k, p, entry.offset, TTRS_UNMAPPED | TTRS_FULL);
    }
    put_swap_device(k, p);
    true
}

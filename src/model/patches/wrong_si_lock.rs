//! Example, a *wrong* fix: no device reference; `spin_lock(&p->lock)` right after
//! `__swap_entry_free()`, held over `swap_page_trans_huge_swapped()`.
//!
//! The idea a reviewer might accept: swapoff clears `p->swap_map` under `p->lock`, so reading
//! the map under the same lock sees either the live map or none.
//!
//! **Argued verdict: does not close the race** on a preemptible kernel. Holding `p->lock` orders
//! CPU0's read after swapoff's `p->swap_map = NULL`, but nothing makes swapoff wait for CPU0:
//! the count is already 0, `p->lock` is not taken yet, and CPU0 can be preempted before the
//! `preempt_disable()` that begins `spin_lock()`. Two endings, both bugs:
//! - swapoff runs to the end first. CPU0 takes `p->lock`, and `swap_page_trans_huge_swapped()`
//!   begins with `lock_cluster_or_swap_info()`, which finds `si->cluster_info == NULL` and takes
//!   `si->lock` again: spinlock recursion, CPU0 hangs in `swap_page_trans_huge_swapped()` (with
//!   CONFIG_DEBUG_SPINLOCK, "BUG: spinlock recursion"; lockdep: "possible recursive locking").
//!   Had the map survived, the read would be of NULL.
//! - CPU0 takes the lock before swapoff detaches the maps: swapoff waits for the lock only, and
//!   after `spin_unlock()` frees the swap cache while CPU0 goes on to `__try_to_reclaim_swap()`
//!   and looks the folio up in it (use-after-free in `filemap_get_folio()`).
//!
//! Each needs one preemption; which one swapfuzz reports first depends on the search order. On
//! PREEMPT_NONE the window is closed.
//!
//! ```text
//!  	p = _swap_info_get(entry);
//!  	if (p) {
//!  		count = __swap_entry_free(p, entry);
//! -		if (count == SWAP_HAS_CACHE &&
//! -		    !swap_page_trans_huge_swapped(p, entry))
//! +		if (count == SWAP_HAS_CACHE) {
//! +			spin_lock(&p->lock);
//! +			swapped = swap_page_trans_huge_swapped(p, entry);
//! +			spin_unlock(&p->lock);
//! +		}
//! +		if (count == SWAP_HAS_CACHE && !swapped)
//!  			__try_to_reclaim_swap(p, swp_offset(entry),
//!  					      TTRS_UNMAPPED | TTRS_FULL);
//!  	}
//! ```

use super::{Argued, Kind, Patch, Seams};
use crate::model::context::Kernel;
use crate::model::kernel::lock::LockId;
use crate::model::swapfile::free::*;
use crate::model::types::*;

/// The patch.
pub const PATCH: Patch = Patch {
    name: "wrong-si-lock",
    kind: Kind::Example(Argued::DoesNotClose {
        bug_in: &["swap_page_trans_huge_swapped", "filemap_get_folio"],
    }),
    subject: "free_swap_and_cache(): read the map under p->lock (wrong)",
    fixes: Some("7c00bafee87c (\"mm/swap: free swap slots in batch\")"),
    apply: |s: &mut Seams| s.free_swap_and_cache = Some(free_swap_and_cache),
};

/// mm/swapfile.c: free_swap_and_cache(), v6.8 + this example.
pub fn free_swap_and_cache(k: &Kernel, entry: SwpEntry) -> bool {
    let _f = k.enter("free_swap_and_cache");
    let Some(p) = _swap_info_get(k, entry) else {
        return false;
    };
    let count = __swap_entry_free(k, p, entry);
    if count == SWAP_HAS_CACHE {
        k.spin_lock(LockId::SiLock(p));
        let swapped = swap_page_trans_huge_swapped(k, p, entry);
        k.spin_unlock(LockId::SiLock(p));
        if !swapped {
            __try_to_reclaim_swap(k, p, entry.offset, TTRS_UNMAPPED | TTRS_FULL);
        }
    }
    true
}

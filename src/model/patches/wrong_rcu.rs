//! Example, a *wrong* fix: no device reference; `rcu_read_lock()` right after
//! `__swap_entry_free()`, held over `swap_page_trans_huge_swapped()` and
//! `__try_to_reclaim_swap()`.
//!
//! The idea a reviewer might accept: swapoff calls `synchronize_rcu()` before it frees
//! `si->swap_map` and the swap cache, so an RCU reader can touch them safely, and zap's callers
//! are already readers through the PTL.
//!
//! **Argued verdict: does not close the race** on a preemptible kernel (CONFIG_PREEMPT,
//! PREEMPT_DYNAMIC, PREEMPT_RT). `synchronize_rcu()` waits only for readers that began before
//! it. `__swap_entry_free()` ends in `unlock_cluster_or_swap_info()`, whose `preempt_enable()`
//! is a preemption point; the count is already 0 (only `SWAP_HAS_CACHE` left), so swapoff's
//! `try_to_unuse()` can drop the cache, see `inuse_pages == 0`, pass `synchronize_rcu()` (CPU0
//! is not a reader yet) and free `si->swap_map`. CPU0 then enters its read-side section and
//! `swap_page_trans_huge_swapped()` dereferences the NULL (or freed) map. On PREEMPT_NONE the
//! whole system call is an implicit reader and the window is closed, which `--preempt off`
//! shows.
//!
//! ```text
//!  	p = _swap_info_get(entry);
//!  	if (p) {
//!  		count = __swap_entry_free(p, entry);
//! +		rcu_read_lock();
//!  		if (count == SWAP_HAS_CACHE &&
//!  		    !swap_page_trans_huge_swapped(p, entry))
//!  			__try_to_reclaim_swap(p, swp_offset(entry),
//!  					      TTRS_UNMAPPED | TTRS_FULL);
//! +		rcu_read_unlock();
//!  	}
//! ```

use super::{Argued, Kind, Patch, Seams};
use crate::model::context::Kernel;
use crate::model::swapfile::free::*;
use crate::model::types::*;

/// The patch.
pub const PATCH: Patch = Patch {
    name: "wrong-rcu",
    kind: Kind::Example(Argued::DoesNotClose {
        bug_in: &["swap_page_trans_huge_swapped"],
    }),
    subject: "free_swap_and_cache(): rcu_read_lock() after __swap_entry_free() (wrong)",
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
    k.rcu_read_lock();
    if count == SWAP_HAS_CACHE && !swap_page_trans_huge_swapped(k, p, entry) {
        __try_to_reclaim_swap(k, p, entry.offset, TTRS_UNMAPPED | TTRS_FULL);
    }
    k.rcu_read_unlock();
    true
}

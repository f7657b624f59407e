//! Revert of 2efa33fc7f6e ("mm/shmem: fix shmem_swapin() race with swapoff", Miaohe Lin,
//! v5.14-rc1): `shmem_swapin_folio()` without its `get_swap_device()`/`put_swap_device()`
//! (race 4 of the swapoff race catalogue, docs/catalogue.md#race-4-2efa33fc7f6e).
//!
//! The commit message's race:
//!
//! ```text
//! CPU0                                          CPU1
//! shmem_swapin
//!   swap_cluster_readahead
//!     if (likely(si->flags & (SWP_BLKDEV | SWP_FS_OPS))) {
//!                                               swapoff
//!                                                 ..
//!                                                 si->swap_file = NULL;
//!                                                 ..
//!     struct inode *inode = si->swap_file->f_mapping->host;   /* oops */
//! ```
//!
//! The fix took `si = get_swap_device(swap)` in `shmem_swapin_page()` before the swap-cache
//! lookup and put it on both exits. This patch takes them out of v6.8's `shmem_swapin_folio()`,
//! together with the early return that goes with the get (`-EEXIST` when
//! `shmem_confirm_swap()` fails, else `-EINVAL`), as the kernel read before the fix:
//!
//! ```text
//! -	si = get_swap_device(swap);
//! -	if (!si) {
//! -		if (!shmem_confirm_swap(mapping, index, swap))
//! -			return -EEXIST;
//! -		else
//! -			return -EINVAL;
//! -	}
//! -
//!  	/* Look it up and read it in.. */
//!  	folio = swap_cache_get_folio(swap, NULL, 0);
//!  	...
//!  	swap_free(swap);
//! -	put_swap_device(si);
//!
//!  	*foliop = folio;
//!  	return 0;
//!  ...
//!  unlock:
//!  	if (folio) {
//!  		folio_unlock(folio);
//!  		folio_put(folio);
//!  	}
//! -	put_swap_device(si);
//!
//!  	return error;
//! ```
//!
//! **Argued verdict: does not close the race** (a tmpfs read of a swapped-out page against
//! swapoff, preemptible kernel). CPU0's `shmem_get_folio_gfp()` reads the swap value entry with
//! `filemap_get_entry()`, whose RCU section ends before it returns; from there CPU0 holds
//! nothing: no device reference, no folio lock, no RCU. CPU1's swapoff runs to the end in that
//! window: `shmem_unuse()` swaps the same index in (the folio is in the swap cache and
//! unlocked), `inuse_pages` drops to 0, `percpu_ref_kill()`, `synchronize_rcu()` (CPU0 is no
//! reader) and `wait_for_completion()` (no reference to wait for) pass, and
//! `exit_swap_address_space()` frees the swap cache and sets `swapper_spaces[type] = NULL`.
//! CPU0's `swap_cache_get_folio()` then looks the entry up in `swap_address_space(entry)`:
//! `filemap_get_folio()` dereferences NULL (or the freed array, when CPU0 read the pointer
//! before the `kvfree()`). Nothing else on the path is exposed:
//! `swap_cluster_readahead()` reads only `swap_info[type]`, which is never freed (and with
//! `vm.page-cluster=0` not even `si->max`); `__read_swap_cache_async()` takes its own reference;
//! and once CPU0 holds a folio, the folio lock and the slot's counts keep swapoff out:
//! swapoff's own `shmem_swapin_folio()` and its swap-cache sweep wait for that lock, the slot
//! stays in use (`SWAP_MAP_SHMEM`, `SWAP_HAS_CACHE`) until CPU0's `swap_free()`, and after it
//! CPU0 touches only the folio. If swapoff took the folio first, CPU0 finds it out of the swap
//! cache under the lock and returns `-EEXIST` without touching the device. On a non-preemptible
//! kernel (`--preempt off`) CPU0 is an RCU reader from the start of the read up to
//! `swap_cache_get_folio()` (no sleep in between), so `synchronize_rcu()` waits for it: clean.
//!
//! **What differs from the historical code.** The historical crash is not the one reproduced:
//! it was the `si->swap_file` dereference of 8fd2e0b505d1's congestion check in
//! `swap_cluster_readahead()` (NULL at swapoff's detach step), and v6.8 has no congestion check
//! (Yang Shi reverted it, with this fix, in August 2021, because block-layer congestion tracking
//! had gone; the model does not keep `si->swap_file` either). Before the fix the swap-cache
//! lookup was protected by a get/put of its own inside `lookup_swap_cache()` (still so in 6.1's
//! `swap_cache_get_folio()`); "swap: avoid holding swap reference in swap_cache_get_folio"
//! removed that and re-added the outer get/put in `shmem_swapin_folio()`, the one this patch
//! removes. So on v6.8 the revert exposes `swap_cache_get_folio()`'s lookup instead: the same
//! window (entry read, swapoff completes, device memory touched), in another function.

use super::{Argued, Kind, Patch, Seams};
use crate::model::context::Kernel;
use crate::model::shmem::{
    EEXIST, ENOMEM, shmem_add_to_page_cache, shmem_confirm_swap, shmem_swapin_cluster,
};
use crate::model::swap_state::{delete_from_swap_cache, swap_cache_get_folio};
use crate::model::swapfile::free::swap_free;
use crate::model::types::*;

/// The patch.
pub const PATCH: Patch = Patch {
    name: "revert-2efa33fc7f6e",
    kind: Kind::Revert(Argued::DoesNotClose {
        bug_in: &["filemap_get_folio"],
    }),
    subject: "Revert \"mm/shmem: fix shmem_swapin() race with swapoff\"",
    fixes: Some("8fd2e0b505d1 (\"mm: swap: check if swap backing device is congested or not\")"),
    apply: |s: &mut Seams| s.shmem_swapin_folio = Some(shmem_swapin_folio),
};

/// mm/shmem.c: shmem_swapin_folio(), v6.8 with 2efa33fc7f6e reverted: no `get_swap_device()`,
/// no `put_swap_device()`. Simplified as v6.8's in `src/model/shmem.rs`.
pub fn shmem_swapin_folio(
    k: &Kernel,
    inode: InodeId,
    index: usize,
    swap: SwpEntry,
) -> Result<FolioId, i32> {
    let _f = k.enter("shmem_swapin_folio");
    // Look it up and read it in..
    let mut folio = swap_cache_get_folio(k, swap);
    if folio.is_none() {
        // Here we actually start the io
        folio = shmem_swapin_cluster(k, swap);
    }
    let Some(folio) = folio else {
        return failed(k, inode, index, swap, None, -ENOMEM);
    };
    // We have to do this with folio locked to prevent races
    k.folio_lock(folio);
    let ours = k.with(|w| {
        let f = &w.folios[folio];
        f.swapcache && f.swap == swap && f.nr == 1
    }) && shmem_confirm_swap(k, inode, index, swap);
    if !ours {
        return unlock(k, Some(folio), -EEXIST);
    }
    if shmem_add_to_page_cache(k, folio, inode, index, swap) != 0 {
        return failed(k, inode, index, swap, Some(folio), -EEXIST);
    }
    k.with(|w| w.inodes[inode].swapped -= 1); // shmem_recalc_inode(inode, 0, -1)
    delete_from_swap_cache(k, folio);
    k.with(|w| w.folios[folio].dirty = true); // folio_mark_dirty()
    swap_free(k, swap);
    Ok(folio)
}

/// `failed:`: `-EEXIST` if the entry is no longer ours, then `unlock:`.
fn failed(
    k: &Kernel,
    inode: InodeId,
    index: usize,
    swap: SwpEntry,
    folio: Option<FolioId>,
    mut error: i32,
) -> Result<FolioId, i32> {
    if !shmem_confirm_swap(k, inode, index, swap) {
        error = -EEXIST;
    }
    unlock(k, folio, error)
}

/// `unlock:`: unlock the folio if any (no `put_swap_device()`).
fn unlock(k: &Kernel, folio: Option<FolioId>, error: i32) -> Result<FolioId, i32> {
    if let Some(folio) = folio {
        k.folio_unlock(folio); // and folio_put()
    }
    Err(error)
}

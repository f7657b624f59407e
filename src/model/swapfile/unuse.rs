//! mm/swapfile.c (v6.8): `try_to_unuse()` and its helpers, which bring every swapped-out page of
//! a device back in before swapoff frees it.

use super::free::*;
use super::*;
use crate::model::memory::{mmget_not_zero, mmput, pte_same, set_pte_at};
use crate::model::swap_state::{filemap_get_folio, read_swap_cache_async};

/// Bounded `goto retry` count of `try_to_unuse()`: stands for `signal_pending()` (the user
/// interrupting a swapoff that makes no progress), which then returns `-EINTR`.
pub const MAX_UNUSE_RETRIES: u32 = 3;

/// `-EINTR`.
pub const EINTR: i32 = 4;
/// `-ENOMEM`.
pub const ENOMEM: i32 = 12;
/// `-EINVAL`.
pub const EINVAL: i32 = 22;

/// mm/swapfile.c: unuse_pte(), v6.8: under the PTL, if the PTE still holds `entry`
/// (`pte_same()`), map the folio's page and drop the PTE's swap reference.
pub fn unuse_pte(k: &Kernel, mm: MmId, idx: usize, entry: SwpEntry, folio: FolioId) -> i32 {
    let _f = k.enter("unuse_pte");
    k.spin_lock(LockId::Ptl(mm));
    if pte_same(k, mm, idx, entry) {
        set_pte_at(k, mm, idx, folio);
        swap_free(k, entry);
    } else {
        k.note(|_| "/* !pte_same(): raced, skip */".into());
    }
    k.spin_unlock(LockId::Ptl(mm));
    0
}

/// mm/swapfile.c: unuse_pte_range() (via unuse_mm(), unuse_vma()), v6.8: for every PTE of the
/// mm's one page table that holds a swap entry of `type`, get the folio (swap cache or read),
/// lock it, `unuse_pte()`, then `folio_free_swap()`. The mmap lock is not modelled: nothing
/// that could take it for writing runs while `try_to_unuse()` holds the mm.
pub fn unuse_mm(k: &Kernel, mm: MmId, type_: SwapType) -> i32 {
    let _f = k.enter("unuse_mm");
    // The PTE vector's length never changes after the mm is created: nothing to declare.
    let nr = k.with_footprint(|w, fp| {
        fp.local();
        w.mms[mm].ptes.len()
    });
    for idx in 0..nr {
        // ptep_get_lockless()
        let ptent = k.with_footprint(|w, fp| {
            fp.read(Touch::Pte(mm, idx));
            w.mms[mm].ptes[idx]
        });
        let Pte::Swap(entry) = ptent else { continue };
        if entry.type_ != type_ {
            continue;
        }
        let mut folio = crate::model::swap_state::swap_cache_get_folio(k, entry);
        if folio.is_none() {
            folio = read_swap_cache_async(k, entry);
        }
        let Some(folio) = folio else {
            let cpu = k.cpu;
            let count = k.with_footprint(|w, fp| {
                fp.read(Touch::SiSlot(type_));
                fp.read(Touch::SiMap(type_));
                let map = w.swap_info[type_].swap_map;
                fp.elem(cpu, map, entry.offset as usize, false);
                map_get(w, cpu, map, entry.offset, "si->swap_map[offset]")
            });
            if count == 0 || count == SWAP_MAP_BAD {
                continue;
            }
            return -ENOMEM;
        };
        k.folio_lock(folio);
        let ret = unuse_pte(k, mm, idx, entry, folio);
        if ret < 0 {
            k.folio_unlock(folio);
            return ret;
        }
        k.call("folio_free_swap", |k| folio_free_swap(k, folio));
        k.folio_unlock(folio);
    }
    0
}

/// mm/swapfile.c: find_next_to_unuse(), v6.8: the next slot after `prev` that is in use
/// (non-zero and not bad), or 0. The lockless scan reads the bytes in one step: a slot missed
/// because it changed mid-scan is found by the next pass, as in the kernel ("false hits are ok").
pub fn find_next_to_unuse(k: &Kernel, si: SwapType, prev: u32) -> u32 {
    let _f = k.enter("find_next_to_unuse");
    let cpu = k.cpu;
    k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(si));
        fp.read(Touch::SiMap(si));
        let (map, max) = (w.swap_info[si].swap_map, w.swap_info[si].max);
        for i in prev + 1..max {
            fp.elem(cpu, map, i as usize, false);
            let count = map_get(w, cpu, map, i, "si->swap_map[i]");
            if count != 0 && swap_count(count) != SWAP_MAP_BAD {
                return i;
            }
        }
        0
    })
}

/// mm/swapfile.c: try_to_unuse(), v6.8: returns 0 only once it has seen `si->inuse_pages == 0`.
pub fn try_to_unuse(k: &Kernel, type_: SwapType) -> i32 {
    let _f = k.enter("try_to_unuse");
    let si = type_;
    let inuse = |k: &Kernel| {
        k.with_footprint(|w, fp| {
            fp.read(Touch::SiSlot(si));
            fp.read(Touch::Inuse(si));
            w.swap_info[si].inuse_pages
        })
    };
    if inuse(k) == 0 {
        k.note(|_| "/* si->inuse_pages == 0: nothing to unuse */".into());
        return 0;
    }
    let mut retries = 0;
    loop {
        let retval = k.call("shmem_unuse", |k| {
            crate::model::shmem::shmem_unuse(k, type_)
        });
        if retval != 0 {
            return retval;
        }
        // The mm walk: `prev_mm` holds a reference that keeps the cursor's mm on the list; a
        // skipped (exiting) mm is passed without one, under a continuous mmlist_lock hold.
        // (`k.call`: the state cache keeps of the walk only its result.)
        let retval = k.call("try_to_unuse: the mm walk", |k| {
            let mut prev_mm: Option<MmId> = None;
            let mut cursor: Option<MmId> = None;
            k.spin_lock(LockId::MmlistLock);
            loop {
                if inuse(k) == 0 {
                    break;
                }
                let next = k.with_footprint(|w, fp| {
                    fp.read(Touch::Mmlist);
                    let pos = match cursor {
                        None => 0,
                        Some(c) => w
                            .mmlist
                            .iter()
                            .position(|&m| m == c)
                            .map_or(usize::MAX, |i| i + 1),
                    };
                    w.mmlist.get(pos).copied()
                });
                let Some(mm) = next else { break };
                cursor = Some(mm);
                if !mmget_not_zero(k, mm) {
                    k.note(|_| format!("/* mmget_not_zero(mm{mm}) fails: skip */"));
                    continue;
                }
                k.spin_unlock(LockId::MmlistLock);
                if let Some(p) = prev_mm.replace(mm) {
                    mmput(k, p);
                }
                let retval = k.call("unuse_mm", |k| unuse_mm(k, mm, type_));
                if retval != 0 {
                    mmput(k, mm);
                    return retval;
                }
                k.spin_lock(LockId::MmlistLock);
            }
            k.spin_unlock(LockId::MmlistLock);
            if let Some(p) = prev_mm {
                mmput(k, p);
            }
            0
        });
        if retval != 0 {
            return retval;
        }
        // The swap-cache sweep: frees cache-only slots whose references went away.
        k.call("try_to_unuse: the swap-cache sweep", |k| {
            let mut i = 0;
            while inuse(k) != 0 {
                i = find_next_to_unuse(k, si, i);
                if i == 0 {
                    break;
                }
                let Some(folio) = filemap_get_folio(k, SwpEntry::new(type_, i)) else {
                    continue;
                };
                k.folio_lock(folio);
                k.call("folio_free_swap", |k| folio_free_swap(k, folio));
                k.folio_unlock(folio);
            }
        });
        if inuse(k) != 0 {
            retries += 1;
            if retries <= MAX_UNUSE_RETRIES {
                continue; // goto retry
            }
            return -EINTR;
        }
        return 0;
    }
}

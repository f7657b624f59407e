//! Spinlocks, mutexes and the folio lock (`PG_locked`), as one ownership table.
//!
//! Models `include/linux/spinlock.h`, `kernel/locking/mutex.c` and `folio_lock()` only as far as
//! ownership goes: who holds which lock. Waiting is done by the caller (it blocks the CPU).

use super::Cpu;
use crate::model::handle::{FolioId, InodeId, MmId, SwapType};

/// Every lock the model takes, by kernel name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockId {
    /// `swap_lock` (mm/swapfile.c), global spinlock.
    SwapLock,
    /// `si->lock` of `swap_info[type]`.
    SiLock(SwapType),
    /// `ci->lock` of cluster `idx` inside the `cluster_info` allocation `alloc`.
    Cluster {
        /// KASAN allocation of the cluster array.
        alloc: usize,
        /// Cluster index.
        idx: usize,
    },
    /// `swapper_spaces[type]->i_pages` xa_lock (one address space per device in the model).
    SwapCacheXa(SwapType),
    /// The page-table lock of an mm (one PTE page per mm in the model).
    Ptl(MmId),
    /// `mapping->i_pages` xa_lock of a shmem inode.
    ShmemXa(InodeId),
    /// `mmlist_lock`.
    MmlistLock,
    /// `swap_slots_cache[cpu].free_lock`.
    SlotsFreeLock(Cpu),
    /// `swapon_mutex` (sleeping).
    SwaponMutex,
    /// `shmem_swaplist_mutex` (sleeping).
    ShmemSwaplistMutex,
    /// `swap_slots_cache_enable_mutex` (sleeping).
    SlotsEnableMutex,
    /// `PG_locked` of a folio (sleeping).
    Folio(FolioId),
}

impl LockId {
    /// True for locks that may sleep (mutexes, the folio lock); false for spinlocks.
    pub fn sleeps(self) -> bool {
        matches!(
            self,
            LockId::SwaponMutex
                | LockId::ShmemSwaplistMutex
                | LockId::SlotsEnableMutex
                | LockId::Folio(_)
        )
    }

    /// The kernel expression naming this lock, for reports.
    pub fn kernel_name(self) -> String {
        match self {
            LockId::SwapLock => "swap_lock".into(),
            LockId::SiLock(t) => format!("swap_info[{t}]->lock"),
            LockId::Cluster { idx, .. } => format!("cluster_info[{idx}].lock"),
            LockId::SwapCacheXa(t) => format!("swapper_spaces[{t}]->i_pages"),
            LockId::Ptl(mm) => format!("mm{mm} PTL"),
            LockId::ShmemXa(i) => format!("inode{i}->i_pages"),
            LockId::MmlistLock => "mmlist_lock".into(),
            LockId::SlotsFreeLock(c) => format!("swap_slots_cache[{c}].free_lock"),
            LockId::SwaponMutex => "swapon_mutex".into(),
            LockId::ShmemSwaplistMutex => "shmem_swaplist_mutex".into(),
            LockId::SlotsEnableMutex => "swap_slots_cache_enable_mutex".into(),
            LockId::Folio(f) => format!("folio{f} PG_locked"),
        }
    }
}

/// Which CPU holds which lock. Small (a handful of entries), so a vector, kept sorted by lock:
/// the same locks held give the same table whatever order they were taken in, so the state
/// digest (`Shared::state_digest`) merges the two.
#[derive(Debug, Default, Clone, Hash)]
pub struct LockTable {
    held: Vec<(LockId, Cpu)>,
}

impl LockTable {
    /// The holder of `id`, if any.
    pub fn holder(&self, id: LockId) -> Option<Cpu> {
        self.held.iter().find(|(l, _)| *l == id).map(|(_, c)| *c)
    }

    /// Takes `id` for `cpu` if it is free; returns whether it was taken.
    pub fn try_acquire(&mut self, id: LockId, cpu: Cpu) -> bool {
        if self.holder(id).is_some() {
            return false;
        }
        let at = self.held.partition_point(|&(l, _)| l < id);
        self.held.insert(at, (id, cpu));
        true
    }

    /// Releases `id`; returns false if `cpu` did not hold it.
    pub fn release(&mut self, id: LockId, cpu: Cpu) -> bool {
        match self.held.iter().position(|&(l, c)| l == id && c == cpu) {
            Some(i) => {
                self.held.remove(i);
                true
            }
            None => false,
        }
    }

    /// Locks held by `cpu`.
    pub fn held_by(&self, cpu: Cpu) -> impl Iterator<Item = LockId> + '_ {
        self.held
            .iter()
            .filter(move |(_, c)| *c == cpu)
            .map(|(l, _)| *l)
    }

    /// Every held lock with its holder, sorted by lock (deterministic order for reports).
    pub fn all(&self) -> Vec<(LockId, Cpu)> {
        self.held.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership() {
        let mut t = LockTable::default();
        assert!(t.try_acquire(LockId::SiLock(SwapType(0)), 1));
        assert!(!t.try_acquire(LockId::SiLock(SwapType(0)), 2));
        assert!(t.try_acquire(LockId::SiLock(SwapType(1)), 2));
        assert_eq!(t.holder(LockId::SiLock(SwapType(0))), Some(1));
        assert!(!t.release(LockId::SiLock(SwapType(0)), 2));
        assert!(t.release(LockId::SiLock(SwapType(0)), 1));
        assert_eq!(t.holder(LockId::SiLock(SwapType(0))), None);
        assert_eq!(
            t.held_by(2).collect::<Vec<_>>(),
            vec![LockId::SiLock(SwapType(1))]
        );
        assert!(LockId::Folio(FolioId(3)).sleeps() && !LockId::Ptl(MmId(0)).sleeps());
    }

    #[test]
    fn the_order_of_acquisition_is_forgotten() {
        let (a, b, c) = (
            LockId::SwapLock,
            LockId::SiLock(SwapType(0)),
            LockId::MmlistLock,
        );
        let mut x = LockTable::default();
        let mut y = LockTable::default();
        for (l, cpu) in [(a, 0), (b, 1), (c, 0)] {
            assert!(x.try_acquire(l, cpu));
        }
        for (l, cpu) in [(c, 0), (a, 0), (b, 1)] {
            assert!(y.try_acquire(l, cpu));
        }
        assert_eq!(x.held, y.held);
        assert!(x.release(a, 0) && y.release(a, 0));
        assert_eq!(x.held, y.held);
        let mut left = vec![(c, 0), (b, 1)];
        left.sort();
        assert_eq!(x.all(), left);
        assert_eq!(x.held_by(0).collect::<Vec<_>>(), vec![c]);
    }
}

//! Annotated shared state for the suite's programs: a [`Var`] is a shuttle atomic whose every
//! access also [annotates](crate::engine::access) the running step, and a [`Lock`] a shuttle
//! mutex whose acquisition does. This is how any shuttle test gives the engine's search its
//! reads-from features: one call per shared access, free when nobody records.

use shuttle::sync::atomic::{AtomicI64, Ordering};
use shuttle::sync::{Mutex, MutexGuard};

use std::sync::atomic::AtomicUsize;

use crate::engine::{Access, access, local, point};

/// Steps of thread-local work that each thread of the suite does before and after its shared
/// accesses (see [`work`]); 8 unless set.
pub static PAD: AtomicUsize = AtomicUsize::new(8);

/// [`PAD`] steps of work that touches nothing shared: each a scheduling point, annotated
/// [`local`]. Real threads compute between their shared accesses; these steps give every
/// search more decisions to get wrong, and say that they commute.
pub fn work() {
    for _ in 0..PAD.load(std::sync::atomic::Ordering::Relaxed) {
        point();
        local();
    }
}

/// A shared integer, object `id` of the access annotations.
#[derive(Debug)]
pub struct Var {
    id: u64,
    value: AtomicI64,
}

impl Var {
    /// Object `id`, initially `value`.
    pub fn new(id: u64, value: i64) -> Self {
        Var {
            id,
            value: AtomicI64::new(value),
        }
    }

    /// Reads it.
    pub fn load(&self) -> i64 {
        let v = self.value.load(Ordering::SeqCst);
        access(self.id, Access::Read);
        v
    }

    /// Writes it.
    pub fn store(&self, v: i64) {
        self.value.store(v, Ordering::SeqCst);
        access(self.id, Access::Write);
    }

    /// Adds `d` atomically; the old value.
    pub fn fetch_add(&self, d: i64) -> i64 {
        let v = self.value.fetch_add(d, Ordering::SeqCst);
        access(self.id, Access::Write);
        v
    }

    /// Compare-and-swap; whether it swapped.
    pub fn cas(&self, expected: i64, new: i64) -> bool {
        let r = self
            .value
            .compare_exchange(expected, new, Ordering::SeqCst, Ordering::SeqCst);
        access(
            self.id,
            if r.is_ok() {
                Access::Write
            } else {
                Access::Read
            },
        );
        r.is_ok()
    }
}

/// A lock, object `id` of the access annotations (acquiring it writes it).
#[derive(Debug)]
pub struct Lock {
    id: u64,
    mutex: Mutex<()>,
}

impl Lock {
    /// Object `id`.
    pub fn new(id: u64) -> Self {
        Lock {
            id,
            mutex: Mutex::new(()),
        }
    }

    /// Acquires it.
    pub fn lock(&self) -> MutexGuard<'_, ()> {
        let g = self.mutex.lock().expect("lock");
        access(self.id, Access::Write);
        g
    }
}

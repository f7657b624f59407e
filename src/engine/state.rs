//! State caching for the [`Explorer`](super::Explorer): a test that can say which state it is
//! in lets the search skip a decision it has already explored from the same state.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use swapfuzz::engine::{Exploration, Explorer, point, state};
//!
//! // Two tasks add 1 to a counter three times each, a step at a time. The counter and each
//! // task's count of its own steps (its place in its loop) are all a state holds.
//! fn test() {
//!     let shared = Arc::new(Mutex::new((0u32, [0u32; 2])));
//!     if state::wanted() {
//!         let s = Arc::clone(&shared);
//!         state::provide(move || Some(state::digest_of(&*s.lock().unwrap())));
//!     }
//!     let tasks: Vec<_> = (0..2)
//!         .map(|t| {
//!             let s = Arc::clone(&shared);
//!             shuttle::thread::spawn(move || {
//!                 for _ in 0..3 {
//!                     point();
//!                     let mut g = s.lock().unwrap();
//!                     g.0 += 1;
//!                     g.1[t] += 1;
//!                 }
//!             })
//!         })
//!         .collect();
//!     for t in tasks {
//!         t.join().unwrap();
//!     }
//!     assert_eq!(shared.lock().unwrap().0, 6);
//! }
//!
//! let all = Explorer::new().preemptions(usize::MAX).run(test);
//! let merged = Explorer::new().preemptions(usize::MAX).cache_states(true).run(test);
//! let (Exploration::Exhausted { executions: a }, Exploration::Exhausted { executions: b }) =
//!     (all, merged)
//! else {
//!     panic!("both searches end without a failure")
//! };
//! assert!(b < a, "{b} schedules with the cache, {a} without");
//! ```
//!
//! # The contract
//!
//! While [`wanted`] is true (an exploration with [`cache_states`](super::Explorer::cache_states)
//! runs), the test calls [`provide`] at the start of each execution with a function that returns
//! a digest of its state at a scheduling point (or `None` where it cannot say). The digest must
//! *determine the future*: two scheduling points with the same digest, the same runnable tasks
//! and the same current task must behave the same under every sequence of later choices (the
//! same steps, the same failures). That covers the shared data and, for each task, where it is
//! and what its local variables hold; a task's code is deterministic, so a digest of everything
//! the task has observed (each value its shared accesses returned, in order) stands for its
//! place and its locals. A digest that tells apart states that behave the same only costs
//! merging; one that merges states that behave differently is a false proof.
//!
//! # The search
//!
//! A decision node records its state, its sleep set (as the set of tasks asleep; at one state a
//! task's next step is fixed) and the preemptions it had left when its whole subtree has been
//! explored. A new node whose state was explored before with a subset of its sleep set and at
//! least its preemption budget is not explored again: the earlier subtree ran every path this
//! one would (sleep sets only remove choices, and a smaller sleep set at a node gives smaller
//! sets below it; a larger budget allows more), and the same path from the same state does the
//! same. Only explored subtrees are recorded, so the argument is an induction on the time a
//! subtree was finished; it needs no acyclicity. This is state-space caching with sleep
//! sets (Godefroid, *Partial-Order Methods for the Verification of Concurrent Systems*, LNCS
//! 1032, 1996, ch. 6), with a preemption budget compared as well. Digests are 128 bits
//! (XXH3-128, a non-cryptographic hash with a good distribution); a collision could merge two
//! different states, with a probability of about `n²/2¹²⁹` for `n` states.

use std::cell::{Cell, RefCell};
use std::hash::{Hash, Hasher};

type Provider = Box<dyn Fn() -> Option<u128>>;

thread_local! {
    static WANTED: Cell<bool> = const { Cell::new(false) };
    static PROVIDER: RefCell<Option<Provider>> = const { RefCell::new(None) };
}

/// Whether the running exploration caches states: while it does, a test that [`provide`]s a
/// digest keeps whatever its digest needs (e.g. each task's observations).
pub fn wanted() -> bool {
    WANTED.with(Cell::get)
}

/// How to compute the digest of the test's state at a scheduling point (see the module's
/// contract). Call it at the start of each execution while [`wanted`]; the search drops it when
/// the execution ends. It runs inside the scheduler, between steps: it must not block or reach
/// a scheduling point.
pub fn provide(digest: impl Fn() -> Option<u128> + 'static) {
    PROVIDER.with(|p| *p.borrow_mut() = Some(Box::new(digest)));
}

/// Turns the caching on or off for the executions that follow (on the calling thread).
pub(crate) fn set_wanted(on: bool) {
    WANTED.with(|w| w.set(on));
}

/// Drops the provider of the last execution.
pub(crate) fn clear() {
    PROVIDER.with(|p| p.borrow_mut().take());
}

/// The test's digest now, if it provided one and can say.
pub(crate) fn digest() -> Option<u128> {
    PROVIDER.with(|p| p.try_borrow().ok()?.as_ref()?())
}

/// A 128-bit digest: what is hashed into it is written out as bytes (each value's `Hash`
/// writes its fields in order, a sequence's length first), then hashed once with XXH3-128.
/// Deterministic across runs and machines of one build.
#[derive(Clone, Debug, Default)]
pub struct Digest {
    bytes: Vec<u8>,
}

impl Digest {
    /// The 128 bits.
    pub fn finish128(&self) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&self.bytes)
    }
}

impl Hasher for Digest {
    fn write(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }
    fn finish(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.bytes)
    }
}

thread_local! {
    /// The buffer of [`digest_of`] and [`chain`], reused (the cache digests at every decision).
    static BUFFER: RefCell<Digest> = RefCell::default();
}

/// The digest of what `hash` writes.
fn digest_with(hash: impl FnOnce(&mut Digest)) -> u128 {
    BUFFER.with(|b| match b.try_borrow_mut() {
        Ok(mut d) => {
            d.bytes.clear();
            hash(&mut d);
            d.finish128()
        }
        Err(_) => {
            let mut d = Digest::default();
            hash(&mut d);
            d.finish128()
        }
    })
}

/// The 128-bit digest of `value`.
pub fn digest_of<T: Hash + ?Sized>(value: &T) -> u128 {
    digest_with(|d| value.hash(d))
}

/// `prev` followed by `value`: for a digest of a sequence of observations.
pub fn chain<T: Hash + ?Sized>(prev: u128, value: &T) -> u128 {
    digest_with(|d| {
        prev.hash(d);
        value.hash(d);
    })
}

/// Hashes a state's digest for the cache's table: its low bits (already uniform).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DigestBits(u64);

impl Hasher for DigestBits {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, x: u128) {
        self.0 ^= x as u64;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Table<V> = std::collections::HashMap<u128, V, std::hash::BuildHasherDefault<DigestBits>>;

/// How a state's subtree was explored: the tasks asleep and the preemptions left (`u32::MAX`:
/// no bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Explored {
    asleep: u64,
    left: u32,
}

impl Explored {
    fn new(asleep: u64, left: usize) -> Self {
        Explored {
            asleep,
            left: u32::try_from(left).unwrap_or(u32::MAX),
        }
    }

    /// Whether this exploration ran every path that one would.
    fn covers(self, other: Explored) -> bool {
        self.asleep & !other.asleep == 0 && self.left >= other.left
    }
}

/// Explored states: for each, how its subtrees that finished were explored (most states have
/// one entry; entries that do not cover each other are kept apart).
#[derive(Debug, Default)]
pub(crate) struct StateCache {
    first: Table<Explored>,
    more: Table<Vec<Explored>>,
    /// New nodes not explored because their state was.
    pub(crate) matched: usize,
}

impl StateCache {
    /// Whether a subtree of `state` explored with a subset of `asleep` and at least `left`
    /// preemptions has finished.
    pub(crate) fn covers(&self, state: u128, asleep: u64, left: usize) -> bool {
        let e = Explored::new(asleep, left);
        self.first.get(&state).is_some_and(|f| f.covers(e))
            || self
                .more
                .get(&state)
                .is_some_and(|v| v.iter().any(|m| m.covers(e)))
    }

    /// Records a finished subtree (dropping the entries it covers).
    pub(crate) fn finished(&mut self, state: u128, asleep: u64, left: usize) {
        if self.covers(state, asleep, left) {
            return;
        }
        let e = Explored::new(asleep, left);
        let Some(&first) = self.first.get(&state) else {
            self.first.insert(state, e);
            return;
        };
        let mut all = self.more.remove(&state).unwrap_or_default();
        all.push(first);
        all.retain(|&m| !e.covers(m));
        all.push(e);
        self.first.insert(state, all.swap_remove(0));
        if !all.is_empty() {
            self.more.insert(state, all);
        }
    }

    /// States recorded.
    pub(crate) fn len(&self) -> usize {
        self.first.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_covers_smaller_sleep_sets_and_larger_budgets_only() {
        let mut c = StateCache::default();
        c.finished(7, 0b010, 2);
        assert!(c.covers(7, 0b010, 2));
        assert!(c.covers(7, 0b110, 1), "more asleep, less budget");
        assert!(!c.covers(7, 0b100, 2), "a task awake here was asleep there");
        assert!(!c.covers(7, 0b010, 3), "more budget here");
        assert!(!c.covers(8, 0b111, 0), "another state");
        c.finished(7, 0b000, 3);
        assert!(c.covers(7, 0b100, 3));
        assert!(c.more.is_empty(), "the new entry covers the old");
        c.finished(9, 0b001, 1);
        c.finished(9, 0b010, 2);
        assert!(c.covers(9, 0b001, 1) && c.covers(9, 0b010, 2));
        assert!(!c.covers(9, 0b000, 1) && !c.covers(9, 0b001, 2));
        c.finished(9, 0b000, 2);
        assert!(c.covers(9, 0b000, 2) && c.more.is_empty());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn digests_are_deterministic_and_tell_values_apart() {
        assert_eq!(digest_of(&(1u32, "a")), digest_of(&(1u32, "a")));
        assert_ne!(digest_of(&(1u32, "a")), digest_of(&(2u32, "a")));
        assert_ne!(chain(0, &1u8), chain(0, &2u8));
        assert_ne!(chain(chain(0, &1u8), &2u8), chain(chain(0, &2u8), &1u8));
        assert_ne!(digest_of(&[1u8, 2][..]), digest_of(&(&[1u8][..], [2u8])));
    }
}

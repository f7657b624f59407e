//! A schedule fuzzer for any [shuttle](https://docs.rs/shuttle) test.
//!
//! The engine knows nothing about the code it runs. A *test* is any `Fn()` that uses shuttle's
//! primitives (`shuttle::thread`, `shuttle::sync`, …) and panics when it finds a bug; a
//! *schedule* is a byte string that decides, at each point where two or more tasks could run,
//! which one does. The same bytes always give the same interleaving.
//!
//! * [`ByteScheduler`] turns bytes into decisions (stay-or-switch, with a fair fallback when the
//!   bytes run out); [`run_once`] runs a test under it and classifies the [`Outcome`]: the test's
//!   own panic, a deadlock, a step-bound overrun, or an error of shuttle or the engine, which is
//!   never to be mistaken for a bug in the code under test.
//! * [`run_batch`] runs many (input, schedule) pairs in one shuttle runner, for fuzzing
//!   throughput; [`run_with_scheduler`] runs a test under any shuttle scheduler, and
//!   [`Recording`] keeps that scheduler's decisions.
//! * Every engine scheduler is a [`Strategy`] (shuttle's `Scheduler`, with each scheduling point
//!   handed over as a [`Point`]) made a scheduler by [`Scheduled`]. [`Observe`] wraps any
//!   shuttle scheduler and shows each of its choices to an [`Observer`] (a closure will do);
//!   [`Recording`] and [`Checked`] are such wrappers.
//! * [`Explorer`] enumerates every schedule with at most `K` preemptions (iterative context
//!   bounding), and hands back a failing one as bytes for `run_once`
//!   ([`decisions_to_bytes`]); [`Explorer::run_deepening`] raises `K` from 0 under a time and
//!   execution budget, with progress reports, and says how far it got when a budget runs out.
//!   [`Explorer::reduction`] prunes schedules that only reorder independent steps (sleep sets,
//!   sound under the bound), and [`Explorer::coverage`] counts equivalence classes.
//! * [`Fuzzer`] is a feedback-driven search for a failing schedule: a bandit over strategies
//!   (random walks, PCT, partial order sampling, mutation of corpus schedules), rewarded for new
//!   interleaving features (reads-from and write-write pairs of [`access`] annotations, or where
//!   one task was cut by another); a failing schedule comes back as bytes for `run_once`.
//! * [`run_checked`] replays bytes under [`Checked`], which reports a test that does not repeat
//!   a recorded execution as an engine error.
//! * [`quiet_panics`] keeps panics inside engine runs off stderr.
//! * [`point`] is a scheduling point for code whose shared state shuttle cannot see (plain memory
//!   behind an `UnsafeCell`, a model's fields): call it before each access.
//! * [`access`] annotates the running step with the shared object it reads or writes (and
//!   [`local`] says it touches none): recorded in an [`AccessLog`] when a consumer turned
//!   [`record`]ing on, for partial-order reduction and interleaving feedback. A step with no
//!   annotation, or with [`unknown`], conflicts with every other.
//! * [`sleep`] and [`wake`] block and wake a task without a hidden scheduling point (shuttle's
//!   channels and condition variables begin their wake-ups with one).
//!
//! # Example: a lost update
//!
//! Two threads increment a counter with a separate load and store. Schedule bytes that preempt
//! the first thread between its load and its store lose an update; an [`Explorer`] finds such a
//! schedule with one preemption, and proves that a mutex closes the race.
//!
//! ```
//! use std::sync::Arc;
//! use shuttle::sync::{Mutex, atomic::{AtomicUsize, Ordering}};
//! use swapfuzz::engine::{EngineConfig, Exploration, Explorer, Outcome, run_once};
//!
//! fn racy() {
//!     let counter = Arc::new(AtomicUsize::new(0));
//!     let threads: Vec<_> = (0..2)
//!         .map(|_| {
//!             let counter = Arc::clone(&counter);
//!             shuttle::thread::spawn(move || {
//!                 let seen = counter.load(Ordering::SeqCst);
//!                 counter.store(seen + 1, Ordering::SeqCst);
//!             })
//!         })
//!         .collect();
//!     threads.into_iter().for_each(|t| t.join().unwrap());
//!     assert!(counter.load(Ordering::SeqCst) == 2, "lost update");
//! }
//!
//! fn locked() {
//!     let counter = Arc::new(Mutex::new(0));
//!     let threads: Vec<_> = (0..2)
//!         .map(|_| {
//!             let counter = Arc::clone(&counter);
//!             shuttle::thread::spawn(move || *counter.lock().unwrap() += 1)
//!         })
//!         .collect();
//!     threads.into_iter().for_each(|t| t.join().unwrap());
//!     assert!(*counter.lock().unwrap() == 2, "lost update");
//! }
//!
//! swapfuzz::engine::quiet_panics();
//! let cfg = EngineConfig::default();
//! // All 0xFF: never preempt; both increments land.
//! assert_eq!(run_once(&[0xFF; 16], &cfg, racy).outcome, Outcome::Pass);
//!
//! // One preemption suffices, and the explorer returns bytes that replay it.
//! let Exploration::Failed(found) = Explorer::new().preemptions(1).run(racy) else { panic!() };
//! assert_eq!(found.execution.outcome, Outcome::Panic("lost update".into()));
//! assert_eq!(found.execution.decisions.iter().filter(|d| d.preemption).count(), 1);
//! let replay = run_once(&found.schedule, &cfg, racy);
//! assert_eq!(replay.outcome, found.execution.outcome);
//! assert_eq!(replay.decisions.iter().map(|d| d.task).collect::<Vec<_>>(),
//!            found.execution.decisions.iter().map(|d| d.task).collect::<Vec<_>>());
//!
//! // With the mutex, no schedule with up to 2 preemptions fails.
//! let proof = Explorer::new().preemptions(2).run(locked);
//! assert!(matches!(proof, Exploration::Exhausted { .. }));
//! ```
//!
//! # Determinism
//!
//! An execution depends only on the bytes as long as the test does: it must use shuttle's
//! primitives (never `std::thread` or `std::sync` inside), `shuttle::thread_local!` rather than
//! `std`'s, no `HashMap` iteration order, no time, and no state left over from earlier
//! executions in process-wide statics. `shuttle::rand` draws from a fixed generator.

mod access;
mod batch;
mod byte_scheduler;
mod checked;
mod decision;
mod deepening;
mod explore;
pub mod fuzzer;
mod observe;
mod quiet;
mod recorder;
mod reduction;
mod run;
mod search;
#[cfg(test)]
pub(crate) use search::audit;
pub mod state;
mod strategy;
mod wait;

pub use access::{
    Access, AccessLog, Step, access, finishes_quietly, local, record, recording, unknown,
};
pub use batch::{BatchFailure, BatchResult, run_batch};
pub use byte_scheduler::{ByteScheduler, ByteStrategy, STAY_THRESHOLD};
pub use checked::{CheckDecisions, Checked};
pub use decision::{Decision, DecisionLog, Point, decisions_to_bytes};
pub use deepening::{Budget, Deepening, DeepeningProgress, estimate_schedules};
pub use explore::{Counterexample, Exploration, Explorer};
pub use fuzzer::{
    Arm, FeatureSource, FuzzFailure, FuzzStats, Fuzzer, Fuzzing, Inputs, MAP_SIZE, NoInput,
    Progress, Rng, run_with_features,
};
pub use observe::{Observe, Observer};
pub use quiet::{in_engine_run, quiet_panics, silence_shuttle};
pub use recorder::{RecordDecisions, Recording};
pub use run::{
    EngineConfig, Execution, Outcome, payload_text, run_checked, run_once, run_with_scheduler,
};
pub use search::Coverage;
pub use strategy::{Scheduled, Strategy};
pub use wait::{TaskId, current_task, sleep, wake};

/// A neutral scheduling point for code under test: lets the engine switch tasks here, without
/// the yield hint that `shuttle::thread::yield_now` gives.
///
/// Shuttle switches only at its own operations; call this before each access to shared state
/// that shuttle cannot see. Must be called inside a shuttle execution.
#[inline]
pub fn point() {
    if search::quiet_tail() {
        return;
    }
    shuttle_engine::runtime::thread::switch();
}

//! Running many (input, schedule) pairs inside one `Runner::run`, for throughput.
//!
//! `Runner::run` consumes its runner, and the pool of coroutine stacks lives only inside that
//! call, so a fresh runner per execution pays for mapping and unmapping every task stack. A batch
//! reuses one runner: its scheduler's `new_execution` pulls the next pair, publishes the input in
//! a thread-local slot that the test closure reads (every shuttle task runs on the runner's OS
//! thread), and resets the byte decisions.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::byte_scheduler::ByteScheduler;
use super::decision::Decision;
use super::run::{EngineConfig, Outcome, run_with_scheduler};

thread_local! {
    /// The input of the execution that is running on this OS thread.
    static CURRENT_INPUT: RefCell<Option<Arc<dyn Any + Send + Sync>>> = const { RefCell::new(None) };
}

/// What a batch did.
#[derive(Debug)]
pub struct BatchResult {
    /// Executions started, including a failing one.
    pub executions: usize,
    /// The first failing execution, which ended the batch.
    pub failure: Option<BatchFailure>,
}

/// The execution that ended a batch.
#[derive(Debug)]
pub struct BatchFailure {
    /// Its position in the input iterator (0 = the first pair).
    pub index: usize,
    /// How it failed.
    pub outcome: Outcome,
    /// Its decisions: re-run the pair with [`run_checked`](super::run_checked) for the panic
    /// payload, checked against them.
    pub decisions: Vec<Decision>,
}

/// Runs `test` on each input under its schedule bytes, all inside one `Runner::run`, until the
/// inputs run out or an execution fails.
///
/// Each execution is the same as [`run_once`](super::run_once) with that input's bytes would
/// run. The iterator and the test move to a fresh OS thread if the calling one is poisoned (see
/// `run_once`), hence `Send + 'static`.
///
/// ```
/// use swapfuzz::engine::{EngineConfig, run_batch};
/// let inputs = (0..10u32).map(|n| (n, vec![0x00; 8]));
/// let result = run_batch(inputs, &EngineConfig::default(), |n: &u32| assert!(*n < 7));
/// assert_eq!(result.failure.map(|f| f.index), Some(7));
/// ```
pub fn run_batch<I, F>(
    inputs: impl Iterator<Item = (I, Vec<u8>)> + Send + 'static,
    cfg: &EngineConfig,
    test: F,
) -> BatchResult
where
    I: Send + Sync + 'static,
    F: Fn(&I) + Send + Sync + 'static,
{
    let started = Arc::new(AtomicUsize::new(0));
    // Each execution's bytes, its input published first.
    let mut inputs = inputs;
    let counter = Arc::clone(&started);
    let executions = std::iter::from_fn(move || {
        let Some((input, bytes)) = inputs.next() else {
            CURRENT_INPUT.set(None);
            return None;
        };
        CURRENT_INPUT.set(Some(Arc::new(input)));
        counter.fetch_add(1, Ordering::Relaxed);
        Some(bytes)
    });
    let scheduler = ByteScheduler::each(executions, cfg.quantum);
    let log = scheduler.log();
    let (outcome, _) = run_with_scheduler(scheduler, cfg, move || {
        let input = CURRENT_INPUT
            .with_borrow(Clone::clone)
            .expect("swapfuzz engine: no batch input published");
        let input = input
            .downcast_ref::<I>()
            .expect("swapfuzz engine: batch input type");
        test(input);
    });
    // The run's OS thread was this one, or a fresh one that is gone with its slot.
    CURRENT_INPUT.set(None);
    let executions = started.load(Ordering::Relaxed);
    let failure = match outcome {
        Outcome::Pass => None,
        outcome => Some(BatchFailure {
            index: executions.saturating_sub(1),
            outcome,
            decisions: std::mem::take(&mut log.lock().expect("decision log").decisions),
        }),
    };
    BatchResult {
        executions,
        failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::run_once;
    use shuttle::sync::atomic::{AtomicUsize, Ordering};
    use shuttle::thread;

    /// Two threads add their input to a counter with a racy load/store.
    fn racy_add(n: &usize) {
        let c = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let c = Arc::clone(&c);
                let n = *n;
                thread::spawn(move || {
                    let v = c.load(Ordering::SeqCst);
                    c.store(v + n, Ordering::SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.load(Ordering::SeqCst), 2 * n, "lost update");
    }

    #[test]
    fn batch_stops_at_the_first_failure_and_run_once_agrees() {
        let schedules: Vec<Vec<u8>> = (0..64u32)
            .map(|i| (0..8).map(|k| (i * 31 + k * 71) as u8).collect())
            .collect();
        let expected = schedules
            .iter()
            .position(|s| {
                run_once(s, &EngineConfig::default(), || racy_add(&3))
                    .outcome
                    .is_failure()
            })
            .expect("some schedule loses an update");
        let inputs = schedules.clone().into_iter().map(|s| (3usize, s));
        let result = run_batch(inputs, &EngineConfig::default(), racy_add);
        let failure = result.failure.expect("the batch fails");
        assert_eq!(failure.index, expected);
        let again = run_once(&schedules[expected], &EngineConfig::default(), || {
            racy_add(&3)
        });
        assert_eq!(failure.decisions, again.decisions);
        assert_eq!(result.executions, expected + 1);
        assert!(matches!(failure.outcome, Outcome::Panic(ref m) if m.contains("lost update")));
    }

    #[test]
    fn batch_runs_every_input_when_all_pass() {
        let inputs = (0..50usize).map(|n| (n, vec![0xFF; 16]));
        let result = run_batch(inputs, &EngineConfig::default(), racy_add);
        assert_eq!(result.executions, 50);
        assert!(result.failure.is_none());
    }
}

//! [`Checked`]: a decorator that checks that a scheduler repeats a recorded execution, so that a
//! nondeterministic test shows up as an engine error rather than as a bug that does not replay.

use shuttle::scheduler::{Scheduler, TaskId};

use super::decision::{Decision, Point};
use super::observe::{Observe, Observer};
use super::run::ENGINE_PANIC_PREFIX;
use super::strategy::Scheduled;

/// Wraps `S` and checks each execution it runs against `expected`, the decisions of an earlier
/// execution: at each decision the runnable set, the task that ran before it and the choice
/// must be the recorded ones, and an execution must make neither more decisions nor fewer
/// (fewer is noticed when it ends without failing). A mismatch panics with the engine's prefix,
/// which the runners report as an [`Outcome::EngineError`](super::Outcome::EngineError).
///
/// Replaying schedule bytes under it ([`run_checked`](super::run_checked)) re-checks a failure
/// found in a batch or by another strategy: a deterministic test repeats it decision for
/// decision.
///
/// ```
/// use swapfuzz::engine::{EngineConfig, Outcome, point, run_checked, run_once};
/// swapfuzz::engine::quiet_panics();
/// let cfg = EngineConfig::default();
/// // Main and a spawned thread: which goes first at the points is a decision.
/// let test = || {
///     let t = shuttle::thread::spawn(point);
///     point();
///     t.join().unwrap();
/// };
/// let first = run_once(&[0x00], &cfg, test);
/// assert_eq!(run_checked(&[0x00], &first.decisions, &cfg, test).outcome, Outcome::Pass);
/// // Other bytes make another choice: reported as the engine's error, not as a pass.
/// let other = run_checked(&[0xFF], &first.decisions, &cfg, test);
/// assert!(matches!(other.outcome, Outcome::EngineError(_)));
/// ```
pub type Checked<S> = Scheduled<Observe<S, CheckDecisions>>;

/// The [`Observer`] of [`Checked`]: compares each execution with the recorded one.
#[derive(Debug)]
pub struct CheckDecisions {
    expected: Vec<Decision>,
    /// Decisions made so far in the running execution.
    next: usize,
    started: bool,
}

impl<S: Scheduler> Checked<S> {
    /// Checks that every execution of `inner` makes the decisions `expected`.
    pub fn new(inner: S, expected: Vec<Decision>) -> Self {
        let check = CheckDecisions {
            expected,
            next: 0,
            started: false,
        };
        Observe::wrap(inner, check)
    }
}

impl Observer for CheckDecisions {
    fn new_execution(&mut self) {
        if std::mem::replace(&mut self.started, true) && self.next != self.expected.len() {
            // Panics out of `Runner::run`, into the runner's `catch_unwind`.
            panic!(
                "{ENGINE_PANIC_PREFIX} nondeterministic test: a replay made {} decisions, the \
                 recorded execution {}",
                self.next,
                self.expected.len()
            );
        }
        self.next = 0;
    }

    fn chose(&mut self, point: &Point<'_>, choice: Option<TaskId>) {
        if point.runnable.len() < 2 {
            return;
        }
        let Some(d) = self.expected.get(self.next) else {
            panic!(
                "{ENGINE_PANIC_PREFIX} nondeterministic test: a replay made more than the {} \
                 decisions of the recorded execution",
                self.expected.len()
            );
        };
        let current = point.current;
        let same = d.runnable == point.mask()
            && d.runnable_count == point.runnable.len()
            && d.previous == current.map(usize::from)
            && choice.map(usize::from) == Some(d.task);
        if !same {
            panic!(
                "{ENGINE_PANIC_PREFIX} nondeterministic test: decision {} saw {} runnable tasks \
                 {:#x} after {:?} and chose {:?}, the recorded execution saw {} tasks {:#x} \
                 after {:?} and chose {} (runnable tasks from id 64 on not shown)",
                self.next,
                point.runnable.len(),
                point.mask(),
                current.map(usize::from),
                choice.map(usize::from),
                d.runnable_count,
                d.runnable,
                d.previous,
                d.task
            );
        }
        self.next += 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{EngineConfig, Outcome, run_checked, run_once};

    /// Main and a spawned thread, with decisions between them.
    fn one_decision() {
        let t = shuttle::thread::spawn(crate::engine::point);
        crate::engine::point();
        t.join().unwrap();
    }

    fn engine_error(outcome: &Outcome) -> &str {
        match outcome {
            Outcome::EngineError(m) if m.contains("nondeterministic test") => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_replay_repeats_its_recording_and_anything_else_is_an_engine_error() {
        crate::engine::quiet_panics();
        let cfg = EngineConfig::default();
        let first = run_once(&[0x00], &cfg, one_decision);
        let n = first.decisions.len();
        assert!(n > 0);
        let same = run_checked(&[0x00], &first.decisions, &cfg, one_decision);
        assert_eq!(same.outcome, Outcome::Pass);
        assert_eq!(same.decisions, first.decisions);
        // Another choice.
        let other = run_checked(&[0xFF], &first.decisions, &cfg, one_decision);
        assert!(engine_error(&other.outcome).contains("chose"));
        // More decisions than recorded.
        let more = run_checked(&[0x00], &[], &cfg, one_decision);
        assert!(engine_error(&more.outcome).contains("more than the 0"));
        // Fewer: noticed when the execution ends.
        let twice = [first.decisions.clone(), first.decisions].concat();
        let fewer = run_checked(&[0x00], &twice, &cfg, one_decision);
        let made = format!("made {n} decisions, the recorded execution {}", 2 * n);
        assert!(engine_error(&fewer.outcome).contains(&made));
    }
}

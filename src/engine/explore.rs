//! Bounded exhaustive exploration: iterative context bounding (see [`Explorer`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::decision::Decision;
use super::deepening::{Budget, Deepening, DeepeningProgress, estimate_schedules};
use super::run::{EngineConfig, Execution};
use super::search::{Accept, Coverage, Hook, Search, Test, lock, walk};
use super::state::StateCache;

/// How an exploration ended.
#[derive(Debug)]
pub enum Exploration {
    /// An execution failed (see [`Outcome`](super::Outcome); a nondeterministic test shows up as
    /// an `EngineError`).
    Failed(Counterexample),
    /// Every schedule within the preemption bound passed.
    Exhausted {
        /// How many executions that took (the number of such schedules).
        executions: usize,
    },
    /// [`Explorer::max_executions`] or the time budget ([`Explorer::deadline`],
    /// [`Explorer::time`]) ran out first.
    Truncated {
        /// How many executions passed.
        executions: usize,
    },
}

/// A failing execution found by an [`Explorer`].
#[derive(Debug)]
pub struct Counterexample {
    /// The failing execution.
    pub execution: Execution,
    /// Schedule bytes that make [`run_once`](super::run_once) repeat it.
    pub schedule: Vec<u8>,
    /// How many executions ran, this one included.
    pub executions: usize,
}

/// Progress reports ([`Explorer::progress`]).
type Report = Arc<Mutex<dyn FnMut(&DeepeningProgress) + Send>>;

/// Runs a test under every schedule with at most `K` preemptions, until one fails: bounded
/// exhaustive exploration, configured builder-style (after loom's `Builder`).
///
/// Musuvathi and Qadeer, "Iterative Context Bounding for Systematic Testing of Multithreaded
/// Programs" (PLDI 2007): most concurrency bugs need only a few *preemptions* (switching away
/// from a task that could have gone on running), and the schedules with at most `K` preemptions
/// are few enough to enumerate, even though all schedules are not.
///
/// At each decision (two or more runnable tasks) the *default* choice is non-preemptive: stay on
/// the current task if it is runnable and has not yielded, else the first runnable task after it
/// in cyclic `TaskId` order. The alternatives are
/// * while the current task could stay: every other runnable task, each costing one preemption;
/// * otherwise (the current task blocked, finished or yielded): every other candidate, free. A
///   yield always switches: the yielding task is not a candidate, so spin loops make progress.
///
/// The search is a depth-first walk of the tree of choices, one execution per leaf. Each execution
/// replays the choices on the path to its leaf and takes defaults after it; backtracking moves the
/// deepest node with an affordable untried alternative to it and cuts the path there. Each
/// schedule with at most `K` preemptions is thus run exactly once (given a deterministic test:
/// a decision that differs from the recorded path is reported as an
/// [`Outcome::EngineError`](super::Outcome::EngineError)).
///
/// With [`reduction`](Self::reduction), schedules that differ only in the order of independent
/// steps (by the test's [access annotations](super::access)) are not all run: sleep sets, with
/// a rule that keeps them sound under the bound (`src/engine/reduction.rs` has the argument).
/// [`coverage`](Self::coverage) then says how many schedules ran and how many equivalence
/// classes they covered; `preemptions(usize::MAX)` searches every schedule, without a bound.
///
/// [`run`](Self::run) searches bound `K` ([`preemptions`](Self::preemptions)) and says how it
/// ended ([`Exploration`]); [`run_deepening`](Self::run_deepening) searches bounds 0, 1, …, `K`
/// in turn, so that a failure is reported with the fewest preemptions that show it, and says how
/// far it got ([`Deepening`]).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use shuttle::sync::atomic::{AtomicUsize, Ordering};
/// use swapfuzz::engine::{Deepening, Exploration, Explorer};
///
/// fn racy() {
///     let counter = Arc::new(AtomicUsize::new(0));
///     let other = Arc::clone(&counter);
///     let t = shuttle::thread::spawn(move || {
///         let seen = other.load(Ordering::SeqCst);
///         other.store(seen + 1, Ordering::SeqCst);
///     });
///     let seen = counter.load(Ordering::SeqCst);
///     counter.store(seen + 1, Ordering::SeqCst);
///     t.join().unwrap();
///     assert!(counter.load(Ordering::SeqCst) == 2, "lost update");
/// }
///
/// swapfuzz::engine::quiet_panics();
/// // Without preemptions every schedule passes; there are few of them.
/// let none = Explorer::new().preemptions(0).run(racy);
/// assert!(matches!(none, Exploration::Exhausted { executions } if executions < 10));
/// // Bounds 0, 1, 2 in turn, within budgets: the race needs one preemption.
/// let found = Explorer::new()
///     .preemptions(2)
///     .max_executions(10_000)
///     .time(Duration::from_secs(60))
///     .progress(Duration::from_secs(1), |p| assert!(p.k <= 1))
///     .run_deepening(racy);
/// assert!(matches!(found, Deepening::Failed { k: 1, .. }));
/// ```
pub struct Explorer {
    preemptions: usize,
    max_executions: Option<usize>,
    deadline: Option<Instant>,
    time: Option<Duration>,
    cfg: EngineConfig,
    accept: Accept,
    progress: Option<(Duration, Report)>,
    next_bound_when_truncated: bool,
    reduction: bool,
    cache_states: bool,
    count_classes: bool,
    coverage: Arc<Mutex<Vec<Coverage>>>,
}

impl std::fmt::Debug for Explorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explorer")
            .field("preemptions", &self.preemptions)
            .field("max_executions", &self.max_executions)
            .field("deadline", &self.deadline)
            .field("time", &self.time)
            .field("cfg", &self.cfg)
            .field("progress", &self.progress.as_ref().map(|(every, _)| every))
            .field("next_bound_when_truncated", &self.next_bound_when_truncated)
            .field("reduction", &self.reduction)
            .field("cache_states", &self.cache_states)
            .field("count_classes", &self.count_classes)
            .finish_non_exhaustive()
    }
}

impl Default for Explorer {
    fn default() -> Self {
        Self::new()
    }
}

impl Explorer {
    /// A search of the schedules with at most 2 preemptions, without limits, with
    /// [`EngineConfig::default`], that stops at the first failure.
    pub fn new() -> Self {
        Explorer {
            preemptions: 2,
            max_executions: None,
            deadline: None,
            time: None,
            cfg: EngineConfig::default(),
            accept: Arc::new(Mutex::new(|_: &Execution| true)),
            progress: None,
            next_bound_when_truncated: false,
            reduction: false,
            cache_states: false,
            count_classes: false,
            coverage: Arc::default(),
        }
    }

    /// Sleep-set partial-order reduction (off by default): schedules that differ only in the
    /// order of independent steps, by the [access annotations](super::access) of the test, are
    /// not all run; at least one of every equivalence class with at most `K` preemptions is
    /// (the argument, and what makes a step independent, are in `src/engine/reduction.rs`).
    /// A test without annotations gets no reduction. `preemptions(usize::MAX)` searches every
    /// schedule (no bound): use [`run`](Self::run) then, not `run_deepening`.
    pub fn reduction(mut self, on: bool) -> Self {
        self.reduction = on;
        self
    }

    /// State caching (off by default; see [`state`](super::state)): a decision whose state
    /// (the test's [digest](super::state::provide), the runnable tasks and the current task) was
    /// explored before, with no more tasks asleep and no fewer preemptions left, is not explored
    /// again. Sound only for a test whose digest determines its future; a test that provides no
    /// digest gets no caching. With [`reduction`](Self::reduction) too, the sleep sets are part
    /// of the comparison.
    pub fn cache_states(mut self, on: bool) -> Self {
        self.cache_states = on;
        self
    }

    /// Counts the equivalence classes (traces) the executions cover, for [`coverage`](Self::coverage).
    pub fn count_classes(mut self, on: bool) -> Self {
        self.count_classes = on;
        self
    }

    /// What the last [`run`](Self::run) or [`run_deepening`](Self::run_deepening) covered, one
    /// entry per bound searched (in order).
    pub fn coverage(&self) -> Vec<Coverage> {
        lock(&self.coverage).clone()
    }

    /// The preemption bound `K` ([`run`](Self::run)), or the last bound searched
    /// ([`run_deepening`](Self::run_deepening)).
    pub fn preemptions(mut self, k: usize) -> Self {
        self.preemptions = k;
        self
    }

    /// Stop after this many executions (at each bound, when deepening; `None`: no limit).
    pub fn max_executions(mut self, n: impl Into<Option<usize>>) -> Self {
        self.max_executions = n.into();
        self
    }

    /// Start no execution after this instant (`None`: no limit). Checked between executions,
    /// so a search stops at most one execution after it.
    pub fn deadline(mut self, t: impl Into<Option<Instant>>) -> Self {
        self.deadline = t.into();
        self
    }

    /// Wall-clock budget of the whole search, from the start of a run (`None`: no limit; with a
    /// [`deadline`](Self::deadline) too, the earlier ends the search).
    pub fn time(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.time = t.into();
        self
    }

    /// The engine configuration (its `quantum` is unused: exploration has no fallback).
    pub fn config(mut self, cfg: &EngineConfig) -> Self {
        self.cfg = cfg.clone();
        self
    }

    /// A failing execution that `accept` rejects does not end the search: it counts as explored
    /// and the walk goes on (e.g. to find a schedule that fails *in a given way*, for
    /// minimisation). The search returns the first accepted failure. Runs on the search's
    /// thread, between executions.
    pub fn accept(mut self, accept: impl FnMut(&Execution) -> bool + Send + 'static) -> Self {
        self.accept = Arc::new(Mutex::new(accept));
        self
    }

    /// Calls `progress` about every `interval` while executions run, and once at the start of
    /// each bound. It runs on the search's thread, between executions.
    pub fn progress(
        mut self,
        interval: Duration,
        progress: impl FnMut(&DeepeningProgress) + Send + 'static,
    ) -> Self {
        self.progress = Some((interval, Arc::new(Mutex::new(progress))));
        self
    }

    /// When deepening and [`max_executions`](Self::max_executions) runs out at a bound, go on to
    /// the next bound instead of stopping (for a search that wants a schedule with few
    /// preemptions, not a proof: minimisation).
    pub fn next_bound_when_truncated(mut self, next: bool) -> Self {
        self.next_bound_when_truncated = next;
        self
    }

    /// Searches the schedules with at most `K` preemptions, until an accepted failure, every
    /// schedule has run, or a limit runs out.
    pub fn run<F>(&self, test: F) -> Exploration
    where
        F: Fn() + Send + Sync + 'static,
    {
        let start = Instant::now();
        let test: Test = Arc::new(test);
        lock(&self.coverage).clear();
        self.bound(self.preemptions, start, &[], test, false, &mut None)
            .0
    }

    /// Iterative context bounding with budgets: [`run`](Self::run) at bounds 0, 1, …, `K`,
    /// until an accepted failure (reported at the fewest preemptions that show it), every bound
    /// is exhausted, or a budget runs out (then how far it got).
    pub fn run_deepening<F>(&self, test: F) -> Deepening
    where
        F: Fn() + Send + Sync + 'static,
    {
        let start = Instant::now();
        let deadline = self.deadline_from(start);
        let test: Test = Arc::new(test);
        lock(&self.coverage).clear();
        let mut completed: Vec<usize> = Vec::new();
        // With state caching, each bound starts from the states the bounds before it explored
        // (see `state`, "The search": an entry holds at any bound).
        let mut states = None;
        for k in 0..=self.preemptions {
            let estimate_at_k = estimate_schedules(&completed, k);
            let (found, _) =
                self.bound(k, start, &completed, Arc::clone(&test), false, &mut states);
            match found {
                Exploration::Exhausted { executions } => completed.push(executions),
                Exploration::Failed(counterexample) => {
                    return Deepening::Failed {
                        k,
                        counterexample,
                        completed,
                    };
                }
                Exploration::Truncated { executions } => {
                    let by = if deadline.is_some_and(|d| Instant::now() >= d) {
                        Budget::Time
                    } else {
                        Budget::Executions
                    };
                    if by == Budget::Executions
                        && self.next_bound_when_truncated
                        && k < self.preemptions
                    {
                        completed.push(executions);
                        continue;
                    }
                    return Deepening::Stopped {
                        by,
                        k,
                        executions_at_k: executions,
                        completed,
                        estimate_at_k,
                    };
                }
            }
        }
        Deepening::Exhausted { completed }
    }

    /// The earlier of the deadline and the end of the time budget of a run started at `start`.
    fn deadline_from(&self, start: Instant) -> Option<Instant> {
        let budget = self.time.map(|t| start + t);
        match (self.deadline, budget) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Searches bound `k` of a run started at `start`, after the bounds `completed`, with
    /// progress reports; with `keep_visited`, also returns the decisions of every passing
    /// execution. With state caching, the search starts from the explored states in `states`
    /// (if any), and leaves there those it ends with.
    fn bound(
        &self,
        k: usize,
        start: Instant,
        completed: &[usize],
        test: Test,
        keep_visited: bool,
        states: &mut Option<StateCache>,
    ) -> (Exploration, Vec<Vec<Decision>>) {
        let hook = match &self.progress {
            None => Hook::default(),
            Some((interval, progress)) => {
                let before: usize = completed.iter().sum();
                let estimate_at_k = estimate_schedules(completed, k);
                let report = {
                    let completed = completed.to_vec();
                    let max_preemptions = self.preemptions;
                    move |executions_at_k: usize| DeepeningProgress {
                        k,
                        max_preemptions,
                        executions_at_k,
                        executions: before + executions_at_k,
                        completed: completed.clone(),
                        elapsed: start.elapsed(),
                        estimate_at_k,
                    }
                };
                (lock(progress))(&report(0));
                let progress = Arc::clone(progress);
                let interval = *interval;
                let mut last = Instant::now();
                Hook(Some(Box::new(move |executions_at_k: usize| {
                    if last.elapsed() >= interval {
                        last = Instant::now();
                        (lock(&progress))(&report(executions_at_k));
                    }
                })))
            }
        };
        let search = Search::new(
            k,
            self.max_executions,
            self.deadline_from(start),
            hook,
            keep_visited,
        )
        .reduction(self.reduction, self.count_classes)
        .cache_states(self.cache_states)
        .explored_states(states.take());
        let (exploration, visited, coverage, explored) =
            walk(search, &self.cfg, test, Arc::clone(&self.accept));
        *states = explored;
        lock(&self.coverage).push(coverage);
        (exploration, visited)
    }
}

#[cfg(test)]
#[path = "explore_tests.rs"]
mod tests;

//! Bounded exhaustive exploration: iterative context bounding (see [`Explorer`]).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};

use super::byte_scheduler::splitmix64;
use super::decision::{Decision, DecisionLog, Point, decisions_to_bytes};
use super::run::{ENGINE_PANIC_PREFIX, EngineConfig, Execution, on_clean_thread, run_runner};

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

/// One decision on the current path of the search.
#[derive(Debug)]
struct Node {
    /// The runnable set and current task seen here ([`Point::fingerprint`]), to check that a
    /// replay is faithful, and their summary for the message if it is not.
    fingerprint: u64,
    runnable: u64,
    current: Option<usize>,
    /// The candidates, default first.
    choices: Vec<TaskId>,
    /// Whether taking any but the default is a preemption.
    preemptive: bool,
    /// Index of the choice this path takes.
    taken: usize,
    /// Preemptions taken on the path before this node.
    preemptions_before: usize,
}

impl Node {
    fn costs(&self) -> usize {
        usize::from(self.preemptive && self.taken > 0)
    }
}

/// Called with the number of executions started, at the start of each.
#[derive(Default)]
struct Hook(Option<Box<dyn FnMut(usize) + Send>>);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Hook(..)"
        } else {
            "Hook(None)"
        })
    }
}

/// The search state, shared by the scheduler and the search loop.
#[derive(Debug, Default)]
struct Search {
    max_preemptions: usize,
    max_executions: Option<usize>,
    deadline: Option<Instant>,
    on_execution: Hook,
    path: Vec<Node>,
    /// Decisions made so far in the running execution.
    depth: usize,
    /// Preemptions taken so far in the running execution.
    preemptions: usize,
    executions: usize,
    exhausted: bool,
    log: DecisionLog,
    rng: u64,
    /// Whether to keep every execution's decisions in `visited` (for tests).
    keep_visited: bool,
    visited: Vec<Vec<Decision>>,
}

impl Search {
    /// Moves the path to the next schedule; false if there is none.
    fn backtrack(&mut self) -> bool {
        while let Some(node) = self.path.last_mut() {
            let affordable = !node.preemptive || node.preemptions_before < self.max_preemptions;
            if node.taken + 1 < node.choices.len() && affordable {
                node.taken += 1;
                return true;
            }
            self.path.pop();
        }
        false
    }

    fn choose(&mut self, runnable: &[&Task], current: Option<TaskId>, yielding: bool) -> TaskId {
        let step = self.log.steps;
        self.log.steps += 1;
        if runnable.len() == 1 {
            return runnable[0].id();
        }
        let point = Point::new(runnable, current, yielding);
        if self.depth == self.path.len() {
            let (choices, preemptive) = candidates(&point);
            self.path.push(Node {
                fingerprint: point.fingerprint(),
                runnable: point.mask(),
                current: current.map(usize::from),
                choices,
                preemptive,
                taken: 0,
                preemptions_before: self.preemptions,
            });
        }
        let node = &self.path[self.depth];
        if node.fingerprint != point.fingerprint() {
            panic!(
                "{ENGINE_PANIC_PREFIX} nondeterministic test: decision {} saw {} runnable tasks {:#x} after {:?}, \
                 an earlier execution saw {:#x} after {:?} (runnable tasks from id 64 on not shown)",
                self.depth,
                point.runnable.len(),
                point.mask(),
                current,
                node.runnable,
                node.current
            );
        }
        let task = node.choices[node.taken];
        self.preemptions += node.costs();
        self.depth += 1;
        self.log.decisions.push(point.decision(step, task, false));
        task
    }
}

/// The choices at a decision, default first, and whether the alternatives are preemptions.
fn candidates(point: &Point) -> (Vec<TaskId>, bool) {
    let ids = point.runnable.iter().map(|t| t.id());
    if point.can_stay() {
        let current = point.current.expect("a task that can stay is current");
        let others = ids.filter(|&id| id != current);
        (std::iter::once(current).chain(others).collect(), true)
    } else {
        let mut choices: Vec<TaskId> = ids.filter(|&id| Some(id) != point.current).collect();
        let first = point.next_after_current();
        let start = choices
            .iter()
            .position(|&id| id == first)
            .unwrap_or_default();
        choices.rotate_left(start);
        (choices, false)
    }
}

/// The scheduler side of the search.
struct ExploreScheduler(Arc<Mutex<Search>>);

impl ExploreScheduler {
    fn search(&self) -> MutexGuard<'_, Search> {
        lock(&self.0)
    }
}

impl Scheduler for ExploreScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        let mut s = self.search();
        if s.keep_visited && s.executions > 0 {
            let decisions = s.log.decisions.clone();
            s.visited.push(decisions);
        }
        if s.depth < s.path.len() {
            // Panics out of `Runner::run`, into the runner's `catch_unwind`.
            panic!(
                "{ENGINE_PANIC_PREFIX} nondeterministic test: execution {} made {} decisions, an earlier one more",
                s.executions, s.depth
            );
        }
        if s.executions > 0 && !s.backtrack() {
            s.exhausted = true;
            return None;
        }
        if s.max_executions.is_some_and(|max| s.executions >= max)
            || s.deadline.is_some_and(|d| Instant::now() >= d)
        {
            return None;
        }
        s.executions += 1;
        let started = s.executions;
        if let Some(hook) = s.on_execution.0.as_mut() {
            hook(started);
        }
        s.depth = 0;
        s.preemptions = 0;
        s.rng = 0;
        s.log.clear();
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        yielding: bool,
    ) -> Option<TaskId> {
        Some(self.search().choose(runnable, current, yielding))
    }

    fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.search().rng)
    }
}

/// Locks the search state, also after a scheduler panic (a nondeterministic test) poisoned it.
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Decides whether a failing execution ends the search ([`Explorer::accept`]).
type Accept = Arc<Mutex<dyn FnMut(&Execution) -> bool + Send>>;
/// Progress reports ([`Explorer::progress`]).
type Report = Arc<Mutex<dyn FnMut(&DeepeningProgress) + Send>>;
/// A test, shared by the runners of a search.
type Test = Arc<dyn Fn() + Send + Sync>;

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
        }
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
        self.bound(self.preemptions, start, &[], test, false).0
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
        let mut completed: Vec<usize> = Vec::new();
        for k in 0..=self.preemptions {
            let estimate_at_k = estimate_schedules(&completed, k);
            let (found, _) = self.bound(k, start, &completed, Arc::clone(&test), false);
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
    /// execution.
    fn bound(
        &self,
        k: usize,
        start: Instant,
        completed: &[usize],
        test: Test,
        keep_visited: bool,
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
        let search = Search {
            max_preemptions: k,
            max_executions: self.max_executions,
            deadline: self.deadline_from(start),
            on_execution: hook,
            keep_visited,
            ..Search::default()
        };
        walk(search, &self.cfg, test, Arc::clone(&self.accept))
    }
}

/// Runs the search `search` to its end: an accepted failure, exhaustion or a limit.
fn walk(
    search: Search,
    cfg: &EngineConfig,
    test: Test,
    accept: Accept,
) -> (Exploration, Vec<Vec<Decision>>) {
    let cfg = cfg.clone();
    // The whole walk on one clean OS thread, whose panic state is checked after each failure.
    on_clean_thread(move || {
        let search = Arc::new(Mutex::new(search));
        loop {
            // One runner per stretch of passing executions: a failure ends `Runner::run`, and a
            // rejected one resumes the walk with a new runner over the same search state.
            let test = Arc::clone(&test);
            let scheduler = ExploreScheduler(Arc::clone(&search));
            let (outcome, payload) = run_runner(scheduler, &cfg, move || test());
            let mut search = lock(&search);
            let executions = search.executions;
            let exploration = match (outcome, payload) {
                (outcome, payload) if outcome.is_failure() => {
                    let log = std::mem::take(&mut search.log);
                    let execution = Execution {
                        decisions: log.decisions,
                        steps: log.steps,
                        outcome,
                        payload,
                    };
                    if !(lock(&accept))(&execution) && !std::thread::panicking() {
                        let limit = search.max_executions.is_some_and(|max| executions >= max)
                            || search.deadline.is_some_and(|d| Instant::now() >= d);
                        if !limit {
                            continue;
                        }
                        Exploration::Truncated { executions }
                    } else {
                        Exploration::Failed(Counterexample {
                            schedule: decisions_to_bytes(&execution.decisions),
                            execution,
                            executions,
                        })
                    }
                }
                _ if search.exhausted => Exploration::Exhausted { executions },
                _ => Exploration::Truncated { executions },
            };
            let visited = std::mem::take(&mut search.visited);
            return (exploration, visited);
        }
    })
}

/// Where an iterative-deepening search stands, for progress displays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeepeningProgress {
    /// The preemption bound being searched.
    pub k: usize,
    /// The last bound to search.
    pub max_preemptions: usize,
    /// Executions so far at bound `k` (each a distinct schedule with at most `k` preemptions).
    pub executions_at_k: usize,
    /// Executions so far at all bounds.
    pub executions: usize,
    /// Schedules at each finished bound `0..k` (all passed or were rejected; with
    /// [`Explorer::next_bound_when_truncated`], some bounds may be unfinished).
    pub completed: Vec<usize>,
    /// Time since the start.
    pub elapsed: Duration,
    /// A rough estimate of the schedules at bound `k` (see [`estimate_schedules`]).
    pub estimate_at_k: Option<usize>,
}

/// Which budget stopped a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// [`Explorer::time`] or [`Explorer::deadline`].
    Time,
    /// [`Explorer::max_executions`].
    Executions,
}

/// How an iterative-deepening search ended.
#[derive(Debug)]
pub enum Deepening {
    /// An accepted failure, at the smallest bound `k` that shows one.
    Failed {
        /// The bound.
        k: usize,
        /// The failure (its `executions` count those at bound `k`).
        counterexample: Counterexample,
        /// Schedules at each finished bound `0..k`.
        completed: Vec<usize>,
    },
    /// Every schedule with at most `max_preemptions` preemptions ran (`completed[k]`: how many
    /// with at most `k`).
    Exhausted {
        /// Schedules at each bound `0..=max_preemptions`.
        completed: Vec<usize>,
    },
    /// A budget ran out during bound `k`: bounds `0..k` are finished, `k` is not.
    Stopped {
        /// The budget.
        by: Budget,
        /// The unfinished bound.
        k: usize,
        /// Schedules run at bound `k` (all passed or were rejected).
        executions_at_k: usize,
        /// Schedules at each finished bound `0..k`.
        completed: Vec<usize>,
        /// A rough estimate of all the schedules at bound `k`.
        estimate_at_k: Option<usize>,
    },
}

/// A rough estimate of the number of schedules with at most `k` preemptions, from the counts
/// at the bounds below it (`completed[i]`: at most `i`), or `None` below `k = 2`.
///
/// The schedules with exactly `i` preemptions grow from one bound to the next by a factor that
/// shrinks about like `1/i` (choosing `i` of the preemption points); the estimate extrapolates
/// the last factor that way. On the swap model's three scenarios it is within 30% at `k = 2`
/// and `k = 3`: a guide to the order of magnitude, not a bound.
pub fn estimate_schedules(completed: &[usize], k: usize) -> Option<usize> {
    if k < 2 || completed.len() < k {
        return None;
    }
    let exactly = |i: usize| completed[i] - if i > 0 { completed[i - 1] } else { 0 };
    let (before, last) = (exactly(k - 2), exactly(k - 1));
    if before == 0 {
        return None;
    }
    let factor = last as f64 / before as f64 * (k - 1) as f64 / k as f64;
    Some(completed[k - 1] + (last as f64 * factor) as usize)
}

#[cfg(test)]
#[path = "explore_tests.rs"]
mod tests;

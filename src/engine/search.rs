//! The depth-first search behind an [`Explorer`](super::Explorer): the path of decisions, the
//! scheduler that replays it and takes defaults past its end, and the walk that runs executions
//! until the path has no untried alternative left.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use shuttle::scheduler::{Schedule, TaskId};

use super::access;
use super::byte_scheduler::splitmix64;
use super::decision::{Decision, DecisionLog, Point, decisions_to_bytes};
use super::explore::{Counterexample, Exploration};
use super::reduction::{Classes, Sleeper, Trace};
use super::run::{
    ENGINE_PANIC_PREFIX, EngineConfig, Execution, on_clean_thread, run_with_scheduler,
};
use super::state::{self, StateCache};
use super::strategy::{Scheduled, Strategy};

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
    /// The scheduling point of this decision (its index among all points of the execution).
    point: usize,
    /// The sleep set on entering this node (with reduction; see `reduction.rs`).
    sleep: Vec<Sleeper>,
    /// The first steps of the choices explored here before `taken`.
    done: Vec<Sleeper>,
    /// The state here (with state caching, when the test gave a digest).
    state: Option<u128>,
}

impl Node {
    fn costs(&self) -> usize {
        usize::from(self.preemptive && self.taken > 0)
    }

    fn asleep(&self, choice: usize) -> bool {
        let task = usize::from(self.choices[choice]);
        self.sleep.iter().any(|z| z.task == task)
    }

    /// The first choice from `from` on that is awake and within `max_preemptions`.
    fn next_choice(&self, from: usize, max_preemptions: usize) -> Option<usize> {
        let affordable = !self.preemptive || self.preemptions_before < max_preemptions;
        (from..self.choices.len()).find(|&i| (i == 0 || affordable) && !self.asleep(i))
    }

    /// Whether the explored choice `d` may sleep in the subtree of the taken choice: it may
    /// without a bound, and with one when postponing it past the taken choice costs no
    /// preemption (`A <= 0` in `reduction.rs`).
    fn admits(&self, d: &Sleeper, max_preemptions: usize) -> bool {
        if max_preemptions == usize::MAX || naive::on() {
            return true;
        }
        let cost = |choice: usize| usize::from(self.preemptive && choice > 0);
        cost(d.choice) + usize::from(d.stays) <= cost(self.taken)
    }
}

/// Called with the number of executions started, at the start of each.
#[derive(Default)]
pub(super) struct Hook(pub(super) Option<Box<dyn FnMut(usize) + Send>>);

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
pub(super) struct Search {
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
    /// Sleep-set reduction on.
    reduce: bool,
    /// The steps of the running execution (with reduction or class counting).
    trace: Option<Trace>,
    /// Distinct traces of the executions run to their end (with class counting).
    classes: Option<Classes>,
    /// The running execution was stopped as sleep-set blocked.
    stopped: bool,
    /// Executions stopped as sleep-set blocked.
    blocked: usize,
    /// Explored states (with state caching).
    states: Option<StateCache>,
    /// The running execution met a state explored before, or is sleep-set blocked: it runs on
    /// with default choices and no new node (stopping it would leak its tasks' stacks: shuttle
    /// leaks the stacks of a stopped execution's unfinished tasks).
    covered: bool,
    /// The point from which the running execution's steps are new: the steps begun before it
    /// replay the last execution's, whose footprints the trace kept (their annotations are not
    /// recorded again: [`access::pause`]).
    replayed: usize,
    /// The running execution skips its scheduling points since it was covered ([`quiet_tail`]).
    quiet: bool,
    /// The last execution failed after it began skipping points: run its path again with every
    /// point, for a faithful record of the failing schedule.
    retry: bool,
    /// The running execution is such a run again.
    faithful: bool,
    /// The runs' bound on scheduling points ([`EngineConfig::max_steps`]).
    max_steps: usize,
    /// For tests ([`from_scratch`](super::reduction::from_scratch)): the running execution's
    /// trace recorded from its first step, to compare with `trace`, which keeps the steps the
    /// execution shares with the last one.
    #[cfg(test)]
    shadow: Option<Trace>,
    /// For tests ([`audit`]): the decision (state, task) of the running execution whose
    /// successor is not yet known.
    #[cfg(test)]
    audit_pending: Option<(u128, usize)>,
}

/// What an exploration covered ([`Explorer::coverage`](super::Explorer::coverage)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Executions started (schedules run, sleep-set-blocked ones included).
    pub executions: usize,
    /// Executions stopped early because every continuation was covered (sleep-set blocked).
    pub blocked: usize,
    /// Distinct equivalence classes (Mazurkiewicz traces, under the steps' annotations) among
    /// the executions that ran to their end, if counted (with state caching, only those of the
    /// executions that ran: a skipped state's classes are not counted again).
    pub classes: Option<usize>,
    /// With state caching: executions stopped at a state explored before (among `executions`),
    /// and the states recorded.
    pub states: Option<(usize, usize)>,
}

impl Search {
    /// A search of the schedules with at most `max_preemptions` preemptions, within the limits,
    /// calling `on_execution` as each execution starts; `keep_visited` keeps every execution's
    /// decisions.
    pub(super) fn new(
        max_preemptions: usize,
        max_executions: Option<usize>,
        deadline: Option<Instant>,
        on_execution: Hook,
        keep_visited: bool,
    ) -> Self {
        Search {
            max_preemptions,
            max_executions,
            deadline,
            on_execution,
            keep_visited,
            ..Search::default()
        }
    }

    /// Turns on sleep-set reduction and/or the count of equivalence classes (both need the
    /// steps' annotations: the walk records them).
    pub(super) fn reduction(mut self, reduce: bool, count_classes: bool) -> Self {
        self.reduce = reduce;
        if reduce || count_classes {
            self.trace = Some(Trace::default());
        }
        if count_classes {
            self.classes = Some(Classes::default());
        }
        self
    }

    /// What the search covered so far.
    pub(super) fn coverage(&self) -> Coverage {
        Coverage {
            executions: self.executions,
            blocked: self.blocked,
            classes: self.classes.as_ref().map(Classes::len),
            states: self.states.as_ref().map(|c| (c.matched, c.len())),
        }
    }

    /// Turns on state caching (see [`state`](super::state)).
    pub(super) fn cache_states(mut self, on: bool) -> Self {
        self.states = on.then(StateCache::default);
        self
    }

    /// With state caching on, starts from the states `explored` by an earlier search of the
    /// same test at another preemption bound (an entry holds at any bound: the search below a
    /// node depends on the bound only through the preemptions left there). Its count of
    /// matches starts again from zero.
    pub(super) fn explored_states(mut self, explored: Option<StateCache>) -> Self {
        if let (Some(states), Some(mut explored)) = (self.states.as_mut(), explored) {
            explored.matched = 0;
            *states = explored;
        }
        self
    }

    /// The preemptions a node with `before` taken on its path has left.
    fn left(&self, before: usize) -> usize {
        if self.max_preemptions == usize::MAX {
            usize::MAX
        } else {
            self.max_preemptions - before
        }
    }

    fn records(&self) -> bool {
        self.trace.is_some()
    }

    /// At scheduling point `step`: the trace's [`Trace::point`] (and the test shadow's).
    fn trace_point(&mut self, step: usize, point: &Point<'_>, chosen: Option<usize>) {
        if let Some(trace) = self.trace.as_mut() {
            trace.point(step, point, chosen);
        }
        #[cfg(test)]
        if let Some(shadow) = self.shadow.as_mut() {
            shadow.point(step, point, chosen);
        }
    }

    /// Ends the last execution's trace and counts its class (not for a stopped one).
    fn end_execution(&mut self) {
        #[cfg(test)]
        if let (Some(mut shadow), Some(trace)) = (self.shadow.take(), self.trace.as_mut()) {
            shadow.finish();
            trace.finish();
            trace.assert_same(&shadow);
        }
        if let Some(trace) = self.trace.as_mut() {
            trace.finish();
            if !self.stopped
                && let Some(classes) = self.classes.as_mut()
            {
                classes.add(trace);
            }
        }
    }

    /// Moves the path to the next schedule; false if there is none.
    fn backtrack(&mut self) -> bool {
        let max = self.max_preemptions;
        while let Some(node) = self.path.last_mut() {
            if self.reduce
                && let Some(done) = self
                    .trace
                    .as_ref()
                    .and_then(|t| t.sleeper(node.point, node.taken))
            {
                node.done.push(done);
            }
            if let Some(next) = node.next_choice(node.taken + 1, max) {
                node.taken = next;
                return true;
            }
            let node = self.path.pop().expect("a last node");
            let left = self.left(node.preemptions_before);
            if let (Some(cache), Some(st)) = (self.states.as_mut(), node.state) {
                cache.finished(st, asleep_mask(&node.sleep), left);
            }
        }
        false
    }

    /// The sleep set of a new node at point `point`: the parent's entries and its admitted
    /// explored choices, less those dependent on a step since the parent.
    fn sleep_set(&self, point: usize) -> Vec<Sleeper> {
        let (Some(parent), Some(trace)) = (self.path.last(), self.trace.as_ref()) else {
            return Vec::new();
        };
        debug_assert_eq!(trace.len(), point);
        let admitted = parent
            .done
            .iter()
            .filter(|d| parent.admits(d, self.max_preemptions));
        parent
            .sleep
            .iter()
            .chain(admitted)
            .filter(|z| trace.independent_from(z, parent.point))
            .cloned()
            .collect()
    }

    fn choose(&mut self, point: &Point<'_>) -> Option<TaskId> {
        let chosen = self.decide(point);
        let step = self.log.steps - 1;
        if step == self.replayed && !self.quiet {
            // The step begun here is new: its annotations are recorded.
            access::pause(false);
        }
        self.trace_point(step, point, chosen.map(usize::from));
        chosen
    }

    /// Every continuation of the running execution is covered (its state was explored, or it
    /// is sleep-set blocked): it runs on by default choices. Those are to stay on the running
    /// task wherever it can, so, unless this is a faithful run again or an audit, its later
    /// [`point`](super::point)s are skipped ([`quiet_tail`]: the task runs on, as the default
    /// choice would make it) and its steps are not annotated (the trace is cut back before them
    /// when the next execution starts); shuttle's own switches (a task that blocks or ends)
    /// still come to [`decide`](Self::decide), which takes the default.
    ///
    /// The step bound counts scheduling points, skipped or not: a covered run that would reach
    /// it (a task that spins) stops at that many skipped points as a failure, which is then run
    /// again with every point (see [`walk`]), so that its verdict is the bound's.
    fn cover(&mut self) {
        self.covered = true;
        // The points this run may still take before the bound (shuttle counts every decision,
        // as `log.steps` does).
        let left = self.max_steps.saturating_sub(self.log.steps);
        if !self.faithful && !audit::on() && left > 1 {
            self.quiet = true;
            QUIET.with(|q| q.set(left));
            access::pause(true);
        }
    }

    fn decide(&mut self, point: &Point<'_>) -> Option<TaskId> {
        let step = self.log.steps;
        self.log.steps += 1;
        let (runnable, current) = (point.runnable, point.current);
        if runnable.len() == 1 {
            return Some(runnable[0].id());
        }
        if self.covered {
            return Some(self.default_choice(step, point));
        }
        if self.depth == self.path.len() {
            let (choices, preemptive) = candidates(point);
            let sleep = if self.reduce {
                // The step that ended here is part of the path since the parent.
                self.trace_point(step, point, None);
                self.sleep_set(step)
            } else {
                Vec::new()
            };
            let state = self.states.as_ref().and_then(|_| {
                let digest = state::digest()?;
                Some(state::chain(
                    digest,
                    &(point.fingerprint(), point.mask(), point.can_stay()),
                ))
            });
            let left = self.left(self.preemptions);
            if let (Some(cache), Some(st)) = (self.states.as_mut(), state)
                && !audit::on()
                && cache.covers(st, asleep_mask(&sleep), left)
            {
                // Every continuation from here was explored from the same state: this one is
                // not counted, and runs to its end by defaults.
                if !self.faithful {
                    cache.matched += 1;
                }
                self.stopped = true;
                self.cover();
                return Some(self.default_choice(step, point));
            }
            let mut node = Node {
                fingerprint: point.fingerprint(),
                runnable: point.mask(),
                current: current.map(usize::from),
                choices,
                preemptive,
                taken: 0,
                preemptions_before: self.preemptions,
                point: step,
                sleep,
                done: Vec::new(),
                state,
            };
            match node.next_choice(0, self.max_preemptions) {
                Some(first) => node.taken = first,
                None => {
                    // Sleep-set blocked: every continuation is covered. It runs on by defaults,
                    // uncounted (a stop would leak its tasks' stacks).
                    self.stopped = true;
                    self.blocked += usize::from(!self.faithful);
                    self.cover();
                    return Some(self.default_choice(step, point));
                }
            }
            self.path.push(node);
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
        #[cfg(test)]
        {
            let state = node.state;
            self.audit_to(state.map(audit::Next::State));
            // Not after a choice of task 0 (see `audit`).
            self.audit_pending = state
                .filter(|_| usize::from(task) != 0)
                .map(|st| (st, usize::from(task)));
        }
        self.depth += 1;
        self.log.decisions.push(point.decision(step, task, false));
        Some(task)
    }
}

/// The tasks of a sleep set, as a mask (a sleep set holds one entry per task, below 64: the
/// reduction makes every step unknown past task 63).
fn asleep_mask(sleep: &[Sleeper]) -> u64 {
    sleep.iter().fold(0, |m, z| m | (1u64 << z.task))
}

impl Search {
    /// The default choice at a decision ([`default_task`]), logged.
    fn default_choice(&mut self, step: usize, point: &Point<'_>) -> TaskId {
        let task = default_task(point);
        self.log.decisions.push(point.decision(step, task, false));
        task
    }
}

/// The default (non-preemptive) choice at a decision: stay on the current task if it can, else
/// the first runnable task after it in cyclic order.
fn default_task(point: &Point) -> TaskId {
    if point.can_stay() {
        point.current.expect("a task that can stay is current")
    } else {
        point.next_after_current()
    }
}

/// The choices at a decision, default first, and whether the alternatives are preemptions.
fn candidates(point: &Point) -> (Vec<TaskId>, bool) {
    let ids = point.runnable.iter().map(|t| t.id());
    let first = default_task(point);
    if point.can_stay() {
        let others = ids.filter(|&id| id != first);
        (std::iter::once(first).chain(others).collect(), true)
    } else {
        let mut choices: Vec<TaskId> = ids.filter(|&id| Some(id) != point.current).collect();
        let start = choices
            .iter()
            .position(|&id| id == first)
            .unwrap_or_default();
        choices.rotate_left(start);
        (choices, false)
    }
}

/// The scheduler side of the search.
struct Walker(Arc<Mutex<Search>>);

impl Walker {
    fn search(&self) -> MutexGuard<'_, Search> {
        lock(&self.0)
    }
}

impl Strategy for Walker {
    fn new_execution(&mut self) -> Option<Schedule> {
        let mut s = self.search();
        s.faithful = std::mem::take(&mut s.retry);
        s.quiet = false;
        QUIET.with(|q| q.set(0));
        if s.faithful {
            // The same path again: the failing execution's nodes are the path's last ones.
            s.begin_execution();
            return Some(Schedule::new(0));
        }
        if s.keep_visited && s.executions > 0 {
            let decisions = s.log.decisions.clone();
            s.visited.push(decisions);
        }
        if s.executions > 0 {
            s.end_execution();
            // A failed execution's end was recorded by the walk.
            #[cfg(test)]
            s.audit_to(Some(audit::Next::End(0)));
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
        s.begin_execution();
        Some(Schedule::new(0))
    }

    fn next_task(&mut self, point: &Point<'_>) -> Option<TaskId> {
        self.search().choose(point)
    }

    fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.search().rng)
    }
}

impl Search {
    /// Resets the per-execution state for an execution that replays the path.
    fn begin_execution(&mut self) {
        let s = self;
        s.depth = 0;
        s.preemptions = 0;
        s.rng = 0;
        state::clear();
        s.log.clear();
        s.stopped = false;
        s.covered = false;
        // The execution replays the path up to its last node, whose choice changed: the
        // steps begun before that node's point are the last execution's.
        let kept = s.path.last().map_or(0, |n| n.point);
        if let Some(trace) = s.trace.as_mut() {
            trace.truncate(kept);
        }
        if let Some(classes) = s.classes.as_mut() {
            classes.truncate(kept);
        }
        #[cfg(test)]
        if s.trace.is_some() && super::reduction::from_scratch::on() {
            s.shadow = Some(Trace::default());
        }
        // Its annotations until that point are not needed (the test's shadow trace, which is
        // recorded from the first step, needs them all).
        s.replayed = kept;
        #[cfg(test)]
        let from_scratch = s.shadow.is_some();
        #[cfg(not(test))]
        let from_scratch = false;
        access::pause(kept > 0 && s.trace.is_some() && !from_scratch);
    }
}

/// Locks the search state, also after a scheduler panic (a nondeterministic test) poisoned it.
pub(super) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Decides whether a failing execution ends the search
/// ([`Explorer::accept`](super::Explorer::accept)).
pub(super) type Accept = Arc<Mutex<dyn FnMut(&Execution) -> bool + Send>>;
/// A test, shared by the runners of a search.
pub(super) type Test = Arc<dyn Fn() + Send + Sync>;

/// Runs the search `search` to its end: an accepted failure, exhaustion or a limit.
pub(super) fn walk(
    search: Search,
    cfg: &EngineConfig,
    test: Test,
    accept: Accept,
) -> (
    Exploration,
    Vec<Vec<Decision>>,
    Coverage,
    Option<StateCache>,
) {
    let cfg = cfg.clone();
    // The whole walk on one clean OS thread, whose panic state is checked after each failure.
    on_clean_thread(move || {
        let mut search = search;
        search.max_steps = cfg.max_steps;
        let records = search.records();
        let caching = search.states.is_some();
        state::set_wanted(caching);
        let was_recording = access::recording();
        access::record(was_recording || records);
        let search = Arc::new(Mutex::new(search));
        let result = loop {
            // One runner per stretch of passing executions: a failure ends `Runner::run`, and a
            // rejected one resumes the walk with a new runner over the same search state.
            let test = Arc::clone(&test);
            let scheduler = Scheduled(Walker(Arc::clone(&search)));
            let (outcome, payload) = run_with_scheduler(scheduler, &cfg, move || test());
            let mut search = lock(&search);
            let executions = search.executions;
            let exploration = match (outcome, payload) {
                (outcome, _)
                    if outcome.is_failure() && search.quiet && !std::thread::panicking() =>
                {
                    // A failure after the walk stopped marking points (which a sound cache
                    // and reduction rule out: the failure would have been found where the
                    // execution's continuations were explored); its decision log misses the
                    // skipped points, so the same path runs again with all of them.
                    search.retry = true;
                    continue;
                }
                (outcome, payload) if outcome.is_failure() => {
                    #[cfg(test)]
                    search.audit_to(Some(audit::Next::End(audit::failure(&outcome, &payload))));
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
            break (
                exploration,
                visited,
                search.coverage(),
                search.states.take(),
            );
        };
        access::pause(false);
        QUIET.with(|q| q.set(0));
        access::record(was_recording);
        state::set_wanted(false);
        state::clear();
        result
    })
}

#[cfg(test)]
impl Search {
    /// Audit ([`audit`]): the pending decision of the running execution led to `to` (`None`:
    /// a point with no digest, nothing to check).
    fn audit_to(&mut self, to: Option<audit::Next>) {
        if let (Some(from), Some(to)) = (self.audit_pending.take(), to)
            && audit::on()
        {
            audit::record(from, to);
        }
    }
}

/// For tests of a test's state digest (`verify --cache-states`): with the audit on, a search
/// with state caching prunes nothing and checks, across all its executions, that the digest
/// at a decision and the task chosen there determine the digest at the next decision (or how
/// the execution ends: passes, or fails with which bug). A digest that merges two states
/// whose futures differ under a choice both explore breaks this at the first step where they
/// do; that is every merge the cache could exploit at the same preemption bound.
///
/// A decision that chooses task 0, the test's main task, is not checked: the swap model's
/// harness (`check::run`) leaves out of its digest where the main task is among its joins of
/// the CPUs' threads (it runs no model step after the set-up; two states that differ there
/// differ only by a scheduling point of the main task, never by what a CPU does, as the
/// audit found on thp-exit: 490 of 566,914 transitions met again at K = 1).
#[cfg(test)]
pub(crate) mod audit {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    /// What follows a decision.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Next {
        /// The state at the next decision.
        State(u128),
        /// The end of the execution: 0 a pass, else a digest of the failure.
        End(u128),
    }

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
        static SEEN: RefCell<HashMap<(u128, usize), Next>> = RefCell::default();
        static CHECKED: Cell<usize> = const { Cell::new(0) };
        static BROKEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn on() -> bool {
        ON.with(Cell::get)
    }

    /// Turns the audit on (clearing what it saw) or off.
    pub(crate) fn set(on: bool) {
        ON.with(|c| c.set(on));
        SEEN.with_borrow_mut(HashMap::clear);
        CHECKED.set(0);
        BROKEN.with_borrow_mut(Vec::clear);
        FAILURE.set(None);
    }

    pub(super) fn record(from: (u128, usize), to: Next) {
        SEEN.with_borrow_mut(|seen| match seen.get(&from) {
            None => {
                seen.insert(from, to);
            }
            Some(&before) => {
                CHECKED.set(CHECKED.get() + 1);
                if before != to {
                    BROKEN.with_borrow_mut(|b| {
                        b.push(format!(
                            "state {:#x}, task {}: {before:?} once, {to:?} now",
                            from.0, from.1
                        ))
                    });
                }
            }
        });
    }

    /// How the test names a failure's payload for the audit (e.g. its bug without step
    /// numbers), where the outcome's text would tell apart failures that are the same.
    pub(crate) type FailureDigest = fn(&(dyn std::any::Any + Send)) -> Option<u128>;

    thread_local! {
        static FAILURE: Cell<Option<FailureDigest>> = const { Cell::new(None) };
    }

    /// Names failures by `f` (the engine knows no test's payload types) until [`set`] is
    /// called again.
    pub(crate) fn name_failures(f: FailureDigest) {
        FAILURE.set(Some(f));
    }

    /// A failure's digest: the test's name for its payload, or the outcome (never 0).
    pub(super) fn failure(
        outcome: &crate::engine::Outcome,
        payload: &Option<Box<dyn std::any::Any + Send>>,
    ) -> u128 {
        let named = FAILURE
            .get()
            .zip(payload.as_deref())
            .and_then(|(f, p)| f(p));
        named.unwrap_or_else(|| super::state::digest_of(&format!("{outcome:?}"))) | 1
    }

    /// The transitions met again (checked) and those that differed.
    pub(crate) fn result() -> (usize, Vec<String>) {
        (CHECKED.get(), BROKEN.with_borrow(Vec::clone))
    }
}

#[cfg(not(test))]
mod audit {
    pub(super) fn on() -> bool {
        false
    }
}

/// For a test that shows why the admission rule is needed: admit every explored choice, as
/// sleep sets without a bound do (unsound under a bound).
#[cfg(test)]
pub(super) mod naive {
    use std::cell::Cell;
    thread_local!(static ON: Cell<bool> = const { Cell::new(false) });
    pub(in crate::engine) fn on() -> bool {
        ON.with(Cell::get)
    }
    pub(in crate::engine) fn set(on: bool) {
        ON.with(|c| c.set(on));
    }
}
#[cfg(not(test))]
mod naive {
    pub(super) fn on() -> bool {
        false
    }
}

thread_local! {
    /// While the explorer's running execution is covered and skips its scheduling points
    /// ([`Search::cover`]): how many more it may take before the step bound (0: not skipping).
    static QUIET: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether [`point`](super::point) is skipped: the explorer's running execution is covered, and
/// its tasks run on as its default choices would have them (see [`Search::cover`]). At the step
/// bound it fails the run instead (the walk runs it again with every point).
#[inline]
pub(super) fn quiet_tail() -> bool {
    QUIET.with(|q| match q.get() {
        0 => false,
        1 => {
            q.set(0);
            covered_run_at_the_step_bound()
        }
        left => {
            q.set(left - 1);
            true
        }
    })
}

/// Ends a covered run at the step bound (out of line: [`quiet_tail`] is inlined into every
/// [`point`](super::point)).
#[cold]
#[inline(never)]
fn covered_run_at_the_step_bound() -> ! {
    panic!(
        "{ENGINE_PANIC_PREFIX} a covered run reached the step bound with its points skipped (it \
         is run again with every point)"
    )
}

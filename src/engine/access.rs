//! Access annotations: code under test says which shared object a step reads or writes, so the
//! engine can tell steps that commute from steps that do not.
//!
//! A *step* of a task is what it runs from one scheduling point to its next. Code under test
//! calls [`access`] during a step, once per shared object it touches (an object is any `u64` the
//! test picks: an address, a field's index, a hash of a name). Consumers in the engine — the
//! partial-order reduction of the explorer and the interleaving features of the search — read
//! the annotations of each step from an [`AccessLog`] after the step ran. Nothing is recorded
//! unless a consumer turned recording on ([`record`]), and recording allocates nothing once the
//! log has grown to the size of an execution.
//!
//! A step that annotated nothing is *unknown* and conflicts with every step: that is the sound
//! fallback for tests (or parts of tests, such as shuttle's own primitives) that give no
//! annotations. A step that truly touches no shared state says so with [`local`].
//!
//! ```
//! use swapfuzz::engine::{Access, AccessLog, EngineConfig, access, point, record, run_once};
//!
//! record(true);
//! run_once(&[0x00; 8], &EngineConfig::default(), || {
//!     let t = shuttle::thread::spawn(|| {
//!         point();
//!         access(1, Access::Write); // this step writes object 1
//!     });
//!     point();
//!     access(1, Access::Read); // this one reads it
//!     t.join().unwrap();
//! });
//! let steps = AccessLog::with(|log| log.steps().filter(|s| !s.is_unknown()).count());
//! assert_eq!(steps, 2);
//! record(false);
//! ```

use std::cell::{Cell, RefCell};

/// What a step does to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Reads it.
    Read,
    /// Writes it (or reads and writes it).
    Write,
}

impl Access {
    /// Whether two accesses to the same object conflict: at least one writes.
    pub fn conflicts(self, other: Access) -> bool {
        self == Access::Write || other == Access::Write
    }
}

/// The object [`local`] records: a step that touches nothing shared.
const LOCAL: u64 = u64::MAX;

/// The object [`unknown`] records: the step conflicts with every step, whatever else it says.
const ALL: u64 = u64::MAX - 1;

/// The object [`finishes_quietly`] records.
const FINISH: u64 = u64::MAX - 2;

/// One annotation, with the task of the step it belongs to (so that a pass over every access
/// of an execution needs no step boundaries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Annotation {
    object: u64,
    task: u32,
    access: Access,
}

/// One step of an execution: the scheduling point that began it, the task that ran it, and
/// where its annotations begin in [`AccessLog`]'s annotations (they end where the next step's
/// begin, or at the end: an annotation always belongs to the last step begun).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StepRecord {
    point: u32,
    task: u32,
    start: u32,
}

/// The annotations of one execution, step by step (see the module documentation).
#[derive(Debug, Default)]
pub struct AccessLog {
    steps: Vec<StepRecord>,
    annotations: Vec<Annotation>,
    /// Scheduling points seen in this execution.
    points: u32,
    /// The task of the last step begun.
    task: u32,
    /// A new execution was announced: clear at its first scheduling point (shuttle asks for a
    /// new execution once more after the last, which must not clear the last one's log).
    stale: bool,
}

/// One step's annotations, as [`AccessLog::steps`] gives them.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// Index of the scheduling point that began the step among all points of the execution
    /// (the `step` of a [`Decision`](super::Decision) made there).
    pub point: usize,
    /// The task that ran it (`usize` of its `TaskId`).
    pub task: usize,
    annotations: &'a [Annotation],
}

impl Step<'_> {
    /// No annotation, or [`unknown`]: the step conflicts with every step.
    pub fn is_unknown(&self) -> bool {
        self.annotations.is_empty() || self.annotations.iter().any(|a| a.object == ALL)
    }

    /// The (object, access) pairs, [`local`]'s, [`unknown`]'s and [`finishes_quietly`]'s
    /// markers left out.
    pub fn accesses(&self) -> impl Iterator<Item = (u64, Access)> + '_ {
        self.annotations
            .iter()
            .filter(|a| is_object(a.object))
            .map(|a| (a.object, a.access))
    }

    /// Whether the step declared [`finishes_quietly`].
    pub fn finishes_quietly(&self) -> bool {
        self.annotations.iter().any(|a| a.object == FINISH)
    }

    /// Whether the two steps may not commute: either is unknown, or both touch one object and
    /// one of them writes it. Steps of one task always conflict (program order).
    pub fn conflicts(&self, other: &Step<'_>) -> bool {
        if self.task == other.task || self.is_unknown() || other.is_unknown() {
            return true;
        }
        self.accesses()
            .any(|(o, a)| other.accesses().any(|(p, b)| o == p && a.conflicts(b)))
    }
}

/// Not one of [`local`]'s, [`unknown`]'s and [`finishes_quietly`]'s markers (the three
/// largest `u64`s).
#[inline(always)]
fn is_object(object: u64) -> bool {
    const _: () = assert!(FINISH < ALL && ALL < LOCAL && LOCAL == u64::MAX && ALL == FINISH + 1);
    object < FINISH
}

/// [`RECORDING`]'s bit: a consumer wants the annotations of this OS thread's executions.
const ON: u8 = 1;
/// [`RECORDING`]'s bit: the running step's annotations are not needed ([`pause`]).
const PAUSED: u8 = 2;

thread_local! {
    /// [`ON`] and [`PAUSED`]; annotations are recorded when it is exactly `ON`.
    static RECORDING: Cell<u8> = const { Cell::new(0) };
    static NESTING: Cell<u32> = const { Cell::new(0) };
    static LOG: RefCell<AccessLog> = const { RefCell::new(AccessLog::new()) };
}

/// Turns recording on or off for executions on this OS thread (off by default). Engine runs
/// that need annotations turn it on; [`access`] costs a thread-local read when it is off.
pub fn record(on: bool) {
    RECORDING.with(|r| r.set(if on { r.get() | ON } else { r.get() & !ON }));
}

/// Whether annotations are being recorded on this OS thread (for the running step: code under
/// test may skip the work of computing them when they are not).
#[inline]
pub fn recording() -> bool {
    RECORDING.with(Cell::get) == ON
}

/// Whether scheduling points are being marked in the log: recording is on, paused or not (a
/// paused step is still a step, begun at its point, with no annotation).
#[inline]
pub(super) fn marks_points() -> bool {
    RECORDING.with(Cell::get) & ON != 0
}

/// Pauses or resumes recording (the explorer's: the steps of an execution that it replays up to
/// the node it backtracked to, whose footprints it kept from the execution that first ran
/// them, and the steps after a covered decision, which it does not use). While paused,
/// [`recording`] is false, so code under test need not compute its annotations, and the steps
/// begun are recorded without any (as unknown ones).
pub(super) fn pause(paused: bool) {
    RECORDING.with(|r| {
        r.set(if paused {
            r.get() | PAUSED
        } else {
            r.get() & !PAUSED
        })
    });
}

/// Annotates the running step: it does `kind` to `object`. Call it inside a shuttle execution,
/// after the scheduling point that begins the step ([`point`](super::point) or a shuttle
/// operation) and before the next.
#[inline]
pub fn access(object: u64, kind: Access) {
    if recording() {
        annotate(object, kind);
    }
}

/// Annotates the running step as touching no shared state (it then commutes with every step of
/// other tasks).
#[inline]
pub fn local() {
    if recording() {
        annotate(LOCAL, Access::Read);
    }
}

/// Makes the running step *unknown* (dependent on every step) whatever else it annotates: for
/// code that runs inside a step someone else annotated and cannot say what it touches (an
/// annotation describes the whole step, from its scheduling point to the next).
#[inline]
pub fn unknown() {
    if recording() {
        annotate(ALL, Access::Write);
    }
}

/// Declares that the running task finishes at the end of this step (it returns before its
/// next scheduling point) and that its finish is observed only by steps that annotate nothing,
/// such as a `join` in unannotated code: the partial-order reduction may then treat the step as
/// its annotations say, where it otherwise makes a step after which its task has stopped
/// unknown. A task that does not finish there, or whose finish an annotated step observes
/// (joins it), breaks the promise as a wrong annotation does.
#[inline]
pub fn finishes_quietly() {
    if recording() {
        annotate(FINISH, Access::Write);
    }
}

/// Records one annotation (the hot path while recording: a push, no per-step bookkeeping; one
/// call, not inlined into every annotating site).
#[inline(never)]
fn annotate(object: u64, access: Access) {
    LOG.with(|log| {
        let mut log = log.borrow_mut();
        log.refresh();
        let task = log.task;
        log.annotations.push(Annotation {
            object,
            task,
            access,
        });
    });
}

impl AccessLog {
    const fn new() -> Self {
        AccessLog {
            steps: Vec::new(),
            annotations: Vec::new(),
            points: 0,
            task: 0,
            stale: false,
        }
    }

    /// Runs `f` on this OS thread's log (of the running or the last execution).
    pub fn with<R>(f: impl FnOnce(&AccessLog) -> R) -> R {
        LOG.with(|log| f(&log.borrow()))
    }

    /// The steps of the execution, in the order they ran.
    pub fn steps(&self) -> impl Iterator<Item = Step<'_>> + '_ {
        (0..self.steps.len()).map(|i| self.step_of(i))
    }

    /// The step begun at scheduling point `point`, if it was recorded.
    pub fn step_at(&self, point: usize) -> Option<Step<'_>> {
        let i = self
            .steps
            .binary_search_by_key(&(point as u32), |s| s.point)
            .ok()?;
        Some(self.step_of(i))
    }

    /// The number of steps recorded.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether no step was recorded.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Clears a log whose execution has ended, when the next one records its first entry.
    #[inline]
    fn refresh(&mut self) {
        if self.stale {
            self.clear();
        }
    }

    #[cold]
    fn clear(&mut self) {
        self.steps.clear();
        self.annotations.clear();
        self.points = 0;
        self.task = 0;
        self.stale = false;
    }

    /// Every (task, object, access) of every step, in the order the steps ran: the
    /// [`accesses`](Step::accesses) of [`steps`](Self::steps), flattened, in one pass over the
    /// annotations.
    pub(crate) fn all_accesses(&self) -> impl Iterator<Item = (usize, u64, Access)> + '_ {
        let first = self
            .steps
            .first()
            .map_or(self.annotations.len(), |s| s.start as usize);
        self.annotations[first..]
            .iter()
            .filter(|a| is_object(a.object))
            .map(|a| (a.task as usize, a.object, a.access))
    }

    /// Step `i` (of `steps`): its annotations run to the next step's first.
    fn step_of(&self, i: usize) -> Step<'_> {
        let s = &self.steps[i];
        let end = self
            .steps
            .get(i + 1)
            .map_or(self.annotations.len(), |n| n.start as usize);
        Step {
            point: s.point as usize,
            task: s.task as usize,
            annotations: &self.annotations[s.start as usize..end],
        }
    }
}

/// Announces a new execution's log (called by the outermost engine scheduler).
pub(super) fn new_execution() {
    LOG.with(|log| log.borrow_mut().stale = true);
}

/// Marks a scheduling point at which `chosen` was chosen: the annotations that follow belong to
/// its step.
pub(super) fn scheduling_point(chosen: Option<usize>) {
    if marks_points() {
        LOG.with(|log| {
            let mut log = log.borrow_mut();
            log.refresh();
            let point = log.points;
            log.points += 1;
            if let Some(task) = chosen {
                let start = log.annotations.len() as u32;
                log.task = task as u32;
                log.steps.push(StepRecord {
                    point,
                    task: task as u32,
                    start,
                });
            }
        });
    }
}

/// Runs `f` as the engine scheduler's handling of one call, and says whether it is the outermost
/// (a wrapped engine scheduler does not mark points twice).
pub(super) fn outermost<R>(f: impl FnOnce(bool) -> R) -> R {
    let depth = NESTING.with(|n| {
        let d = n.get();
        n.set(d + 1);
        d
    });
    struct Unnest;
    impl Drop for Unnest {
        fn drop(&mut self) {
            NESTING.with(|n| n.set(n.get() - 1));
        }
    }
    let _unnest = Unnest;
    f(depth == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, point, run_once};

    fn two_tasks(a: u64, b: u64) {
        let t = shuttle::thread::spawn(move || {
            point();
            access(a, Access::Write);
        });
        point();
        access(b, Access::Read);
        t.join().unwrap();
    }

    fn annotated_steps(bytes: &[u8], a: u64, b: u64) -> Vec<(usize, Vec<(u64, Access)>)> {
        record(true);
        run_once(bytes, &EngineConfig::default(), move || two_tasks(a, b));
        let steps = AccessLog::with(|log| {
            log.steps()
                .filter(|s| !s.is_unknown())
                .map(|s| (s.task, s.accesses().collect()))
                .collect()
        });
        record(false);
        steps
    }

    #[test]
    fn annotations_belong_to_the_task_that_made_them() {
        for bytes in [[0x00; 8], [0xFF; 8]] {
            let mut steps = annotated_steps(&bytes, 7, 9);
            steps.sort();
            assert_eq!(
                steps,
                vec![(0, vec![(9, Access::Read)]), (1, vec![(7, Access::Write)])]
            );
        }
    }

    #[test]
    fn conflicts_need_one_object_and_one_write() {
        record(true);
        run_once(&[0x00; 8], &EngineConfig::default(), || {
            let t = shuttle::thread::spawn(|| {
                point();
                access(1, Access::Read);
                point();
                access(2, Access::Write);
                point();
                local();
            });
            point();
            access(1, Access::Read);
            point();
            access(2, Access::Read);
            t.join().unwrap();
        });
        let verdicts = AccessLog::with(|log| {
            let known: Vec<_> = log.steps().filter(|s| !s.is_unknown()).collect();
            let by = |task, obj: Option<u64>| {
                *known
                    .iter()
                    .find(|s| s.task == task && s.accesses().next().map(|a| a.0) == obj)
                    .unwrap()
            };
            let (r1_main, r2_main) = (by(0, Some(1)), by(0, Some(2)));
            let (r1_t, w2_t, local_t) = (by(1, Some(1)), by(1, Some(2)), by(1, None));
            let unknown = log.steps().find(|s| s.is_unknown()).unwrap();
            [
                r1_main.conflicts(&r1_t),    // read/read: commute
                r2_main.conflicts(&w2_t),    // read/write: conflict
                r1_main.conflicts(&w2_t),    // different objects: commute
                local_t.conflicts(&r2_main), // local: commutes
                unknown.conflicts(&local_t), // unannotated: conflicts with everything
                r1_t.conflicts(&w2_t),       // one task: program order
            ]
        });
        record(false);
        assert_eq!(verdicts, [false, true, false, false, true, true]);
    }

    #[test]
    fn unknown_overrides_annotations() {
        record(true);
        run_once(&[0x00; 8], &EngineConfig::default(), || {
            let t = shuttle::thread::spawn(|| {
                point();
                access(1, Access::Write);
                unknown();
            });
            point();
            access(2, Access::Write);
            t.join().unwrap();
        });
        let (unknown_steps, annotated) = AccessLog::with(|log| {
            let marked = log
                .steps()
                .find(|s| s.task == 1 && s.is_unknown() && s.accesses().next().is_some())
                .unwrap();
            let other = log
                .steps()
                .find(|s| s.task == 0 && !s.is_unknown())
                .unwrap();
            (
                marked.conflicts(&other),
                marked.accesses().collect::<Vec<_>>(),
            )
        });
        record(false);
        assert!(unknown_steps);
        assert_eq!(annotated, [(1, Access::Write)]);
    }

    #[test]
    fn all_accesses_are_the_steps_accesses_flattened() {
        record(true);
        run_once(&[0x5A; 16], &EngineConfig::default(), || {
            // In the main task's first step.
            access(99, Access::Write);
            let t = shuttle::thread::spawn(|| {
                for i in 0..4 {
                    point();
                    access(i, Access::Write);
                    local();
                    access(i + 1, Access::Read);
                }
                unknown();
                finishes_quietly();
            });
            for i in 0..4 {
                point();
                access(i * 3, Access::Read);
                point();
            }
            t.join().unwrap();
        });
        let (flat, by_steps) = AccessLog::with(|log| {
            let flat: Vec<_> = log.all_accesses().collect();
            let by_steps: Vec<_> = log
                .steps()
                .flat_map(|s| {
                    let v: Vec<_> = s.accesses().map(|(o, a)| (s.task, o, a)).collect();
                    v
                })
                .collect();
            (flat, by_steps)
        });
        record(false);
        assert_eq!(flat.len(), 13);
        assert_eq!(flat, by_steps);
    }

    #[test]
    fn nothing_is_recorded_when_off() {
        record(false);
        LOG.with(|l| *l.borrow_mut() = AccessLog::default());
        run_once(&[0x00; 8], &EngineConfig::default(), || two_tasks(1, 2));
        assert!(AccessLog::with(AccessLog::is_empty));
    }
}

//! The decision log that every engine scheduler keeps, and the choice rules they share.
//!
//! A *scheduling point* is one call of [`Scheduler::next_task`](shuttle::scheduler::Scheduler):
//! shuttle makes one before every operation on a shuttle primitive, at every
//! [`point`](super::point), at spawn, join and task exit. A *decision* is a scheduling point where
//! at least two tasks were runnable; only decisions are logged, and only decisions consume input.

use shuttle::scheduler::{Task, TaskId};

use super::byte_scheduler::STAY_THRESHOLD;

/// One scheduling decision: a scheduling point where at least two tasks were runnable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Index of this point among all scheduling points of the execution (0 = the first).
    pub step: usize,
    /// The task chosen to run next, as `usize` (`TaskId` order; 0 is the test's main closure).
    pub task: usize,
    /// The task that ran before the point, if any (it may have blocked or finished since).
    pub previous: Option<usize>,
    /// Bit `i` is set if task `i` was runnable (a summary: task ids from 64 on are left out;
    /// `runnable_count`, `rank` and `previous_rank` describe any number of tasks).
    pub runnable: u64,
    /// How many tasks were runnable.
    pub runnable_count: usize,
    /// Position of `task` among the runnable tasks, sorted by `TaskId`.
    pub rank: usize,
    /// Position of `previous` among the runnable tasks, if it was runnable.
    pub previous_rank: Option<usize>,
    /// Whether an input byte made this decision (false: the deterministic fallback did).
    pub from_byte: bool,
    /// Whether this switched away from a task that was still runnable and had not yielded.
    pub preemption: bool,
}

/// Everything a scheduler records about one execution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecisionLog {
    /// The decisions, in order.
    pub decisions: Vec<Decision>,
    /// The number of scheduling points, decisions or not.
    pub steps: usize,
}

impl DecisionLog {
    /// Empties the log for a new execution, keeping its allocation.
    pub fn clear(&mut self) {
        self.decisions.clear();
        self.steps = 0;
    }

    /// Counts a scheduling point at which `chosen` was chosen, and logs the choice if the point
    /// was a decision (two or more runnable tasks). `from_byte`: an input byte made it.
    pub(crate) fn note(&mut self, point: &Point<'_>, chosen: Option<TaskId>, from_byte: bool) {
        let step = self.steps;
        self.steps += 1;
        if let Some(task) = chosen
            && point.runnable.len() >= 2
        {
            self.decisions.push(point.decision(step, task, from_byte));
        }
    }

    /// The number of decisions that were preemptions.
    pub fn preemptions(&self) -> usize {
        self.decisions.iter().filter(|d| d.preemption).count()
    }
}

/// The runnable set at one scheduling point (one call of `Scheduler::next_task`), reduced to
/// what the choice rules need.
#[derive(Clone, Copy, Debug)]
pub struct Point<'a> {
    /// The runnable tasks, sorted by `TaskId` (shuttle guarantees the order).
    pub runnable: &'a [&'a Task],
    /// Index of the current task in `runnable`, if it is runnable.
    pub current_index: Option<usize>,
    /// The current task, runnable or not.
    pub current: Option<TaskId>,
    /// Whether the current task asked to yield (`yield_now`, `spin_loop`).
    pub yielding: bool,
}

impl<'a> Point<'a> {
    /// Describes the point shuttle hands to `next_task`.
    pub fn new(runnable: &'a [&'a Task], current: Option<TaskId>, yielding: bool) -> Self {
        let current_index = current.and_then(|c| runnable.iter().position(|t| t.id() == c));
        Self {
            runnable,
            current_index,
            current,
            yielding,
        }
    }

    /// Whether staying on the current task is a legal non-preemptive choice.
    pub fn can_stay(&self) -> bool {
        self.current_index.is_some() && !self.yielding
    }

    /// The runnable set as a bitmask of the task ids below 64 (a summary, for the log).
    pub fn mask(&self) -> u64 {
        self.runnable
            .iter()
            .map(|t| usize::from(t.id()))
            .filter(|&id| id < 64)
            .fold(0, |m, id| m | (1 << id))
    }

    /// A fingerprint of the whole runnable set and the current task (any number of tasks), to
    /// check that a replayed execution sees the same point.
    pub(crate) fn fingerprint(&self) -> u64 {
        let ids = self.runnable.iter().map(|t| usize::from(t.id()) as u64);
        let current = self.current.map_or(u64::MAX, |c| usize::from(c) as u64);
        ids.chain([u64::MAX - 1, current])
            .fold(0xcbf2_9ce4_8422_2325, |h, x| {
                (h ^ x).wrapping_mul(0x100_0000_01b3)
            })
    }

    /// The number of candidates a schedule byte chooses among when it does not stay: the
    /// runnable tasks other than the current one if it is runnable, else all runnable tasks.
    pub(crate) fn others_count(&self) -> usize {
        self.runnable.len() - usize::from(self.current_index.is_some())
    }

    /// The `i`-th runnable task other than the current one (`i` is taken modulo their number).
    /// Without a runnable current task, the `i`-th runnable task.
    pub(crate) fn other(&self, i: usize) -> TaskId {
        match self.current_index {
            Some(ci) => {
                let n = self.runnable.len() - 1;
                let k = i % n;
                self.runnable[if k < ci { k } else { k + 1 }].id()
            }
            None => self.runnable[i % self.runnable.len()].id(),
        }
    }

    /// The first runnable task after the current one in cyclic `TaskId` order, never the
    /// current task itself while another task is runnable.
    pub(crate) fn next_after_current(&self) -> TaskId {
        let after = self.current.map(usize::from);
        self.runnable
            .iter()
            .map(|t| t.id())
            .find(|&id| after.is_none_or(|c| usize::from(id) > c))
            .unwrap_or_else(|| self.runnable[0].id())
    }

    /// The log entry for choosing `task` at this point.
    pub fn decision(&self, step: usize, task: TaskId, from_byte: bool) -> Decision {
        Decision {
            step,
            task: task.into(),
            previous: self.current.map(usize::from),
            runnable: self.mask(),
            runnable_count: self.runnable.len(),
            rank: self
                .runnable
                .iter()
                .position(|t| t.id() == task)
                .expect("the chosen task is runnable"),
            previous_rank: self.current_index,
            from_byte,
            preemption: self.can_stay() && Some(task) != self.current,
        }
    }
}

/// How many schedule bytes a choice among `n` candidates reads, and the base of its first byte.
///
/// One byte while it can name every candidate: up to [`STAY_THRESHOLD`] candidates when the
/// current task is runnable (a first byte at or above the threshold stays, or, after a yield,
/// is taken modulo 64 for more than 64 candidates), up to 256 otherwise. Beyond that, more
/// bytes follow, each a base-256 digit (least significant first): a test with hundreds of
/// tasks still has every choice encodable, and with up to 64 tasks every choice is one byte.
pub(crate) fn index_digits(n: usize, current_runnable: bool) -> (usize, usize) {
    let first = if current_runnable && n > usize::from(STAY_THRESHOLD) {
        usize::from(STAY_THRESHOLD)
    } else {
        256
    };
    let mut extra = 0;
    let mut span = first;
    while span < n {
        span = span.saturating_mul(256);
        extra += 1;
    }
    (first, extra)
}

/// Encodes decisions as schedule bytes that [`ByteScheduler`](super::ByteScheduler) decodes to
/// the same choices.
///
/// Each choice names the chosen task the way the stay-or-switch rule reads it: `0xFF` keeps the
/// previous task; otherwise the bytes give the index of the chosen task among the runnable tasks
/// other than the previous one (sorted by `TaskId`), or among all runnable tasks if the previous
/// task was not runnable. With up to 64 runnable tasks that is one byte per decision, below
/// `0x40`, so it never reads as "stay"; with more, an index that does not fit in one byte takes
/// the extra bytes that [`ByteScheduler`](super::ByteScheduler) reads there (any task count).
///
/// Replaying the bytes reproduces the decisions as long as the test under test is deterministic
/// and no decision stayed on a task that had just yielded (the byte encoding cannot say "stay"
/// after a yield; an [`Explorer`](super::Explorer) never makes that choice).
pub fn decisions_to_bytes(decisions: &[Decision]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(decisions.len());
    for d in decisions {
        encode_decision(d, &mut bytes);
    }
    bytes
}

fn encode_decision(d: &Decision, out: &mut Vec<u8>) {
    let index = match d.previous_rank {
        Some(_) if d.previous == Some(d.task) => {
            out.push(0xFF);
            return;
        }
        Some(p) => d.rank - usize::from(p < d.rank),
        None => d.rank,
    };
    let n = d.runnable_count - usize::from(d.previous_rank.is_some());
    let (first, extra) = index_digits(n, d.previous_rank.is_some());
    // `index < n`, so the digits hold it; the first is below `first` (never "stay").
    out.push((index % first) as u8);
    let mut rest = index / first;
    for _ in 0..extra {
        out.push((rest % 256) as u8);
        rest /= 256;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decision choosing `task` after `previous` among the runnable ids `runnable`.
    fn decision(task: usize, previous: Option<usize>, runnable: &[usize]) -> Decision {
        let rank = |id| runnable.iter().position(|&r| r == id);
        Decision {
            step: 0,
            task,
            previous,
            runnable: 0,
            runnable_count: runnable.len(),
            rank: rank(task).unwrap(),
            previous_rank: previous.and_then(rank),
            from_byte: true,
            preemption: false,
        }
    }

    fn encode(d: &Decision) -> Vec<u8> {
        decisions_to_bytes(std::slice::from_ref(d))
    }

    #[test]
    fn encoding_counts_runnable_tasks_below_the_choice() {
        // stay
        assert_eq!(encode(&decision(1, Some(1), &[0, 1, 2])), [0xFF]);
        // others of 1 in {0,1,2} are [0,2]
        assert_eq!(encode(&decision(0, Some(1), &[0, 1, 2])), [0]);
        assert_eq!(encode(&decision(2, Some(1), &[0, 1, 2])), [1]);
        // previous not runnable: index among all runnable
        assert_eq!(encode(&decision(3, Some(1), &[0, 2, 3])), [2]);
        assert_eq!(encode(&decision(2, None, &[0, 2, 3])), [1]);
    }

    #[test]
    fn any_task_count_encodes_without_overflow() {
        let all: Vec<usize> = (0..300).collect();
        // 64 tasks: one byte, as before.
        assert_eq!(encode(&decision(63, Some(0), &all[..64])), [62]);
        // 100 runnable, previous runnable: 99 others need a second byte past index 63.
        assert_eq!(encode(&decision(99, Some(0), &all[..100])), [98 % 64, 1]);
        assert_eq!(encode(&decision(50, Some(0), &all[..100])), [49, 0]);
        // previous not runnable: one byte up to 256 tasks, two beyond.
        assert_eq!(encode(&decision(99, Some(200), &all[..100])), [99]);
        assert_eq!(encode(&decision(299, None, &all)), [43, 1]);
        assert_eq!(index_digits(64, true), (256, 0));
        assert_eq!(index_digits(65, true), (64, 1));
        assert_eq!(index_digits(256, false), (256, 0));
        assert_eq!(index_digits(257, false), (256, 1));
        assert_eq!(index_digits(usize::MAX, false).1, 7);
    }
}

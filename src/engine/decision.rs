//! The decision log that every engine scheduler keeps, and the choice rules they share.
//!
//! A *scheduling point* is one call of [`Scheduler::next_task`](shuttle::scheduler::Scheduler):
//! shuttle makes one before every operation on a shuttle primitive, at every
//! [`point`](super::point), at spawn, join and task exit. A *decision* is a scheduling point where
//! at least two tasks were runnable; only decisions are logged, and only decisions consume input.

use shuttle::scheduler::{Task, TaskId};

/// One scheduling decision: a scheduling point where at least two tasks were runnable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Index of this point among all scheduling points of the execution (0 = the first).
    pub step: usize,
    /// The task chosen to run next, as `usize` (`TaskId` order; 0 is the test's main closure).
    pub task: usize,
    /// The task that ran before the point, if any (it may have blocked or finished since).
    pub previous: Option<usize>,
    /// Bit `i` is set if task `i` was runnable (only task ids below 64 are representable).
    pub runnable: u64,
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

    /// The number of decisions that were preemptions.
    pub fn preemptions(&self) -> usize {
        self.decisions.iter().filter(|d| d.preemption).count()
    }
}

/// The runnable set at one scheduling point, reduced to what the choice rules need.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Point<'a> {
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

    /// The runnable set as a bitmask.
    pub fn mask(&self) -> u64 {
        self.runnable
            .iter()
            .map(|t| usize::from(t.id()))
            .filter(|&id| id < 64)
            .fold(0, |m, id| m | (1 << id))
    }

    /// The `i`-th runnable task other than the current one (`i` is taken modulo their number).
    /// Without a runnable current task, the `i`-th runnable task.
    pub fn other(&self, i: usize) -> TaskId {
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
    pub fn next_after_current(&self) -> TaskId {
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
            from_byte,
            preemption: self.can_stay() && Some(task) != self.current,
        }
    }
}

/// Encodes decisions as schedule bytes that [`ByteScheduler`](super::ByteScheduler) decodes to
/// the same choices, one byte per decision.
///
/// Each byte names the chosen task the way the stay-or-switch rule reads it: `0xFF` keeps the
/// previous task; otherwise the byte is the index of the chosen task among the runnable tasks
/// other than the previous one (sorted by `TaskId`), or among all runnable tasks if the previous
/// task was not runnable. Indices are below 63, so they never read as "stay".
///
/// Replaying the bytes reproduces the decisions as long as the test under test is deterministic
/// and no decision stayed on a task that had just yielded (the byte encoding cannot say "stay"
/// after a yield; [`explore`](super::explore) never makes that choice).
pub fn decisions_to_bytes(decisions: &[Decision]) -> Vec<u8> {
    decisions.iter().map(encode_decision).collect()
}

fn encode_decision(d: &Decision) -> u8 {
    let below = |id: usize| (d.runnable & ((1u64 << id) - 1)).count_ones();
    match d.previous {
        Some(p) if p == d.task => 0xFF,
        Some(p) if p < 64 && d.runnable & (1 << p) != 0 => {
            let index = below(d.task) - u32::from(p < d.task);
            index as u8
        }
        _ => below(d.task) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(task: usize, previous: Option<usize>, runnable: u64) -> Decision {
        Decision {
            step: 0,
            task,
            previous,
            runnable,
            from_byte: true,
            preemption: false,
        }
    }

    #[test]
    fn encoding_counts_runnable_tasks_below_the_choice() {
        // stay
        assert_eq!(encode_decision(&decision(1, Some(1), 0b111)), 0xFF);
        // others of 1 in {0,1,2} are [0,2]
        assert_eq!(encode_decision(&decision(0, Some(1), 0b111)), 0);
        assert_eq!(encode_decision(&decision(2, Some(1), 0b111)), 1);
        // previous not runnable: index among all runnable
        assert_eq!(encode_decision(&decision(3, Some(1), 0b1101)), 2);
        assert_eq!(encode_decision(&decision(2, None, 0b1101)), 1);
    }
}

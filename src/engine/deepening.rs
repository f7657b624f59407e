//! What iterative deepening ([`Explorer::run_deepening`](super::Explorer::run_deepening)) reports:
//! how it ended, where it stands while it runs, and how many schedules the next bound may hold.

use std::time::Duration;

use super::explore::Counterexample;

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
    /// [`Explorer::next_bound_when_truncated`](super::Explorer::next_bound_when_truncated),
    /// some bounds may be unfinished).
    pub completed: Vec<usize>,
    /// Time since the start.
    pub elapsed: Duration,
    /// A rough estimate of the schedules at bound `k` (see [`estimate_schedules`]).
    pub estimate_at_k: Option<usize>,
}

/// Which budget stopped a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// [`Explorer::time`](super::Explorer::time) or
    /// [`Explorer::deadline`](super::Explorer::deadline).
    Time,
    /// [`Explorer::max_executions`](super::Explorer::max_executions).
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

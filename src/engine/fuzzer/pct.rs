//! The PCT-like strategy (Burckhardt et al., ASPLOS 2010, as shuttle's `PctScheduler` and
//! Coyote implement it): each task has a distinct random priority and the highest-priority
//! runnable task runs; at `depth - 1` change points, chosen uniformly among the `k` decisions
//! an execution usually makes, the running task drops below every other. A task that yields
//! drops too. A bug of depth `d` is found with probability at least `1/(n k^(d-1))`.

use shuttle::scheduler::TaskId;

use super::rng::Rng;
use crate::engine::decision::Point;

/// Priorities given at the start lie above this; dropped tasks get decreasing ones below it.
const DROPPED: u64 = 1 << 40;

/// One execution's PCT walk.
#[derive(Debug)]
pub(crate) struct PctWalk {
    rng: Rng,
    /// Priority of each task id seen (higher runs first).
    priorities: Vec<u64>,
    /// Decision indices (from 1) at which the running task drops.
    change_points: Vec<usize>,
    decisions: usize,
    next_low: u64,
}

impl PctWalk {
    /// A walk of depth `depth` over about `length` decisions.
    pub(crate) fn new(rng: &mut Rng, depth: usize, length: usize) -> Self {
        let mut rng = Rng::new(rng.next_u64());
        let mut change_points = Vec::new();
        let wanted = depth.saturating_sub(1).min(length);
        while change_points.len() < wanted {
            let c = rng.range(1, length);
            if !change_points.contains(&c) {
                change_points.push(c);
            }
        }
        PctWalk {
            rng,
            priorities: Vec::new(),
            change_points,
            decisions: 0,
            next_low: DROPPED - 1,
        }
    }

    fn drop_task(&mut self, task: usize) {
        if let Some(p) = self.priorities.get_mut(task) {
            *p = self.next_low;
            self.next_low -= 1;
        }
    }

    pub(crate) fn choose(&mut self, point: &Point<'_>) -> TaskId {
        let top = point.runnable.iter().map(|t| usize::from(t.id())).max();
        while self.priorities.len() <= top.unwrap_or_default() {
            // A random rank among the tasks so far, new ones included.
            let p = DROPPED + (self.rng.next_u64() >> 24);
            self.priorities.push(p);
        }
        self.decisions += 1;
        if (self.change_points.contains(&self.decisions) || point.yielding)
            && let Some(current) = point.current
        {
            self.drop_task(usize::from(current));
        }
        point
            .runnable
            .iter()
            .max_by_key(|t| self.priorities[usize::from(t.id())])
            .expect("a decision has runnable tasks")
            .id()
    }
}

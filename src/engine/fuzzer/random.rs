//! The random-walk strategies: at each decision, preempt the running task with probability `p`
//! (to a uniformly chosen other runnable task), and after a block, exit or yield choose
//! uniformly among the runnable tasks.
//!
//! With `p = 1/4` this is exactly what fresh random schedule bytes do under the
//! [`ByteScheduler`](crate::engine::ByteScheduler) (a byte below `0x40` preempts); the
//! *sparse* walk takes `p = c / k` for an expected `c` preemptions over the `k` decisions an
//! execution of the test usually makes, which, like PCT, keeps most runs close to sequential.

use shuttle::scheduler::TaskId;

use super::rng::Rng;
use crate::engine::decision::Point;

/// One execution's random walk.
#[derive(Debug)]
pub(crate) struct RandomWalk {
    rng: Rng,
    /// Probability of a preemption at a decision, in 1/2^32.
    p: u64,
}

impl RandomWalk {
    /// A walk that preempts with probability `p` (clamped to `0.0..=1.0`).
    pub(crate) fn new(rng: &mut Rng, p: f64) -> Self {
        RandomWalk {
            rng: Rng::new(rng.next_u64()),
            p: (p.clamp(0.0, 1.0) * (1u64 << 32) as f64) as u64,
        }
    }

    /// A walk with about `preemptions` preemptions over `length` decisions.
    pub(crate) fn sparse(rng: &mut Rng, preemptions: usize, length: usize) -> Self {
        Self::new(rng, preemptions as f64 / length.max(1) as f64)
    }

    pub(crate) fn choose(&mut self, point: &Point<'_>) -> TaskId {
        if point.can_stay() && (self.rng.next_u64() >> 32) >= self.p {
            return point.runnable[point.current_index.unwrap_or_default()].id();
        }
        point.other(self.rng.below(point.others_count()))
    }
}

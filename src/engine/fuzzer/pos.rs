//! The POS-like strategy (partial order sampling, Yuan et al., CAV 2018): every pending event
//! has a random priority and the highest-priority runnable task runs; once an event has run,
//! the next event of its task, and every pending event that *races* with it, get fresh
//! priorities. POS samples partial orders far more evenly than a uniform random walk, because
//! events that commute keep their relative order.
//!
//! A task's pending event is not known before it runs, so its last step's
//! [annotations](crate::engine::access) stand for it; a step with none (and any step when the
//! test annotates nothing) races with everything, and POS then degenerates to a uniform random
//! walk, which is what POS is for a program whose every pair of events conflicts.

use shuttle::scheduler::TaskId;

use super::rng::Rng;
use crate::engine::access::AccessLog;
use crate::engine::decision::Point;

/// One execution's POS walk.
#[derive(Debug)]
pub(crate) struct PosWalk {
    rng: Rng,
    priorities: Vec<u64>,
}

impl PosWalk {
    pub(crate) fn new(rng: &mut Rng) -> Self {
        PosWalk {
            rng: Rng::new(rng.next_u64()),
            priorities: Vec::new(),
        }
    }

    /// Chooses at `point`; `last_point[t]` is the scheduling point that began task `t`'s last
    /// step, and `annotated`: annotations of this execution are in this thread's access log.
    pub(crate) fn choose(
        &mut self,
        point: &Point<'_>,
        last_point: &[Option<u32>],
        annotated: bool,
    ) -> TaskId {
        let top = point.runnable.iter().map(|t| usize::from(t.id())).max();
        while self.priorities.len() <= top.unwrap_or_default() {
            let p = self.rng.next_u64();
            self.priorities.push(p);
        }
        let ran = point.current.map(usize::from);
        let step_of = |t: usize| last_point.get(t).copied().flatten();
        let ran_step = ran.and_then(step_of);
        for t in point.runnable.iter().map(|t| usize::from(t.id())) {
            let races = Some(t) == ran
                || !annotated
                || match (ran_step, step_of(t)) {
                    (Some(a), Some(b)) => AccessLog::with(|log| {
                        match (log.step_at(a as usize), log.step_at(b as usize)) {
                            (Some(a), Some(b)) => a.conflicts(&b),
                            _ => true,
                        }
                    }),
                    _ => true,
                };
            if races {
                self.priorities[t] = self.rng.next_u64();
            }
        }
        point
            .runnable
            .iter()
            .max_by_key(|t| self.priorities[usize::from(t.id())])
            .expect("a decision has runnable tasks")
            .id()
    }
}

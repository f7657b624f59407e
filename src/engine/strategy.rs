//! [`Strategy`]: what a shuttle scheduler decides, with each scheduling point handed over as a
//! [`Point`]; [`Scheduled`] makes a strategy a shuttle `Scheduler`. Every engine scheduler is
//! one: the [`ByteScheduler`](super::ByteScheduler) (one strategy a file, as in shuttle's
//! `scheduler` module), the explorer's search, and the [`Observe`](super::Observe) wrappers.
//! The outermost [`Scheduled`] also marks each scheduling point in the [access
//! log](super::AccessLog), so that annotations are attributed to the step they belong to.

use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};

use super::access;
use super::decision::Point;

/// A scheduling strategy: shuttle's `Scheduler`, with the runnable set, the current task and
/// whether it yields at each scheduling point given as one [`Point`].
pub trait Strategy {
    /// Starts the next execution; `None` when there is none.
    fn new_execution(&mut self) -> Option<Schedule>;

    /// The task to run at `point`.
    fn next_task(&mut self, point: &Point<'_>) -> Option<TaskId>;

    /// A number for `shuttle::rand`.
    fn next_u64(&mut self) -> u64;
}

/// A [`Strategy`] as a shuttle scheduler.
#[derive(Debug)]
pub struct Scheduled<T>(pub T);

impl<T: Strategy> Scheduler for Scheduled<T> {
    fn new_execution(&mut self) -> Option<Schedule> {
        // Once per execution, recording or not: the inner strategy may turn recording on, and
        // the log of an earlier execution (of another search, say) must not leak into this one.
        access::outermost(|outermost| {
            let schedule = self.0.new_execution();
            if outermost {
                access::new_execution();
            }
            schedule
        })
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        if !access::marks_points() {
            return self
                .0
                .next_task(&Point::new(runnable, current, is_yielding));
        }
        access::outermost(|outermost| {
            let chosen = self
                .0
                .next_task(&Point::new(runnable, current, is_yielding));
            if outermost {
                access::scheduling_point(chosen.map(usize::from));
            }
            chosen
        })
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

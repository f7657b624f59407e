//! [`Observe`]: a strategy that wraps a scheduler and shows each of its choices to an
//! [`Observer`] (cf. shuttle's `MetricsScheduler<S>`), the one base of the engine's wrapping
//! schedulers: [`Recording`](super::Recording) logs the choices, [`Checked`](super::Checked)
//! compares them with a recorded execution.

use shuttle::scheduler::{Schedule, Scheduler, TaskId};

use super::decision::Point;
use super::strategy::{Scheduled, Strategy};

/// What an [`Observe`] wrapper does besides letting the scheduler it wraps decide.
///
/// A closure `FnMut(&Point, Option<TaskId>)` is an observer that sees every scheduling point.
pub trait Observer {
    /// Called before the wrapped scheduler is asked for a new execution (it may say there is
    /// none).
    fn new_execution(&mut self) {}

    /// Called at each scheduling point, decision or not, with the wrapped scheduler's choice.
    fn chose(&mut self, point: &Point<'_>, chosen: Option<TaskId>);
}

impl<F: FnMut(&Point<'_>, Option<TaskId>)> Observer for F {
    fn chose(&mut self, point: &Point<'_>, chosen: Option<TaskId>) {
        self(point, chosen)
    }
}

/// Wraps the shuttle scheduler `S`, which makes every choice, and shows each to the observer
/// `O`: a [`Strategy`], which [`wrap`](Self::wrap) makes a scheduler.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use swapfuzz::engine::{ByteScheduler, EngineConfig, Observe, Point, run_with_scheduler};
/// use shuttle::scheduler::TaskId;
///
/// // Count the scheduling points at which the running task was switched out.
/// let switches = Arc::new(Mutex::new(0));
/// let counter = Arc::clone(&switches);
/// let observer = move |point: &Point<'_>, chosen: Option<TaskId>| {
///     if point.current.is_some() && chosen != point.current {
///         *counter.lock().unwrap() += 1;
///     }
/// };
/// let scheduler = Observe::wrap(ByteScheduler::new(&[0x00; 4], 32), observer);
/// run_with_scheduler(scheduler, &EngineConfig::default(), || {
///     let t = shuttle::thread::spawn(swapfuzz::engine::point);
///     swapfuzz::engine::point();
///     t.join().unwrap();
/// });
/// assert!(*switches.lock().unwrap() > 0);
/// ```
#[derive(Debug)]
pub struct Observe<S, O> {
    inner: S,
    observer: O,
}

impl<S: Scheduler, O: Observer> Observe<S, O> {
    /// A scheduler that shows the choices of `inner` to `observer`.
    pub fn wrap(inner: S, observer: O) -> Scheduled<Self> {
        Scheduled(Observe { inner, observer })
    }

    /// The observer.
    pub fn observer(&self) -> &O {
        &self.observer
    }
}

impl<S: Scheduler, O: Observer> Strategy for Observe<S, O> {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.observer.new_execution();
        self.inner.new_execution()
    }

    fn next_task(&mut self, point: &Point<'_>) -> Option<TaskId> {
        let chosen = self
            .inner
            .next_task(point.runnable, point.current, point.yielding);
        self.observer.chose(point, chosen);
        chosen
    }

    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }
}

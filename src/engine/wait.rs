//! Blocking and waking tasks with no scheduling point of their own.
//!
//! shuttle's own wake-ups (`mpsc::Sender::send`, `Condvar::notify_*`, `Mutex::unlock`) begin with
//! a scheduling point, so a test that wakes a waiter through them gets an extra place where the
//! scheduler may switch: after the access that decided the wake-up, before the test's next
//! step. Such a point is invisible in the test's code, and how many there are depends on how many
//! tasks happen to be waiting. [`sleep`] and [`wake`] add none: the only scheduling decision is
//! the one [`sleep`] needs to leave a blocked task, and it is not a preemption (the sleeping task
//! is not runnable).
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use swapfuzz::engine::{EngineConfig, Outcome, TaskId, current_task, point, run_once, sleep, wake};
//!
//! fn handoff() {
//!     // Shared state: who sleeps, and whether the value is ready (plain memory, so every access
//!     // is preceded by `point()`).
//!     let state: Arc<Mutex<(Option<TaskId>, bool)>> = Arc::default();
//!     let s = Arc::clone(&state);
//!     let waiter = shuttle::thread::spawn(move || loop {
//!         point();
//!         let mut g = s.lock().unwrap();
//!         if g.1 {
//!             return;
//!         }
//!         g.0 = Some(current_task()); // publish, then sleep with no point in between
//!         drop(g);
//!         sleep();
//!     });
//!     point();
//!     let mut g = state.lock().unwrap();
//!     g.1 = true;
//!     if let Some(t) = g.0.take() {
//!         wake(t);
//!     }
//!     drop(g);
//!     waiter.join().unwrap();
//! }
//!
//! for bytes in [[0xFF; 8], [0x00; 8]] {
//!     assert_eq!(run_once(&bytes, &EngineConfig::default(), handoff).outcome, Outcome::Pass);
//! }
//! ```
//!
//! The protocol the caller keeps: publish "I am waiting" and call [`sleep`] with no scheduling
//! point in between, and have the waker clear that mark when it calls [`wake`]; then no wake-up
//! is lost. [`wake`] of a task that is not asleep does nothing.

use shuttle_engine::runtime::execution::ExecutionState;

pub use shuttle::scheduler::TaskId;

/// The running task.
pub fn current_task() -> TaskId {
    ExecutionState::me()
}

/// Blocks the running task until another task calls [`wake`] on it. The task switch this needs is
/// a decision among the other runnable tasks, never a preemption. If no task is runnable, shuttle
/// reports a deadlock.
pub fn sleep() {
    ExecutionState::with(|s| s.current_mut().block(false));
    shuttle_engine::runtime::thread::switch();
}

/// Makes `task` runnable again if it sleeps in [`sleep`]; no scheduling point.
pub fn wake(task: TaskId) {
    ExecutionState::with(|s| {
        let t = s.get_mut(task);
        if t.blocked() {
            t.unblock();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, Outcome, point, run_once};
    use std::sync::{Arc, Mutex};

    /// Scheduling points of a run in which the main task wakes a sleeper `wakes` times.
    fn points(wakes: usize) -> usize {
        let test = move || {
            let who: Arc<Mutex<Option<TaskId>>> = Arc::default();
            let w = Arc::clone(&who);
            let sleeper = shuttle::thread::spawn(move || {
                *w.lock().unwrap() = Some(current_task());
                sleep();
            });
            loop {
                point();
                if let Some(t) = *who.lock().unwrap() {
                    for _ in 0..wakes {
                        wake(t);
                    }
                    break;
                }
            }
            point();
            sleeper.join().unwrap();
        };
        let exec = run_once(&[0xFF; 64], &EngineConfig::default(), test);
        assert_eq!(exec.outcome, Outcome::Pass);
        exec.steps
    }

    #[test]
    fn waking_adds_no_scheduling_point() {
        assert_eq!(points(1), points(5));
    }
}

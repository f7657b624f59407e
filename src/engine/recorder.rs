//! [`Recording`]: a decorator that logs the decisions of any shuttle scheduler, so that a
//! schedule found by another strategy (shuttle's PCT, say) becomes schedule bytes
//! ([`decisions_to_bytes`](super::decisions_to_bytes)) that the byte scheduler replays.

use std::sync::{Arc, Mutex};

use shuttle::scheduler::{Scheduler, TaskId};

use super::decision::{DecisionLog, Point};
use super::observe::{Observe, Observer};
use super::strategy::Scheduled;

/// Wraps `S` and records, per execution, the decisions it makes (cf. shuttle's
/// `MetricsScheduler<S>`). The log holds the current (or last) execution's decisions.
pub type Recording<S> = Scheduled<Observe<S, RecordDecisions>>;

/// The [`Observer`] of a [`Recording`]: logs each execution's decisions.
#[derive(Debug, Default)]
pub struct RecordDecisions {
    log: Arc<Mutex<DecisionLog>>,
}

impl Observer for RecordDecisions {
    fn new_execution(&mut self) {
        self.log.lock().expect("decision log").clear();
    }

    fn chose(&mut self, point: &Point<'_>, chosen: Option<TaskId>) {
        self.log
            .lock()
            .expect("decision log")
            .note(point, chosen, false);
    }
}

impl<S: Scheduler> Recording<S> {
    /// Records the decisions of `inner`.
    pub fn new(inner: S) -> Self {
        Observe::wrap(inner, RecordDecisions::default())
    }

    /// The log, shared: read it after the run.
    pub fn log(&self) -> Arc<Mutex<DecisionLog>> {
        Arc::clone(&self.0.observer().log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, Outcome, decisions_to_bytes, run_once, run_with_scheduler};
    use shuttle::scheduler::PctScheduler;
    use shuttle::sync::atomic::{AtomicUsize, Ordering};

    fn lost_update() {
        let c = std::sync::Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let c = std::sync::Arc::clone(&c);
                shuttle::thread::spawn(move || {
                    let v = c.load(Ordering::SeqCst);
                    c.store(v + 1, Ordering::SeqCst);
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert!(c.load(Ordering::SeqCst) == 2, "lost update");
    }

    #[test]
    fn a_pct_failure_replays_from_bytes() {
        crate::engine::quiet_panics();
        let rec = Recording::new(PctScheduler::new_from_seed(1, 2, 200));
        let log = rec.log();
        let (outcome, _) = run_with_scheduler(rec, &EngineConfig::default(), lost_update);
        assert_eq!(outcome, Outcome::Panic("lost update".into()));
        let decisions = log.lock().unwrap().decisions.clone();
        let replay = run_once(
            &decisions_to_bytes(&decisions),
            &EngineConfig::default(),
            lost_update,
        );
        assert_eq!(replay.outcome, outcome);
        let tasks = |d: &[crate::engine::Decision]| d.iter().map(|d| d.task).collect::<Vec<_>>();
        assert_eq!(tasks(&replay.decisions), tasks(&decisions));
    }
}

//! [`Recording`]: a decorator that logs the decisions of any shuttle scheduler, so that a
//! schedule found by another strategy (shuttle's PCT, say) becomes schedule bytes
//! ([`decisions_to_bytes`](super::decisions_to_bytes)) that the byte scheduler replays.

use std::sync::{Arc, Mutex};

use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};

use super::decision::{DecisionLog, Point};

/// Wraps `S` and records, per execution, the decisions it makes (cf. shuttle's
/// `MetricsScheduler<S>`). The log holds the current (or last) execution's decisions.
#[derive(Debug)]
pub struct Recording<S> {
    inner: S,
    log: Arc<Mutex<DecisionLog>>,
}

impl<S: Scheduler> Recording<S> {
    /// Records the decisions of `inner`.
    pub fn new(inner: S) -> Self {
        Recording {
            inner,
            log: Arc::default(),
        }
    }

    /// The log, shared: read it after the run.
    pub fn log(&self) -> Arc<Mutex<DecisionLog>> {
        Arc::clone(&self.log)
    }
}

impl<S: Scheduler> Scheduler for Recording<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.log.lock().expect("decision log").clear();
        self.inner.new_execution()
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        let choice = self.inner.next_task(runnable, current, is_yielding);
        let mut log = self.log.lock().expect("decision log");
        let step = log.steps;
        log.steps += 1;
        if let Some(task) = choice
            && runnable.len() >= 2
        {
            let d = Point::new(runnable, current, is_yielding).decision(step, task, false);
            log.decisions.push(d);
        }
        choice
    }

    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
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

//! "Does this patch close it?" in one run (`swapfuzz check-patch`): on the patched kernel, replay
//! every known crash, prove every relevant scenario clean at K = 2 preemptions (K = 3 where the
//! budget allows), and hunt from an empty corpus; then one verdict.
//!
//! ```
//! use std::time::Duration;
//! use swapfuzz::check::config;
//! use swapfuzz::fuzz::patch_check::{PatchCheck, Verdict};
//! use swapfuzz::model::PatchSet;
//! use swapfuzz::program::seeds;
//!
//! // v6.8 itself, on the seed race's scenario: the race is found at K = 1.
//! let mut check = PatchCheck::new(config::model(PatchSet::base()))
//!     .scenario("shmem-truncate", seeds::shmem_truncate());
//! check.time = Duration::from_secs(5);
//! check.hunt_time = Duration::ZERO;
//! let report = check.run();
//! assert!(matches!(report.verdict(), Verdict::NotClosed(_)));
//! ```
//!
//! A proof is `swapfuzz verify --reduction --cache-states`'s: it covers every schedule with at
//! most K preemptions up to the order of independent steps (sleep sets, admitted only where the
//! equivalent schedule needs no more preemptions) and states explored before (state caching on
//! the model's state digest, docs/model.md "The state digest"). It runs fewer schedules than it
//! covers, and [`Check::Verify`] counts the schedules run.
//!
//! The verdict is *closed* only when every check ran to its end without a bug: each crash
//! replayed clean and each relevant scenario exhausted at K = 2. Any bug makes it *not closed*,
//! with the first bug's reproducer. Otherwise (a budget stopped a proof at K = 2, or there was
//! nothing relevant to prove) it is *not proven*, never closed. A scenario is relevant when one
//! run of it on the kernel under test enters a function a patch of the kernel replaces (for v6.8
//! itself, every scenario is).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::check::run::{Verdict as RunVerdict, execute_then, run_program};
use crate::check::steps::run_segments;
use crate::engine::{Budget, Deepening, EngineConfig, Explorer, quiet_panics};
use crate::model::events::Segment;
use crate::model::world::EventKind;
use crate::model::{Bug, ModelConfig, Program};
use crate::program::bytes::decode;

use super::hunt::{HuntOptions, HuntResult, hunt};

/// A bug one check found, with its reproducer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The bug.
    pub bug: Box<Bug>,
    /// The program that shows it.
    pub program: Program,
    /// Its schedule bytes.
    pub schedule: Vec<u8>,
}

/// How one check ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Ran to its end, no bug.
    Clean,
    /// A bug.
    Bug(Finding),
    /// A budget ran out first: nothing proven.
    Stopped,
    /// An optional bound (K + 1) that the budget stopped after some schedules with no bug: the
    /// schedules run are clean, the bound is not proven, and the verdict rests on the required
    /// rows.
    Partial,
    /// Not run: a bug was already found, or no budget was left for an optional bound.
    Skipped,
    /// swapfuzz itself failed (never a kernel bug).
    Error(String),
}

/// A crash reproducer to replay.
#[derive(Clone, Debug)]
pub struct Crash {
    /// Its name (the file).
    pub name: String,
    /// The program.
    pub program: Program,
    /// The schedule bytes.
    pub schedule: Vec<u8>,
    /// The schedule in steps, for a scenario file stated in steps (then used instead).
    pub steps: Option<Vec<Segment>>,
}

/// What a check was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A crash reproducer replayed under its own schedule.
    Replay {
        /// Its name (the file).
        name: String,
    },
    /// Every schedule of a scenario with at most `k` preemptions.
    Verify {
        /// The scenario.
        name: String,
        /// The bound.
        k: usize,
        /// Schedules run: with the reduction and the state cache, fewer than the schedules
        /// covered (every one with at most `k` preemptions, up to the order of independent
        /// steps and states explored before).
        schedules: usize,
        /// Whether this bound is required for a proof (K = 2) or extra (K = 3).
        required: bool,
    },
    /// A search of programs and schedules from an empty corpus.
    Hunt {
        /// Executions run.
        executions: u64,
    },
}

/// One row of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// What ran.
    pub check: Check,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed: Duration,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every check ran to its end with no bug.
    Closed,
    /// A check found a bug: the first one's reproducer.
    NotClosed(Finding),
    /// No bug, but a required proof did not finish (or there was none to run).
    NotProven,
    /// swapfuzz itself failed.
    Error(String),
}

/// What [`PatchCheck::run`] found.
#[derive(Clone, Debug)]
pub struct Report {
    /// One row per check, in the order they ran.
    pub rows: Vec<Row>,
}

impl Report {
    /// The verdict of all rows together.
    pub fn verdict(&self) -> Verdict {
        if let Some(e) = self.rows.iter().find_map(|r| match &r.outcome {
            Outcome::Error(e) => Some(e.clone()),
            _ => None,
        }) {
            return Verdict::Error(e);
        }
        if let Some(f) = self.rows.iter().find_map(|r| match &r.outcome {
            Outcome::Bug(f) => Some(f.clone()),
            _ => None,
        }) {
            return Verdict::NotClosed(f);
        }
        let required = |r: &&Row| match r.check {
            Check::Verify { required, .. } => required,
            Check::Replay { .. } => true,
            Check::Hunt { .. } => false,
        };
        let proofs: Vec<&Row> = self.rows.iter().filter(required).collect();
        let proven = proofs
            .iter()
            .filter(|r| matches!(r.check, Check::Verify { .. }))
            .any(|r| r.outcome == Outcome::Clean);
        if proven
            && proofs.iter().all(|r| {
                matches!(
                    r.outcome,
                    Outcome::Clean | Outcome::Skipped | Outcome::Partial
                )
            })
        {
            Verdict::Closed
        } else {
            Verdict::NotProven
        }
    }
}

/// The checks to run on one kernel: the budgets are public fields (as loom's `Builder`'s),
/// the scenarios and crashes are added with [`PatchCheck::scenario`] and [`PatchCheck::crash`].
#[derive(Clone, Debug)]
pub struct PatchCheck {
    cfg: ModelConfig,
    scenarios: Vec<(String, Program)>,
    crashes: Vec<Crash>,
    /// The whole budget (wall clock): proofs at K first, then the hunt, then K + 1.
    pub time: Duration,
    /// The hunt's share of the budget (zero: no hunt).
    pub hunt_time: Duration,
    /// The hunt's seed.
    pub seed: u64,
    /// The required bound K (2 unless changed); K + 1 is tried where the budget allows.
    pub preemptions: usize,
}

impl PatchCheck {
    /// Checks on the kernel and switches of `cfg` (event recording is turned off); a budget of
    /// 60 s of which hunting gets 15 s, K = 2.
    pub fn new(cfg: ModelConfig) -> Self {
        PatchCheck {
            cfg: ModelConfig {
                record: false,
                ..cfg
            },
            scenarios: Vec::new(),
            crashes: Vec::new(),
            time: Duration::from_secs(60),
            hunt_time: Duration::from_secs(15),
            seed: 1,
            preemptions: 2,
        }
    }

    /// A scenario to prove clean at K = 2 if it is relevant.
    pub fn scenario(mut self, name: &str, program: Program) -> Self {
        if !self.scenarios.iter().any(|(_, p)| *p == program) {
            self.scenarios.push((name.to_string(), program));
        }
        self
    }

    /// A crash reproducer to replay under its schedule. Its program is also a scenario.
    pub fn crash(mut self, crash: Crash) -> Self {
        let (name, program) = (crash.name.clone(), crash.program.clone());
        self.crashes.push(crash);
        self.scenario(&name, program)
    }

    /// Runs every check; `row` is called as each one ends.
    pub fn run_with(&self, row: &mut dyn FnMut(&Row)) -> Report {
        quiet_panics();
        let start = Instant::now();
        let deadline = start + self.time;
        let proofs_until = deadline
            .checked_sub(self.hunt_time)
            .unwrap_or(start)
            .max(start);
        let mut rows = Vec::new();
        let mut push = |r: Row, rows: &mut Vec<Row>| {
            row(&r);
            rows.push(r);
        };
        for c in &self.crashes {
            let t = Instant::now();
            push(
                Row {
                    check: Check::Replay {
                        name: c.name.clone(),
                    },
                    outcome: self.replay(&c.program, &c.schedule, c.steps.as_deref()),
                    elapsed: t.elapsed(),
                },
                &mut rows,
            );
        }
        let relevant: Vec<&(String, Program)> = self
            .scenarios
            .iter()
            .filter(|(_, p)| self.relevant(p))
            .collect();
        let found = |rows: &Vec<Row>| rows.iter().any(|r| matches!(r.outcome, Outcome::Bug(_)));
        let mut proven = Vec::new();
        for (name, program) in &relevant {
            let (outcome, schedules, elapsed) = if found(&rows) {
                (Outcome::Skipped, 0, Duration::ZERO)
            } else {
                self.verify(program, self.preemptions, proofs_until)
            };
            if outcome == Outcome::Clean {
                proven.push((name, program));
            }
            push(
                Row {
                    check: Check::Verify {
                        name: name.clone(),
                        k: self.preemptions,
                        schedules,
                        required: true,
                    },
                    outcome,
                    elapsed,
                },
                &mut rows,
            );
        }
        if !self.hunt_time.is_zero() && !found(&rows) {
            let t = Instant::now();
            let opts = HuntOptions {
                model: self.cfg,
                time: deadline.saturating_duration_since(t).min(self.hunt_time),
                seed: self.seed,
                max_executions: None,
                program: None,
                corpus: None,
            };
            let (outcome, executions) = match hunt(&opts, Box::new(|_| {})) {
                HuntResult::Found {
                    input,
                    bug,
                    executions,
                    ..
                } => {
                    let d = decode(&input);
                    (
                        Outcome::Bug(Finding {
                            bug,
                            program: d.program,
                            schedule: d.schedule,
                        }),
                        executions,
                    )
                }
                HuntResult::Clean { executions, .. } => (Outcome::Clean, executions),
                HuntResult::Error {
                    message,
                    executions,
                    ..
                } => (Outcome::Error(message), executions),
            };
            push(
                Row {
                    check: Check::Hunt { executions },
                    outcome,
                    elapsed: t.elapsed(),
                },
                &mut rows,
            );
        }
        for (name, program) in proven {
            if found(&rows) {
                break;
            }
            let (outcome, schedules, elapsed) =
                self.verify(program, self.preemptions + 1, deadline);
            let outcome = match outcome {
                Outcome::Stopped if schedules == 0 => Outcome::Skipped,
                Outcome::Stopped => Outcome::Partial,
                o => o,
            };
            push(
                Row {
                    check: Check::Verify {
                        name: name.to_string(),
                        k: self.preemptions + 1,
                        schedules,
                        required: false,
                    },
                    outcome,
                    elapsed,
                },
                &mut rows,
            );
        }
        Report { rows }
    }

    /// [`PatchCheck::run_with`], quietly.
    pub fn run(&self) -> Report {
        self.run_with(&mut |_| {})
    }

    /// One run of a crash reproducer under its own schedule (in steps, or bytes).
    fn replay(&self, program: &Program, schedule: &[u8], steps: Option<&[Segment]>) -> Outcome {
        let (verdict, exec) = match steps {
            Some(steps) => run_segments(program, self.cfg, steps),
            None => run_program(program, self.cfg, schedule, &EngineConfig::default()),
        };
        match verdict {
            RunVerdict::Clean => Outcome::Clean,
            RunVerdict::Bug(bug, _) => Outcome::Bug(Finding {
                bug,
                program: program.clone(),
                // The bytes that repeat this run, whatever the schedule was stated in.
                schedule: crate::engine::decisions_to_bytes(&exec.decisions),
            }),
            RunVerdict::Error(e) => Outcome::Error(e),
        }
    }

    /// Whether one run of `program` enters a function a patch of the kernel replaces (every
    /// program is relevant to v6.8 itself).
    fn relevant(&self, program: &Program) -> bool {
        let replaced = self.cfg.patches.seams().replaced();
        if replaced.is_empty() {
            return true;
        }
        let hit = Arc::new(Mutex::new(false));
        let (p, h) = (program.clone(), hit.clone());
        let cfg = ModelConfig {
            record: true,
            ..self.cfg
        };
        let exec = crate::engine::run_once(&[], &EngineConfig::default(), move || {
            execute_then(&p, cfg, |w| {
                let calls = w.trace.events.iter().filter_map(|e| match e.kind {
                    EventKind::Call(f) => Some(f),
                    _ => None,
                });
                *h.lock().unwrap() = calls.into_iter().any(|f| replaced.contains(&f));
            })
        });
        // A run that stopped on a bug never reached the end: relevant (the proof will show it).
        *hit.lock().unwrap() || !matches!(RunVerdict::of(&exec), RunVerdict::Clean)
    }

    /// Every schedule of `program` with at most `k` preemptions, until `deadline`.
    fn verify(&self, program: &Program, k: usize, deadline: Instant) -> (Outcome, usize, Duration) {
        let t = Instant::now();
        if deadline <= t {
            return (Outcome::Stopped, 0, Duration::ZERO);
        }
        let (p, cfg) = (program.clone(), self.cfg);
        // As `swapfuzz verify --reduction --cache-states`: sound here for the same reasons.
        // The sleep sets skip a schedule only where an equivalent one (the same steps with
        // independent ones reordered, by the model's audited footprints) with no more
        // preemptions is explored (`src/engine/reduction.rs`; README "Partial-order reduction");
        // the cache skips a decision only from a state explored before with no more CPUs
        // asleep and no fewer preemptions left (`src/engine/state.rs`), and `execute` provides
        // the model's digest, which determines the future (docs/model.md, "The state digest").
        // A bug found is an execution that ran: its schedule bytes repeat it (`run_once`).
        let result = Explorer::new()
            .preemptions(k)
            .time(Some(deadline - t))
            .reduction(true)
            .cache_states(true)
            .run_deepening(move || crate::check::run::execute(&p, cfg));
        let outcome = match result {
            Deepening::Exhausted { completed } => {
                return (
                    Outcome::Clean,
                    completed.last().copied().unwrap_or_default(),
                    t.elapsed(),
                );
            }
            Deepening::Failed { counterexample, .. } => {
                let schedules = counterexample.executions;
                let outcome = match RunVerdict::of(&counterexample.execution) {
                    RunVerdict::Bug(bug, _) => Outcome::Bug(Finding {
                        bug,
                        program: program.clone(),
                        schedule: counterexample.schedule,
                    }),
                    RunVerdict::Error(e) => Outcome::Error(e),
                    RunVerdict::Clean => Outcome::Error("a failing schedule passed".into()),
                };
                (outcome, schedules)
            }
            Deepening::Stopped {
                by: Budget::Time | Budget::Executions,
                executions_at_k,
                ..
            } => (Outcome::Stopped, executions_at_k),
        };
        (outcome.0, outcome.1, t.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify_row(k: usize, required: bool, outcome: Outcome) -> Row {
        Row {
            check: Check::Verify {
                name: "shmem-truncate".into(),
                k,
                schedules: 10,
                required,
            },
            outcome,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn an_optional_bound_stopped_part_way_leaves_the_verdict_to_the_required_rows() {
        let closed = Report {
            rows: vec![
                verify_row(2, true, Outcome::Clean),
                verify_row(3, false, Outcome::Partial),
            ],
        };
        assert_eq!(closed.verdict(), Verdict::Closed);
        let unproven = Report {
            rows: vec![
                verify_row(2, true, Outcome::Stopped),
                verify_row(3, false, Outcome::Partial),
            ],
        };
        assert_eq!(unproven.verdict(), Verdict::NotProven);
        let only_partial = Report {
            rows: vec![verify_row(3, false, Outcome::Partial)],
        };
        assert_eq!(only_partial.verdict(), Verdict::NotProven);
    }
}

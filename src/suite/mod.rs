//! A benchmark suite of classic concurrency bugs written as shuttle tests, nothing about swap:
//! how many executions a search needs to the first failing one, for the engine's
//! [`Fuzzer`](crate::engine::Fuzzer) beside shuttle's `PctScheduler` (depth 2 and 3),
//! shuttle's `RandomScheduler` and fresh random schedule bytes per execution (the engine's
//! best search before the fuzzer). `swapfuzz bench --suite` prints the table ([`mod@bench`]).
//!
//! The programs ([`bugs`]) annotate their shared accesses through [`shared`]'s `Var` and
//! `Lock`, as any test may. Four of them are *held out*: they were not looked at while the
//! fuzzer's parameters were chosen, so that their ratios say how well the tuning generalises.

pub mod bench;
pub mod bugs;
pub mod shared;

/// One program of the suite.
#[derive(Clone, Copy, Debug)]
pub struct Bug {
    /// Its name on the command line.
    pub name: &'static str,
    /// What goes wrong.
    pub what: &'static str,
    /// Threads it spawns.
    pub threads: usize,
    /// Not used to tune the fuzzer.
    pub held_out: bool,
    /// The test.
    pub test: fn(),
}

fn reorder_10() {
    bugs::reorder(10)
}
fn reorder_20() {
    bugs::reorder(20)
}
fn reorder_100() {
    bugs::reorder(100)
}
fn twostage_10() {
    bugs::twostage(10)
}
fn wronglock_5() {
    bugs::wronglock(5)
}
fn philosophers_3() {
    bugs::philosophers(3)
}
fn philosophers_5() {
    bugs::philosophers(5)
}

/// Every program of the suite.
pub const BUGS: &[Bug] = &[
    Bug {
        name: "lost_update",
        what: "load; store of a counter by 2 threads",
        threads: 2,
        held_out: false,
        test: bugs::lost_update,
    },
    Bug {
        name: "check_then_act",
        what: "lazy initialisation by 3 threads",
        threads: 3,
        held_out: false,
        test: bugs::check_then_act,
    },
    Bug {
        name: "atomicity_violation",
        what: "check-then-debit by 2 threads, a deposit beside",
        threads: 3,
        held_out: false,
        test: bugs::atomicity_violation,
    },
    Bug {
        name: "aba",
        what: "ABA on a lock-free stack's CAS",
        threads: 2,
        held_out: false,
        test: bugs::aba,
    },
    Bug {
        name: "lock_order_inversion",
        what: "two locks taken in opposite orders (deadlock)",
        threads: 2,
        held_out: false,
        test: bugs::lock_order_inversion,
    },
    Bug {
        name: "missed_signal",
        what: "flag checked outside the condvar's lock (deadlock)",
        threads: 2,
        held_out: false,
        test: bugs::missed_signal,
    },
    Bug {
        name: "publication",
        what: "ready flag set before the data",
        threads: 2,
        held_out: false,
        test: bugs::publication,
    },
    Bug {
        name: "use_after_free",
        what: "check pointer, owner frees, use",
        threads: 2,
        held_out: true,
        test: bugs::use_after_free,
    },
    Bug {
        name: "reorder_10",
        what: "SCTBench reorder_10_bad: 9 setters, 1 checker",
        threads: 10,
        held_out: false,
        test: reorder_10,
    },
    Bug {
        name: "reorder_20",
        what: "SCTBench reorder_20_bad: 19 setters, 1 checker",
        threads: 20,
        held_out: true,
        test: reorder_20,
    },
    Bug {
        name: "reorder_100",
        what: "reorder with 99 setters, 1 checker (100+ tasks)",
        threads: 100,
        held_out: false,
        test: reorder_100,
    },
    Bug {
        name: "twostage_10",
        what: "SCTBench twostage_bad: 9 two-stage writers, 1 reader",
        threads: 10,
        held_out: false,
        test: twostage_10,
    },
    Bug {
        name: "wronglock_5",
        what: "SCTBench wronglock_bad: increments under 2 different locks",
        threads: 5,
        held_out: true,
        test: wronglock_5,
    },
    Bug {
        name: "message_chain",
        what: "a transient value relayed through a third thread",
        threads: 3,
        held_out: false,
        test: bugs::message_chain,
    },
    Bug {
        name: "philosophers_3",
        what: "3 dining philosophers (deadlock)",
        threads: 3,
        held_out: true,
        test: philosophers_3,
    },
    Bug {
        name: "philosophers_5",
        what: "5 dining philosophers (deadlock, 4 preemptions)",
        threads: 5,
        held_out: false,
        test: philosophers_5,
    },
    Bug {
        name: "ring_buffer",
        what: "count read outside the producer's lock",
        threads: 2,
        held_out: false,
        test: bugs::ring_buffer,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, Fuzzer, Fuzzing, run_once};

    #[test]
    fn every_bug_is_found_and_its_schedule_replays() {
        for bug in BUGS.iter().filter(|b| b.threads <= 10) {
            let Fuzzing::Failed(found) = Fuzzer::new().seed(1).max_executions(20_000).run(bug.test)
            else {
                panic!("{}: not found in 20,000 executions", bug.name);
            };
            assert!(found.execution.outcome.is_bug(), "{}", bug.name);
            let replay = run_once(&found.schedule, &EngineConfig::default(), bug.test);
            assert_eq!(replay.outcome, found.execution.outcome, "{}", bug.name);
        }
    }

    #[test]
    fn the_bugs_pass_without_preemptions() {
        for bug in BUGS {
            let e = run_once(&[0xFF; 4096], &EngineConfig::default(), bug.test);
            assert!(!e.outcome.is_failure(), "{}: {:?}", bug.name, e.outcome);
        }
    }
}

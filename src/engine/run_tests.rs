//! Tests of `run.rs`.
use super::*;
use crate::engine::Decision;
use shuttle::sync::Mutex;
use shuttle::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use shuttle::{hint, thread};
use std::sync::Arc;

fn two_threads_two_points() {
    let hs: Vec<_> = (0..2)
        .map(|_| {
            thread::spawn(|| {
                crate::engine::point();
                crate::engine::point();
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

#[test]
fn same_bytes_same_decisions() {
    let bytes: Vec<u8> = (0..64u32).map(|i| (i * 37 % 251) as u8).collect();
    let first = run_once(&bytes, &EngineConfig::default(), two_threads_two_points);
    assert!(first.decisions.iter().any(|d| d.preemption));
    for _ in 0..100 {
        let again = run_once(&bytes, &EngineConfig::default(), two_threads_two_points);
        assert_eq!(again.decisions, first.decisions);
        assert_eq!(again.steps, first.steps);
    }
}

#[test]
fn ff_bytes_never_preempt_and_one_byte_changes_one_decision() {
    let cfg = EngineConfig::default();
    let ff = run_once(&[0xFF; 64], &cfg, two_threads_two_points);
    assert_eq!(ff.outcome, Outcome::Pass);
    assert!(ff.decisions.iter().all(|d| !d.preemption && d.from_byte));
    // The first decision where the running task could be preempted.
    let k = ff
        .decisions
        .iter()
        .position(|d| d.previous == Some(d.task))
        .unwrap();
    let mut changed = vec![0xFF; 64];
    changed[k] = 0x00;
    let other = run_once(&changed, &cfg, two_threads_two_points);
    assert_eq!(other.decisions[..k], ff.decisions[..k]);
    assert_ne!(other.decisions[k].task, ff.decisions[k].task);
    assert!(other.decisions[k].preemption);
    assert_eq!(other.decisions.iter().filter(|d| d.preemption).count(), 1);
}

#[test]
fn empty_schedule_terminates_with_the_fallback() {
    let e = run_once(&[], &EngineConfig::default(), two_threads_two_points);
    assert_eq!(e.outcome, Outcome::Pass);
    assert!(e.decisions.iter().all(|d| !d.from_byte));
    let bytes = [0x00; 8];
    let e = run_once(&bytes, &EngineConfig::default(), two_threads_two_points);
    assert_eq!(e.outcome, Outcome::Pass);
}

fn spin_until_flag(yielding: bool) -> impl Fn() + Send + Sync + 'static {
    move || {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = {
            let flag = Arc::clone(&flag);
            thread::spawn(move || flag.store(true, Ordering::SeqCst))
        };
        while !flag.load(Ordering::SeqCst) {
            if yielding {
                hint::spin_loop();
            }
        }
        setter.join().unwrap();
    }
}

#[test]
fn spin_loops_terminate_under_the_fallback() {
    let cfg = EngineConfig::default();
    for yielding in [true, false] {
        // Bytes that keep the spinner running, then the fallback.
        let e = run_once(&[0xFF; 100], &cfg, spin_until_flag(yielding));
        assert_eq!(e.outcome, Outcome::Pass, "yielding {yielding}");
        assert!(e.steps < 1_000, "yielding {yielding}: {} steps", e.steps);
    }
}

#[test]
fn lock_order_inversion_is_a_deadlock() {
    let test = || {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
        let t = thread::spawn(move || {
            let _b = b2.lock().unwrap();
            let _a = a2.lock().unwrap();
        });
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        t.join().unwrap();
    };
    // Every pattern of 8 bytes from {0x00, 0xFF}.
    let found = (0u32..256)
        .map(|bits| {
            (0..8)
                .map(|i| if bits >> i & 1 == 1 { 0xFF } else { 0x00 })
                .collect::<Vec<u8>>()
        })
        .map(|bytes| run_once(&bytes, &EngineConfig::default(), test))
        .find(|e| e.outcome != Outcome::Pass)
        .expect("some schedule deadlocks");
    assert!(
        matches!(found.outcome, Outcome::Deadlock(ref m) if m.starts_with("deadlock!")),
        "{found:?}"
    );
}

#[test]
fn step_bound_is_classified() {
    let cfg = EngineConfig {
        max_steps: 50,
        ..EngineConfig::default()
    };
    let e = run_once(&[], &cfg, || {
        let n = AtomicUsize::new(0);
        for _ in 0..100 {
            n.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert_eq!(e.outcome, Outcome::StepBound(50));
}

#[test]
fn many_failing_runs_report_the_tests_own_panic() {
    for i in 0..60 {
        let e = run_once(&[i as u8; 8], &EngineConfig::default(), move || {
            let t = thread::spawn(move || {
                crate::engine::point();
                panic!("own bug {i}");
            });
            crate::engine::point();
            t.join().unwrap();
        });
        assert_eq!(e.outcome, Outcome::Panic(format!("own bug {i}")), "run {i}");
        let text = e.payload.as_deref().and_then(payload_text);
        assert_eq!(text, Some(format!("own bug {i}").as_str()));
    }
}

/// A panic while holding a shuttle lock unwinds through shuttle code (the guard's drop is a
/// scheduling point), with another task waiting for the lock.
#[test]
fn many_panics_under_a_lock_report_the_tests_own_panic() {
    for i in 0..60u32 {
        let bytes: Vec<u8> = (0..16).map(|k| (i * 7 + k * 13) as u8).collect();
        let e = run_once(&bytes, &EngineConfig::default(), move || {
            let m = Arc::new(Mutex::new(0));
            let hs: Vec<_> = (0..2)
                .map(|t| {
                    let m = Arc::clone(&m);
                    thread::spawn(move || {
                        let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
                        *g += 1;
                        crate::engine::point();
                        if t == 1 || *g == 2 {
                            panic!("bug {i} in {t}");
                        }
                    })
                })
                .collect();
            for h in hs {
                let _ = h.join();
            }
        });
        assert!(
            matches!(e.outcome, Outcome::Panic(ref m) if m.starts_with(&format!("bug {i} in"))),
            "run {i}: {:?}",
            e.outcome
        );
    }
}

/// A failure that leaks a task in the middle of unwinding leaves the OS thread panicking; later
/// passing runs must not report shuttle's "still unwinding" error.
#[test]
fn runs_after_a_poisoning_failure_still_pass() {
    let poison = || {
        let m = Arc::new(Mutex::new(()));
        let hs: Vec<_> = (0..2)
            .map(|t| {
                let m = Arc::clone(&m);
                thread::spawn(move || {
                    struct SwitchOnDrop;
                    impl Drop for SwitchOnDrop {
                        fn drop(&mut self) {
                            crate::engine::point();
                        }
                    }
                    let _d = SwitchOnDrop;
                    let _g = m.lock().unwrap_or_else(|p| p.into_inner());
                    crate::engine::point();
                    panic!("bug in {t}");
                })
            })
            .collect();
        for h in hs {
            let _ = h.join();
        }
    };
    let poisoned = std::thread::spawn(move || {
        for i in 0..20u32 {
            let bytes: Vec<u8> = (0..16).map(|k| (i * 7 + k * 13) as u8).collect();
            let e = run_once(&bytes, &EngineConfig::default(), poison);
            assert!(matches!(e.outcome, Outcome::Panic(ref m) if m.starts_with("bug in")));
            let e = run_once(&[], &EngineConfig::default(), two_threads_two_points);
            assert_eq!(e.outcome, Outcome::Pass, "run {i}");
        }
        std::thread::panicking()
    })
    .join()
    .unwrap();
    assert!(
        poisoned,
        "the test no longer poisons its thread; keep it honest"
    );
}

#[test]
fn custom_payload_is_kept() {
    #[derive(Debug)]
    struct Report(u32);
    let e = run_once(&[], &EngineConfig::default(), || {
        std::panic::panic_any(Report(7))
    });
    assert!(matches!(e.outcome, Outcome::Panic(_)));
    assert_eq!(
        e.payload.unwrap().downcast_ref::<Report>().map(|r| r.0),
        Some(7)
    );
}

#[test]
fn shuttle_messages_are_classified() {
    let c = |s: &str| classify(&s.to_owned());
    assert!(matches!(
        c("deadlock! blocked tasks: []"),
        Outcome::Deadlock(_)
    ));
    assert_eq!(
        c("exceeded max_steps bound 9. this might"),
        Outcome::StepBound(9)
    );
    assert!(matches!(
        c("a task was still unwinding a panic when"),
        Outcome::EngineError(_)
    ));
    assert!(matches!(
        c("no task was scheduled\nThis"),
        Outcome::EngineError(_)
    ));
    assert_eq!(
        c("index out of bounds"),
        Outcome::Panic("index out of bounds".into())
    );
}

/// `n` threads meet main at a barrier (so that all are runnable at once), then each adds 1 to
/// a counter with a separate load and store (a yield between them if `yielding`); main checks
/// the sum.
fn lost_update_among(n: usize, yielding: bool) -> impl Fn() + Send + Sync + 'static {
    move || {
        let c = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(shuttle::sync::Barrier::new(n + 1));
        let hs: Vec<_> = (0..n)
            .map(|_| {
                let (c, gate) = (Arc::clone(&c), Arc::clone(&gate));
                thread::spawn(move || {
                    gate.wait();
                    let v = c.load(Ordering::SeqCst);
                    if yielding {
                        thread::yield_now();
                    }
                    c.store(v + 1, Ordering::SeqCst);
                })
            })
            .collect();
        gate.wait();
        for h in hs {
            h.join().unwrap();
        }
        assert!(c.load(Ordering::SeqCst) == n, "lost update");
    }
}

fn tasks(decisions: &[Decision]) -> Vec<usize> {
    decisions.iter().map(|d| d.task).collect()
}

/// Replays `decisions` from their bytes and checks the same tasks run and the same outcome.
fn replays_identically(
    decisions: &[Decision],
    outcome: &Outcome,
    test: impl Fn() + Send + Sync + 'static,
) {
    let bytes = crate::engine::decisions_to_bytes(decisions);
    let replay = run_once(&bytes, &EngineConfig::default(), test);
    assert_eq!(&replay.outcome, outcome);
    assert_eq!(tasks(&replay.decisions), tasks(decisions));
    assert!(replay.decisions.iter().all(|d| d.from_byte));
}

/// 120 tasks that yield between load and store: the first schedule an `Explorer` runs (round
/// robin over them) loses updates, and its choices name tasks past the 64th runnable one.
#[test]
fn an_explored_failure_with_120_tasks_replays_from_bytes() {
    crate::engine::quiet_panics();
    let test = lost_update_among(120, true);
    let crate::engine::Exploration::Failed(found) =
        crate::engine::Explorer::new().preemptions(0).run(test)
    else {
        panic!("the round robin loses updates")
    };
    let d = &found.execution.decisions;
    assert_eq!(
        found.execution.outcome,
        Outcome::Panic("lost update".into())
    );
    assert!(d.iter().any(|d| d.runnable_count > 100 && d.rank >= 64));
    assert!(
        found.schedule.len() > d.len(),
        "some choices need two bytes"
    );
    let replay = run_once(
        &found.schedule,
        &EngineConfig::default(),
        lost_update_among(120, true),
    );
    assert_eq!(replay.outcome, found.execution.outcome);
    assert_eq!(tasks(&replay.decisions), tasks(d));
    assert_eq!(
        crate::engine::decisions_to_bytes(&replay.decisions),
        found.schedule
    );
}

/// shuttle's random scheduler finds a lost update among 100 tasks; its recorded decisions
/// (preemptions to tasks past the 64th) replay from bytes.
#[test]
fn a_random_failure_with_100_tasks_replays_from_bytes() {
    crate::engine::quiet_panics();
    let mut two_byte_choices = 0;
    for seed in 0..4 {
        let rec = crate::engine::Recording::new(
            shuttle::scheduler::RandomScheduler::new_from_seed(seed, 50),
        );
        let log = rec.log();
        let (outcome, _) =
            run_with_scheduler(rec, &EngineConfig::default(), lost_update_among(100, false));
        assert_eq!(outcome, Outcome::Panic("lost update".into()), "seed {seed}");
        let decisions = log.lock().unwrap().decisions.clone();
        assert!(decisions.iter().any(|d| d.runnable_count > 64));
        two_byte_choices += crate::engine::decisions_to_bytes(&decisions).len() - decisions.len();
        replays_identically(&decisions, &outcome, lost_update_among(100, false));
    }
    assert!(two_byte_choices > 0);
}

/// Any bytes, 300 tasks that yield (more than one byte can name, even without a runnable
/// current task):
/// the decisions they make, encoded again, make the same decisions.
#[test]
fn decisions_of_300_tasks_round_trip_through_bytes() {
    let mut state = 7u64;
    for _ in 0..3 {
        let bytes: Vec<u8> = (0..4000)
            .map(|_| super::super::byte_scheduler::splitmix64(&mut state) as u8)
            .collect();
        let first = run_once(
            &bytes,
            &EngineConfig::default(),
            lost_update_among(300, true),
        );
        assert!(
            first
                .decisions
                .iter()
                .any(|d| d.previous_rank.is_none() && d.runnable_count > 256 && d.rank >= 256)
        );
        replays_identically(
            &first.decisions,
            &first.outcome,
            lost_update_among(300, true),
        );
    }
}

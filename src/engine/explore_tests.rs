//! Tests of `explore.rs`.
use super::*;
use crate::engine::{Outcome, decisions_to_bytes, point, run_once};
use shuttle::sync::Mutex;
use shuttle::sync::atomic::{AtomicUsize, Ordering};
use shuttle::thread;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Main and one spawned thread, two scheduling points each.
fn two_by_two() {
    let t = thread::spawn(|| {
        point();
        point();
    });
    point();
    point();
    t.join().unwrap();
}

/// Hand count for `two_by_two`. Main's units are m1 (its point 1 to point 2) and m2 (point 2
/// to the join); the thread's are t0 (start to point 1), t1, t2 (point 2 to exit). Every unit
/// boundary with both tasks runnable is a decision. Once main has done m2 it blocks in the
/// join and the thread runs alone; once the thread has exited, main runs alone. A schedule is
/// the order of units up to that point, and its preemptions are its switches, counting from
/// main, which runs first:
///
/// ```text
/// ends with main's m2:  mm 0 | tmm 2, mtm 2 | ttmm 2, tmtm 4, mttm 2
/// ends with t2:         ttt 1 | mttt 1, tmtt 3, ttmt 3
/// ```
///
/// So 1 schedule with 0 preemptions, 2 with 1, 4 with 2, 2 with 3 and 1 with 4.
#[test]
fn counts_match_the_hand_count() {
    let expected = [1, 3, 7, 9, 10, 10];
    for (k, &n) in expected.iter().enumerate() {
        let got = Explorer::new().preemptions(k).run(two_by_two);
        assert!(
            matches!(got, Exploration::Exhausted { executions } if executions == n),
            "K={k}: {got:?}"
        );
    }
}

/// Spawns `n` threads, the `i`-th running `body(i)`, and joins them.
fn spawn_and_join(n: usize, body: impl Fn(usize) + Send + Sync + 'static) {
    let body = Arc::new(body);
    let hs: Vec<_> = (0..n)
        .map(|i| {
            let body = Arc::clone(&body);
            thread::spawn(move || body(i))
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

/// Three threads, so that some decisions have three candidates.
fn three_threads() {
    let m = Arc::new(Mutex::new(0));
    spawn_and_join(3, move |i| {
        point();
        *m.lock().unwrap() += i;
    });
}

#[test]
fn every_schedule_once_within_the_bound_and_each_replays_from_bytes() {
    for k in 0..3 {
        let explorer = Explorer::new().preemptions(k);
        let (exploration, visited) = explorer.bound(
            k,
            Instant::now(),
            &[],
            Arc::new(three_threads),
            true,
            &mut None,
        );
        let Exploration::Exhausted { executions } = exploration else {
            panic!("K={k}: {exploration:?}")
        };
        assert_eq!(visited.len(), executions);
        let distinct: BTreeSet<Vec<usize>> = visited
            .iter()
            .map(|v| v.iter().map(|d| d.task).collect())
            .collect();
        assert_eq!(distinct.len(), executions, "K={k}: a schedule ran twice");
        for decisions in &visited {
            assert!(decisions.iter().filter(|d| d.preemption).count() <= k);
            let replay = run_once(
                &decisions_to_bytes(decisions),
                &EngineConfig::default(),
                three_threads,
            );
            assert_eq!(replay.outcome, Outcome::Pass);
            let strip = |d: &Decision| Decision {
                from_byte: false,
                ..*d
            };
            let replayed: Vec<Decision> = replay.decisions.iter().map(strip).collect();
            assert_eq!(&replayed, decisions, "K={k}");
        }
    }
}

fn lost_update() {
    let c = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&c);
    spawn_and_join(2, move |_| {
        let v = counter.load(Ordering::SeqCst);
        counter.store(v + 1, Ordering::SeqCst);
    });
    assert!(c.load(Ordering::SeqCst) == 2, "lost update");
}

#[test]
fn finds_the_lost_update_with_one_preemption_and_replays_it() {
    let none = Explorer::new().preemptions(0).run(lost_update);
    assert!(matches!(none, Exploration::Exhausted { .. }), "{none:?}");
    let Exploration::Failed(found) = Explorer::new().preemptions(1).run(lost_update) else {
        panic!("K=1 finds the lost update")
    };
    assert_eq!(
        found.execution.outcome,
        Outcome::Panic("lost update".into())
    );
    assert_eq!(
        found
            .execution
            .decisions
            .iter()
            .filter(|d| d.preemption)
            .count(),
        1
    );
    assert_replays(&found, lost_update);
}

/// `found`'s bytes replay its execution: the same outcome, steps, and task at each decision.
fn assert_replays(found: &Counterexample, test: fn()) {
    let replay = run_once(&found.schedule, &EngineConfig::default(), test);
    assert_eq!(replay.outcome, found.execution.outcome);
    let tasks = |e: &Execution| {
        e.decisions
            .iter()
            .map(|d| (d.step, d.task))
            .collect::<Vec<_>>()
    };
    assert_eq!(tasks(&replay), tasks(&found.execution));
    assert_eq!(replay.steps, found.execution.steps);
}

/// The lost update, with a point before each access, under a digest that lies: every point is
/// one state, so once a subtree has been explored, every new decision is "covered" and its
/// execution runs on by defaults with its points skipped, the lost update among them.
fn lost_update_under_a_lying_digest() {
    if crate::engine::state::wanted() {
        crate::engine::state::provide(|| Some(0));
    }
    let c = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&c);
    spawn_and_join(2, move |_| {
        point();
        let v = counter.load(Ordering::SeqCst);
        point();
        counter.store(v + 1, Ordering::SeqCst);
        // Points after the race, explored first (depth first): their subtrees are finished
        // before the search preempts a task between its load and its store.
        for _ in 0..3 {
            point();
        }
    });
    assert!(c.load(Ordering::SeqCst) == 2, "lost update");
}

/// A failure met after the walk stopped marking points (which only an unsound digest or
/// reduction allows) is run again with every point: the counterexample's decisions are the
/// execution's, and its bytes replay it.
#[test]
fn a_failure_in_a_covered_run_is_reported_with_every_decision() {
    let test = lost_update_under_a_lying_digest;
    let Exploration::Failed(found) = Explorer::new()
        .preemptions(usize::MAX)
        .cache_states(true)
        .run(test)
    else {
        panic!("the lost update is found in a covered run")
    };
    assert_eq!(
        found.execution.outcome,
        Outcome::Panic("lost update".into())
    );
    assert_replays(&found, test);
}

#[test]
fn max_executions_truncates() {
    let got = Explorer::new()
        .preemptions(2)
        .max_executions(4)
        .run(two_by_two);
    assert!(
        matches!(got, Exploration::Truncated { executions: 4 }),
        "{got:?}"
    );
}

#[test]
fn a_nondeterministic_test_is_an_engine_error() {
    // A process-wide counter survives executions, so later executions differ from the first.
    let nondeterministic = |shorter: bool| {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        move || {
            let first = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
            let a = thread::spawn(point);
            let b = (!first && !shorter).then(|| thread::spawn(point));
            point();
            if first || !shorter {
                point();
            }
            a.join().unwrap();
            if let Some(b) = b {
                b.join().unwrap();
            }
        }
    };
    for shorter in [false, true] {
        let got = Explorer::new()
            .preemptions(1)
            .run(nondeterministic(shorter));
        let Exploration::Failed(found) = got else {
            panic!("{got:?}")
        };
        let outcome = &found.execution.outcome;
        assert!(
            matches!(outcome, Outcome::EngineError(m) if m.contains("nondeterministic")),
            "{outcome:?}"
        );
    }
}

/// Fails in every execution, with the order in which the two threads ran.
fn always_fails_with_order() {
    let order = std::sync::Arc::new(shuttle::sync::Mutex::new(String::new()));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let order = std::sync::Arc::clone(&order);
            shuttle::thread::spawn(move || order.lock().unwrap().push_str(&i.to_string()))
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let o = order.lock().unwrap().clone();
    panic!("order {o}");
}

#[test]
fn accept_walks_past_rejected_failures() {
    crate::engine::quiet_panics();
    let explorer = || Explorer::new().preemptions(1);
    let first = match explorer().run(always_fails_with_order) {
        Exploration::Failed(c) => c.execution.outcome,
        other => panic!("{other:?}"),
    };
    let wanted = if first == Outcome::Panic("order 01".into()) {
        "order 10"
    } else {
        "order 01"
    };
    let found = explorer()
        .accept(move |e| e.outcome == Outcome::Panic(wanted.into()))
        .run(always_fails_with_order);
    let Exploration::Failed(c) = found else {
        panic!("{found:?}")
    };
    assert_eq!(c.execution.outcome, Outcome::Panic(wanted.into()));
    assert!(c.executions > 1);
    // Rejecting everything exhausts the bounded space.
    let none = explorer().accept(|_| false).run(always_fails_with_order);
    assert!(matches!(none, Exploration::Exhausted { .. }), "{none:?}");
}

#[test]
fn deepening_counts_each_bound_and_reports_progress() {
    let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let got = Explorer::new()
        .preemptions(3)
        .progress(Duration::ZERO, move |p| {
            sink.lock().unwrap().push(p.clone())
        })
        .run_deepening(two_by_two);
    let Deepening::Exhausted { completed } = got else {
        panic!("{got:?}")
    };
    assert_eq!(completed, [1, 3, 7, 9]);
    let reports = reports.lock().unwrap();
    // One at the start of each bound, then one per execution (interval zero).
    assert_eq!(reports.len(), 4 + 1 + 3 + 7 + 9);
    let last = reports.last().unwrap();
    assert_eq!((last.k, last.executions_at_k, last.executions), (3, 9, 20));
    assert_eq!(last.completed, [1, 3, 7]);
}

#[test]
fn deepening_stops_at_the_time_budget_and_says_where() {
    // Three spinning threads: far too many schedules at K = 3 for 50 ms.
    let busy = || {
        let hs: Vec<_> = (0..3)
            .map(|_| {
                thread::spawn(|| {
                    for _ in 0..20 {
                        point();
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
    };
    let t = std::time::Instant::now();
    let got = Explorer::new()
        .preemptions(6)
        .time(Duration::from_millis(50))
        .run_deepening(busy);
    assert!(t.elapsed() < Duration::from_secs(5));
    let Deepening::Stopped {
        by: Budget::Time,
        k,
        executions_at_k,
        completed,
        ..
    } = got
    else {
        panic!("{got:?}")
    };
    assert_eq!(completed.len(), k);
    assert!(executions_at_k > 0 || k > 0);
}

#[test]
fn deepening_reports_a_failure_at_the_fewest_preemptions() {
    let got = Explorer::new().preemptions(3).run_deepening(lost_update);
    let Deepening::Failed {
        k, counterexample, ..
    } = got
    else {
        panic!("{got:?}")
    };
    assert_eq!(k, 1);
    assert_eq!(counterexample.execution.preemptions(), 1);
}

#[test]
fn the_estimate_extrapolates_the_growth() {
    assert_eq!(estimate_schedules(&[1], 1), None);
    // shmem-truncate on Fixed: 3, 317, 18,366 schedules; 754,511 at K = 3.
    let e = estimate_schedules(&[3, 317, 18_366], 3).unwrap();
    assert!((600_000..900_000).contains(&e), "{e}");
    // zap-4k: 16,197 at K = 2.
    let e = estimate_schedules(&[3, 355], 2).unwrap();
    assert!((12_000..22_000).contains(&e), "{e}");
}

#[test]
fn deepening_past_truncated_bounds_only_when_asked() {
    let run = |next_bound_when_truncated| {
        Explorer::new()
            .preemptions(2)
            .max_executions(2)
            .next_bound_when_truncated(next_bound_when_truncated)
            .run_deepening(two_by_two)
    };
    // two_by_two has 1, 3, 7 schedules at K = 0, 1, 2.
    let stopped = run(false);
    assert!(
        matches!(stopped, Deepening::Stopped { by: Budget::Executions, k: 1, executions_at_k: 2, ref completed, .. } if completed == &[1]),
        "{stopped:?}"
    );
    let went_on = run(true);
    assert!(
        matches!(went_on, Deepening::Stopped { k: 2, ref completed, .. } if completed == &[1, 2]),
        "{went_on:?}"
    );
}

/// Final states (cells and accumulators) of the executions of `rw_tasks(ops)`.
mod reduction {
    use super::*;
    use crate::engine::search::naive;
    use crate::engine::{Access, access, local};
    use std::cell::RefCell;
    use std::sync::Mutex as StdMutex;

    thread_local!(static FINALS: RefCell<BTreeSet<Vec<i64>>> = RefCell::default());

    type Ops = &'static [&'static [(u64, bool)]];

    /// Tasks that each read or write cells `ops[i]` in annotated steps (each access its own
    /// step, the first at the task's start), folding what they read into an accumulator.
    fn rw_tasks(ops: Ops) -> impl Fn() + Send + Sync + Clone + 'static {
        move || {
            let mem = Arc::new(StdMutex::new([0i64; 4]));
            let hs: Vec<_> = ops
                .iter()
                .enumerate()
                .map(|(t, list)| {
                    let mem = Arc::clone(&mem);
                    thread::spawn(move || {
                        let mut acc = t as i64 + 1;
                        for (i, &(cell, write)) in list.iter().enumerate() {
                            if i > 0 {
                                point();
                            }
                            access(cell, if write { Access::Write } else { Access::Read });
                            let mut m = mem.lock().unwrap();
                            if write {
                                m[cell as usize] = m[cell as usize] * 3 + acc;
                            } else {
                                acc = acc * 5 + m[cell as usize];
                            }
                        }
                        point();
                        local();
                        acc
                    })
                })
                .collect();
            let mut fin: Vec<i64> = hs.into_iter().map(|h| h.join().unwrap()).collect();
            fin.extend(mem.lock().unwrap().iter());
            FINALS.with(|f| f.borrow_mut().insert(fin));
        }
    }

    fn finals(ops: Ops, k: usize, reduce: bool, naive_rule: bool) -> (BTreeSet<Vec<i64>>, usize) {
        FINALS.with(|f| f.borrow_mut().clear());
        naive::set(naive_rule);
        let e = Explorer::new().preemptions(k).reduction(reduce);
        let got = e.run(rw_tasks(ops));
        naive::set(false);
        assert!(matches!(got, Exploration::Exhausted { .. }), "{got:?}");
        (
            FINALS.with(|f| f.borrow().clone()),
            e.coverage()[0].executions,
        )
    }

    const PROGRAMS: [Ops; 3] = [
        &[
            &[(0, true), (1, true)],
            &[(2, true), (1, true)],
            &[(3, true), (1, false)],
        ],
        &[
            &[(0, true), (1, false), (0, false)],
            &[(1, true), (0, true)],
        ],
        &[
            &[(0, false), (1, true)],
            &[(1, false), (0, true)],
            &[(2, true), (0, false)],
        ],
    ];

    /// With the admission rule, every bound keeps every final state; admitting every explored
    /// choice (sleep sets as without a bound) loses some under a bound: the postponed step's
    /// equivalent schedule needs more preemptions than the bound allows.
    #[test]
    fn the_bound_needs_the_admission_rule() {
        let mut naive_lost = 0;
        for ops in PROGRAMS {
            for k in 0..=3 {
                let (full, n_full) = finals(ops, k, false, false);
                let (reduced, n_reduced) = finals(ops, k, true, false);
                assert_eq!(full, reduced, "K={k} {ops:?}");
                assert!(n_reduced <= n_full);
                let (naive, _) = finals(ops, k, true, true);
                assert!(naive.is_subset(&full));
                naive_lost += usize::from(naive != full);
            }
            let (full, n_full) = finals(ops, usize::MAX, false, false);
            let (reduced, n_reduced) = finals(ops, usize::MAX, true, false);
            assert_eq!(full, reduced, "unbounded {ops:?}");
            assert!(n_reduced < n_full, "{n_reduced} < {n_full}");
        }
        assert!(naive_lost > 0, "the naive rule loses a state somewhere");
    }

    /// The class count keeps the clocks of the steps an execution shares with the last one
    /// counted, and the trace keeps those steps: its hash of every execution's trace equals the
    /// hash computed from scratch, and the kept trace equals one recorded from the execution's
    /// first step (both checked inside the search), on the programs above and on every built-in
    /// scenario at K = 1, with and without the reduction, bounded and not. (Keeping one step
    /// too many at the backtrack node fails it.)
    #[test]
    fn incremental_class_hashes_equal_hashes_from_scratch() {
        use crate::engine::reduction::from_scratch;
        use crate::model::PatchSet;
        crate::engine::quiet_panics();
        from_scratch::set(true);
        let classes = |e: &Explorer, got: Exploration| {
            assert!(matches!(got, Exploration::Exhausted { .. }), "{got:?}");
            e.coverage()[0].classes.expect("counted")
        };
        for ops in PROGRAMS {
            for k in [0, 1, 2, 3, usize::MAX] {
                let counts: Vec<usize> = [false, true]
                    .into_iter()
                    .map(|reduce| {
                        let e = Explorer::new()
                            .preemptions(k)
                            .reduction(reduce)
                            .count_classes(true);
                        let got = e.run(rw_tasks(ops));
                        classes(&e, got)
                    })
                    .collect();
                assert_eq!(counts[0], counts[1], "K={k} {ops:?}");
            }
        }
        for (scenario, _, _) in crate::program::text::builtin() {
            let p = crate::program::text::load(scenario).unwrap().program;
            let c = crate::check::config::model(PatchSet::fixed());
            for reduce in [false, true] {
                let p = p.clone();
                let e = Explorer::new()
                    .preemptions(1)
                    .reduction(reduce)
                    .count_classes(true);
                let got = e.run(move || crate::check::run::execute(&p, c));
                assert!(classes(&e, got) > 1, "{scenario}");
            }
        }
        from_scratch::set(false);
    }
}

/// Review (rev11): two spinners `while FLAG == 0 { point() }` and a task that sets FLAG, under an
/// honest digest (FLAG, which tasks finished, main's progress, who runs: a spinner's iteration
/// count does not change its future). The default continuation of a spinner's state spins until
/// the step bound, which `accept` rejects (as a caller that wants another failure would). Once a
/// spinner's state is explored, a new path that reaches it is covered and goes quiet: the
/// spinner's `point()`s are skipped, so it spins with no scheduling point at all and the step
/// bound never fires. Before f6a21f0 that covered run hit the step bound (rejected) and the walk
/// went on; since, the walk never returns.
#[test]
fn a_covered_spinner_still_meets_the_step_bound() {
    use std::sync::atomic::{AtomicUsize as StdUsize, Ordering as StdOrdering};
    fn spinners() {
        let flag = Arc::new(StdUsize::new(0));
        let done = Arc::new(StdUsize::new(0)); // bit per finished task, plus main's progress << 8
        {
            let (f, d) = (Arc::clone(&flag), Arc::clone(&done));
            if crate::engine::state::wanted() {
                crate::engine::state::provide(move || {
                    Some(crate::engine::state::digest_of(&(
                        f.load(StdOrdering::SeqCst),
                        d.load(StdOrdering::SeqCst),
                    )))
                });
            }
        }
        let mut hs = Vec::new();
        {
            let (f, d) = (Arc::clone(&flag), Arc::clone(&done));
            hs.push(thread::spawn(move || {
                f.store(1, StdOrdering::SeqCst);
                d.fetch_or(1, StdOrdering::SeqCst);
            }));
            done.fetch_add(1 << 8, StdOrdering::SeqCst);
        }
        for bit in [2usize, 4] {
            let (f, d) = (Arc::clone(&flag), Arc::clone(&done));
            hs.push(thread::spawn(move || {
                while f.load(StdOrdering::SeqCst) == 0 {
                    point();
                }
                d.fetch_or(bit, StdOrdering::SeqCst);
            }));
            done.fetch_add(1 << 8, StdOrdering::SeqCst);
        }
        for h in hs {
            h.join().unwrap();
            done.fetch_add(1 << 8, StdOrdering::SeqCst);
        }
    }
    crate::engine::quiet_panics();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let cfg = EngineConfig {
            max_steps: 20,
            ..EngineConfig::default()
        };
        let got = Explorer::new()
            .preemptions(usize::MAX)
            .cache_states(true)
            .config(&cfg)
            .max_executions(100_000)
            .accept(|e| !matches!(e.outcome, Outcome::StepBound(_)))
            .run(spinners);
        let _ = tx.send(format!("{got:?}"));
    });
    let got = rx.recv_timeout(std::time::Duration::from_secs(60));
    assert!(
        got.is_ok(),
        "the exploration did not end in 60 s: a covered spinner runs with its points skipped"
    );
    let got = got.unwrap();
    assert!(got.starts_with("Exhausted"), "{got}");
}

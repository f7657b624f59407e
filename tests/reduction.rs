//! Soundness of the explorer's partial-order reduction (`src/engine/reduction.rs`) on small
//! generic shuttle programs with annotations: with and without reduction, at each preemption
//! bound and without one, the same final states are reachable and the same number of
//! equivalence classes is covered, and the reduced search runs no more schedules.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex as StdMutex};

use swapfuzz::engine::{
    Access, Coverage, Exploration, Explorer, TaskId, access, current_task, finishes_quietly, local,
    point, sleep, wake,
};

thread_local! {
    static FINALS: RefCell<BTreeSet<Vec<i64>>> = RefCell::default();
}

fn record_final(v: Vec<i64>) {
    FINALS.with(|f| f.borrow_mut().insert(v));
}

/// Final states and coverage of an exhaustive search of `test` at bound `k`.
fn explore<F>(test: F, k: usize, reduce: bool) -> (BTreeSet<Vec<i64>>, Coverage)
where
    F: Fn() + Send + Sync + 'static,
{
    FINALS.with(|f| f.borrow_mut().clear());
    let explorer = Explorer::new()
        .preemptions(k)
        .reduction(reduce)
        .count_classes(true);
    let result = explorer.run(test);
    assert!(
        matches!(result, Exploration::Exhausted { .. }),
        "{result:?}"
    );
    let coverage = explorer.coverage()[0];
    (FINALS.with(|f| f.borrow().clone()), coverage)
}

/// Checks reduced against unreduced at bounds 0..=3 and without a bound; returns the
/// (unreduced, reduced) schedule counts without a bound.
fn same_outcomes<F>(name: &str, test: F) -> (usize, usize)
where
    F: Fn() + Send + Sync + Clone + 'static,
{
    let mut last = (0, 0);
    for k in [0, 1, 2, 3, usize::MAX] {
        let (full, before) = explore(test.clone(), k, false);
        let (reduced, after) = explore(test.clone(), k, true);
        assert_eq!(full, reduced, "{name} K={k}: final states differ");
        assert_eq!(
            before.classes, after.classes,
            "{name} K={k}: classes differ"
        );
        assert!(after.executions <= before.executions, "{name} K={k}");
        last = (before.executions, after.executions);
    }
    last
}

/// Memory of a few cells that tasks read and write in annotated steps.
type Mem = Arc<StdMutex<Vec<i64>>>;

/// One annotated step: `point()`, then a read or write of `cell` (folded into `acc`).
fn rw(mem: &Mem, acc: &mut i64, cell: usize, write: bool) {
    point();
    access(
        cell as u64,
        if write { Access::Write } else { Access::Read },
    );
    let mut m = mem.lock().unwrap();
    if write {
        m[cell] = m[cell] * 3 + *acc;
    } else {
        *acc = *acc * 5 + m[cell];
    }
}

/// Tasks `ops[i]` of (cell, write) steps each; the final state is every task's accumulator and
/// the memory.
fn rw_program(ops: &'static [&'static [(usize, bool)]]) -> impl Fn() + Send + Sync + Clone {
    rw_program_ending(ops, false)
}

/// [`rw_program`] whose tasks end in their last annotated step, declared a quiet finish
/// ([`finishes_quietly`]: the main task joins them in unannotated steps).
fn rw_program_quiet(ops: &'static [&'static [(usize, bool)]]) -> impl Fn() + Send + Sync + Clone {
    rw_program_ending(ops, true)
}

/// [`rw_program`], its tasks ending in a quiet finish or in a last local step of their own.
fn rw_program_ending(
    ops: &'static [&'static [(usize, bool)]],
    quiet: bool,
) -> impl Fn() + Send + Sync + Clone {
    move || {
        let mem: Mem = Arc::new(StdMutex::new(vec![0; 4]));
        let handles: Vec<_> = ops
            .iter()
            .enumerate()
            .map(|(t, list)| {
                let mem = Arc::clone(&mem);
                shuttle::thread::spawn(move || {
                    let mut acc = t as i64 + 1;
                    for &(cell, write) in *list {
                        rw(&mem, &mut acc, cell, write);
                    }
                    if quiet {
                        finishes_quietly();
                    } else {
                        point();
                        local();
                    }
                    acc
                })
            })
            .collect();
        let mut fin: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        fin.extend(mem.lock().unwrap().iter());
        record_final(fin);
    }
}

/// Quiet finishes: the same final states and classes with and without reduction, and, since a
/// task's last step no longer conflicts with every step, fewer schedules than with the
/// unknown last steps of [`rw_program`] (at K = 1 too, where nothing else prunes).
#[test]
fn quiet_finishes_commute() {
    const SHARED: &[&[(usize, bool)]] = &[&[(0, false), (1, true)], &[(1, false), (0, true)]];
    same_outcomes("quiet shared", rw_program_quiet(SHARED));
    const APART: &[&[(usize, bool)]] =
        &[&[(0, true), (0, false), (0, true)], &[(1, true), (1, true)]];
    let (_, quiet) = same_outcomes("quiet apart", rw_program_quiet(APART));
    let (_, unknown) = same_outcomes("unknown apart", rw_program(APART));
    assert!(quiet < unknown, "{quiet} < {unknown}");
    let (_, quiet1) = explore(rw_program_quiet(APART), 1, true);
    let (_, unknown1) = explore(rw_program(APART), 1, true);
    assert!(
        quiet1.executions < unknown1.executions,
        "K=1: {quiet1:?} {unknown1:?}"
    );
}

#[test]
fn independent_tasks_collapse_to_one_class() {
    let (before, after) = same_outcomes(
        "independent",
        rw_program(&[
            &[(0, true), (0, false)],
            &[(1, true), (1, true)],
            &[(2, false), (2, true)],
        ]),
    );
    assert!(after < before, "{after} < {before}");
}

#[test]
fn readers_and_writers_of_shared_cells() {
    same_outcomes(
        "shared",
        rw_program(&[
            &[(0, false), (1, true)],
            &[(1, false), (0, true)],
            &[(2, true), (0, false)],
        ]),
    );
    same_outcomes(
        "two writers",
        rw_program(&[&[(0, true), (1, true), (0, false)], &[(1, true), (0, true)]]),
    );
}

/// Annotated steps around a shuttle mutex (its operations are unannotated: unknown).
#[test]
fn annotated_steps_and_a_mutex() {
    let test = || {
        let mem: Mem = Arc::new(StdMutex::new(vec![0; 4]));
        let lock = Arc::new(shuttle::sync::Mutex::new(0i64));
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let (mem, lock) = (Arc::clone(&mem), Arc::clone(&lock));
                shuttle::thread::spawn(move || {
                    let mut acc = t + 1;
                    rw(&mem, &mut acc, t as usize, true);
                    {
                        let mut g = lock.lock().unwrap();
                        rw(&mem, &mut acc, 2, false);
                        *g = *g * 7 + acc;
                        rw(&mem, &mut acc, 2, true);
                    }
                    rw(&mem, &mut acc, 1 - t as usize, false);
                    point();
                    local();
                    acc
                })
            })
            .collect();
        let mut fin: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        fin.extend(mem.lock().unwrap().iter());
        fin.push(*lock.lock().unwrap());
        record_final(fin);
    };
    same_outcomes("mutex", test);
}

/// A waiter that sleeps ([`sleep`]) until a waker sets a flag and wakes it, with independent
/// annotated work on both sides; the flag and the waiting mark are one annotated object.
#[test]
fn sleep_and_wake() {
    let test = || {
        let mem: Mem = Arc::new(StdMutex::new(vec![0; 4]));
        let waiting: Arc<StdMutex<(bool, Option<TaskId>)>> = Arc::default();
        const FLAG: u64 = 100;
        let (m, w) = (Arc::clone(&mem), Arc::clone(&waiting));
        let waiter = shuttle::thread::spawn(move || {
            let mut acc = 1;
            rw(&m, &mut acc, 0, true);
            loop {
                point();
                access(FLAG, Access::Write);
                let mut g = w.lock().unwrap();
                if g.0 {
                    break;
                }
                g.1 = Some(current_task());
                drop(g);
                sleep();
            }
            rw(&m, &mut acc, 1, false);
            point();
            local();
            acc
        });
        let (m, w) = (Arc::clone(&mem), Arc::clone(&waiting));
        let waker = shuttle::thread::spawn(move || {
            let mut acc = 2;
            rw(&m, &mut acc, 1, true);
            point();
            access(FLAG, Access::Write);
            let mut g = w.lock().unwrap();
            g.0 = true;
            if let Some(t) = g.1.take() {
                wake(t);
            }
            drop(g);
            rw(&m, &mut acc, 0, false);
            point();
            local();
            acc
        });
        let mut fin = vec![waiter.join().unwrap(), waker.join().unwrap()];
        fin.extend(mem.lock().unwrap().iter());
        record_final(fin);
    };
    same_outcomes("sleep/wake", test);
}

/// The comparison can fail: annotations that lie (a reader and a writer of one cell that claim
/// different objects) lose a final state under reduction.
#[test]
fn lying_annotations_lose_states() {
    let test = || {
        let mem: Mem = Arc::new(StdMutex::new(vec![0; 4]));
        let m = Arc::clone(&mem);
        let reader = shuttle::thread::spawn(move || {
            access(51, Access::Read); // a lie: it reads cell 0, which the writer writes
            let seen = m.lock().unwrap()[0];
            point();
            local();
            seen
        });
        let m = Arc::clone(&mem);
        let writer = shuttle::thread::spawn(move || {
            access(50, Access::Write);
            m.lock().unwrap()[0] = 1;
            point();
            access(50, Access::Write);
            m.lock().unwrap()[0] = 2;
            point();
            local();
        });
        writer.join().unwrap();
        record_final(vec![reader.join().unwrap()]);
    };
    let (full, _) = explore(test, usize::MAX, false);
    let (reduced, _) = explore(test, usize::MAX, true);
    assert_eq!(full.len(), 3, "{full:?}");
    assert!(reduced.len() < full.len(), "{reduced:?} {full:?}");
}

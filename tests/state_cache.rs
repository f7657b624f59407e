//! Soundness of the explorer's state caching (`src/engine/state.rs`) on small generic shuttle
//! programs whose tests give a digest of their state: with and without the cache, with and
//! without the partial-order reduction, at each preemption bound and without one, the same
//! final states are reachable and the cached search runs no more schedules. A digest that
//! leaves out what a task has observed loses final states (the check can fail).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex as StdMutex};

use swapfuzz::engine::{Access, Exploration, Explorer, access, point, state};

thread_local! {
    static FINALS: RefCell<BTreeSet<Vec<i64>>> = RefCell::default();
}

/// The shared cells, and each task's accumulator and count of steps done (its place and its
/// local variables: all the test's state).
#[derive(Hash)]
struct Mem {
    cells: Vec<i64>,
    tasks: Vec<(i64, usize)>,
}

/// What the digest covers: everything, or (a lie) the cells only.
#[derive(Clone, Copy, PartialEq)]
enum Digest {
    Whole,
    CellsOnly,
}

/// Tasks `ops[i]` of annotated (cell, write) steps each; the final state is every task's
/// accumulator and the memory.
fn program(
    ops: &'static [&'static [(usize, bool)]],
    digest: Digest,
) -> impl Fn() + Send + Sync + Clone {
    move || {
        let mem = Arc::new(StdMutex::new(Mem {
            cells: vec![0; 3],
            tasks: (0..ops.len()).map(|t| (t as i64 + 1, 0)).collect(),
        }));
        if state::wanted() {
            let m = Arc::clone(&mem);
            state::provide(move || {
                let m = m.lock().ok()?;
                Some(match digest {
                    Digest::Whole => state::digest_of(&*m),
                    Digest::CellsOnly => state::digest_of(&m.cells),
                })
            });
        }
        let handles: Vec<_> = ops
            .iter()
            .enumerate()
            .map(|(t, list)| {
                let mem = Arc::clone(&mem);
                shuttle::thread::spawn(move || {
                    for &(cell, write) in *list {
                        point();
                        access(
                            cell as u64,
                            if write { Access::Write } else { Access::Read },
                        );
                        let mut m = mem.lock().unwrap();
                        let acc = m.tasks[t].0;
                        if write {
                            m.cells[cell] = m.cells[cell] * 3 + acc;
                        } else {
                            m.tasks[t].0 = acc * 5 + m.cells[cell];
                        }
                        m.tasks[t].1 += 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let m = mem.lock().unwrap();
        let mut fin: Vec<i64> = m.tasks.iter().map(|&(acc, _)| acc).collect();
        fin.extend(&m.cells);
        FINALS.with(|f| f.borrow_mut().insert(fin));
    }
}

/// Final states and schedules run of an exhaustive search at bound `k`.
fn explore<F>(test: F, k: usize, reduce: bool, cache: bool) -> (BTreeSet<Vec<i64>>, usize)
where
    F: Fn() + Send + Sync + 'static,
{
    FINALS.with(|f| f.borrow_mut().clear());
    let explorer = Explorer::new()
        .preemptions(k)
        .reduction(reduce)
        .cache_states(cache);
    let Exploration::Exhausted { executions } = explorer.run(test) else {
        panic!("the search ends without a failure")
    };
    (FINALS.with(|f| f.borrow().clone()), executions)
}

/// Same final states with and without the cache at bounds 0..=3 and without a bound, with
/// and without the reduction; returns the schedules run without a bound (plain, cached).
fn same_finals(name: &str, ops: &'static [&'static [(usize, bool)]]) -> (usize, usize) {
    let mut last = (0, 0);
    for k in [0, 1, 2, 3, usize::MAX] {
        for reduce in [false, true] {
            let (plain, n_plain) = explore(program(ops, Digest::Whole), k, reduce, false);
            let (cached, n_cached) = explore(program(ops, Digest::Whole), k, reduce, true);
            assert_eq!(
                plain, cached,
                "{name} K={k} reduce={reduce}: final states differ"
            );
            assert!(n_cached <= n_plain, "{name} K={k}: {n_cached} > {n_plain}");
            if !reduce {
                last = (n_plain, n_cached);
            }
        }
    }
    last
}

#[test]
fn shared_cells_keep_their_final_states() {
    let (plain, cached) = same_finals(
        "shared",
        &[
            &[(0, false), (1, true), (0, true)],
            &[(1, false), (0, true), (1, true)],
        ],
    );
    assert!(
        cached < plain,
        "the cache merges something: {cached} < {plain}"
    );
    same_finals(
        "three tasks",
        &[
            &[(0, false), (1, true)],
            &[(1, false), (0, true)],
            &[(2, true), (0, false)],
        ],
    );
    same_finals(
        "two writers",
        &[&[(0, true), (1, true), (0, false)], &[(1, true), (0, true)]],
    );
}

#[test]
fn independent_tasks_merge_to_few_states() {
    let (plain, cached) = same_finals(
        "independent",
        &[
            &[(0, true), (0, false), (0, true)],
            &[(1, true), (1, false), (1, true)],
        ],
    );
    // Without a bound the tasks' steps interleave in C(6,3) = 20 orders whose states are the
    // grid of (steps of task 0, steps of task 1): far fewer schedules.
    assert!(cached * 2 < plain, "{cached} vs {plain}");
}

/// A digest that leaves out the tasks' accumulators merges states whose futures differ (a
/// task that read 0 and one that read 2 write different values next): final states are lost.
#[test]
fn a_digest_without_what_tasks_observed_loses_final_states() {
    const OPS: &[&[(usize, bool)]] = &[&[(0, false), (1, true)], &[(0, true), (0, true)]];
    let (plain, _) = explore(program(OPS, Digest::Whole), usize::MAX, false, false);
    let (lying, _) = explore(program(OPS, Digest::CellsOnly), usize::MAX, false, true);
    assert!(
        lying.is_subset(&plain) && lying.len() < plain.len(),
        "{lying:?} vs {plain:?}"
    );
}

//! Soundness of the explorer's state caching (`src/engine/state.rs`) on small generic shuttle
//! programs whose tests give a digest of their state: with and without the cache, with and
//! without the partial-order reduction, at each preemption bound and without one, the same
//! final states are reachable and the cached search runs no more schedules (also when an
//! iterative deepening carries the cache from bound to bound). A digest that
//! leaves out what a task has observed loses final states (the check can fail).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex as StdMutex};

use swapfuzz::engine::{
    Access, Deepening, Exploration, Explorer, access, finishes_quietly, local, point, state,
};

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

/// How a search runs: one search at the bound, or an iterative deepening to it (which carries
/// the states explored at each bound to the next).
#[derive(Clone, Copy, PartialEq)]
enum Run {
    Bound,
    Deepening,
}

/// Final states and schedules run (of the last bound) of an exhaustive search to bound `k`.
fn explore<F>(test: F, k: usize, reduce: bool, cache: bool) -> (BTreeSet<Vec<i64>>, usize)
where
    F: Fn() + Send + Sync + 'static,
{
    explore_as(Run::Bound, test, k, reduce, cache)
}

fn explore_as<F>(
    run: Run,
    test: F,
    k: usize,
    reduce: bool,
    cache: bool,
) -> (BTreeSet<Vec<i64>>, usize)
where
    F: Fn() + Send + Sync + 'static,
{
    FINALS.with(|f| f.borrow_mut().clear());
    let explorer = Explorer::new()
        .preemptions(k)
        .reduction(reduce)
        .cache_states(cache);
    let executions = match run {
        Run::Bound => match explorer.run(test) {
            Exploration::Exhausted { executions } => Some(executions),
            _ => None,
        },
        Run::Deepening => match explorer.run_deepening(test) {
            Deepening::Exhausted { completed } => completed.last().copied(),
            _ => None,
        },
    };
    let executions = executions.expect("the search ends without a failure");
    (FINALS.with(|f| f.borrow().clone()), executions)
}

/// Same final states with and without the cache at bounds 0..=3 and without a bound, with
/// and without the reduction, and with the cache carried through an iterative deepening to
/// each bound; returns the schedules run without a bound (plain, cached).
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
            if k != usize::MAX {
                let (deepened, _) =
                    explore_as(Run::Deepening, program(ops, Digest::Whole), k, reduce, true);
                assert_eq!(
                    plain, deepened,
                    "{name} K={k} reduce={reduce}: final states differ when deepening"
                );
            }
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

/// The state of [`locks_sleeps_yields_and_quiet_finishes`]: the cells, a sleeping lock (holder
/// and waiters), a flag with its waiter, each task's accumulator and place, and how many tasks
/// the main task has joined: everything its future depends on.
#[derive(Default, Hash)]
struct World {
    cells: [i64; 3],
    holder: Option<usize>,
    lock_waiters: u8,
    flag: bool,
    flag_waiter: bool,
    tasks: [(i64, u32); 3],
    joined: u32,
}

type Shared = Arc<StdMutex<(World, [Option<swapfuzz::engine::TaskId>; 3])>>;

const LOCK: u64 = 10;
const FLAG: u64 = 11;

/// One annotated step of task `t` on `object`: `f`, then the task's place moves on.
fn step(s: &Shared, t: usize, object: u64, kind: Access, f: impl FnOnce(&mut World)) {
    point();
    access(object, kind);
    let mut g = s.lock().unwrap();
    f(&mut g.0);
    g.0.tasks[t].1 += 1;
}

/// A read or write of `cell`, folded into the task's accumulator.
fn rw_cell(s: &Shared, t: usize, cell: usize, write: bool) {
    let kind = if write { Access::Write } else { Access::Read };
    step(s, t, cell as u64, kind, |w| {
        let acc = w.tasks[t].0;
        if write {
            w.cells[cell] = w.cells[cell] * 3 + acc;
        } else {
            w.tasks[t].0 = acc * 5 + w.cells[cell];
        }
    });
}

/// Waits (as the model's `wait_event()`: check, else mark itself waiting and sleep, then check
/// again from the same place) until `ready` holds, then `take`s it.
fn wait_until(
    s: &Shared,
    t: usize,
    object: u64,
    ready: impl Fn(&World) -> bool,
    take: impl Fn(&mut World),
    wait: impl Fn(&mut World),
) {
    let place = s.lock().unwrap().0.tasks[t].1;
    loop {
        point();
        access(object, Access::Write);
        let mut g = s.lock().unwrap();
        if ready(&g.0) {
            take(&mut g.0);
            g.0.tasks[t].1 = place + 1;
            return;
        }
        wait(&mut g.0);
        g.0.tasks[t].1 = place + 100;
        g.1[t] = Some(swapfuzz::engine::current_task());
        drop(g);
        swapfuzz::engine::sleep();
        // Woken: back at the check, with the locals it had there.
        s.lock().unwrap().0.tasks[t].1 = place;
    }
}

fn lock(s: &Shared, t: usize) {
    wait_until(
        s,
        t,
        LOCK,
        |w| w.holder.is_none(),
        |w| w.holder = Some(t),
        |w| w.lock_waiters |= 1 << t,
    );
}

fn unlock(s: &Shared, t: usize) {
    point();
    access(LOCK, Access::Write);
    let mut g = s.lock().unwrap();
    g.0.holder = None;
    for u in 0..3 {
        if g.0.lock_waiters & (1 << u) != 0
            && let Some(id) = g.1[u]
        {
            swapfuzz::engine::wake(id);
        }
    }
    g.0.lock_waiters = 0;
    g.0.tasks[t].1 += 1;
}

/// A yield (a scheduling point the task cannot stay at), then a local step.
fn yield_step(s: &Shared, t: usize) {
    shuttle::thread::yield_now();
    local();
    s.lock().unwrap().0.tasks[t].1 += 1;
}

/// Three tasks: a sleeping lock, a flag one task sleeps on and another sets, yields, quiet
/// finishes; the digest is the whole [`World`] (exact).
fn sleeping_program() -> impl Fn() + Send + Sync + Clone {
    || {
        let s: Shared = Arc::default();
        for t in 0..3 {
            s.lock().unwrap().0.tasks[t].0 = t as i64 + 1;
        }
        if state::wanted() {
            let s = Arc::clone(&s);
            state::provide(move || Some(state::digest_of(&s.lock().ok()?.0)));
        }
        let bodies: [fn(&Shared); 3] = [
            |s| {
                rw_cell(s, 0, 0, true);
                lock(s, 0);
                rw_cell(s, 0, 1, true);
                unlock(s, 0);
                yield_step(s, 0);
                rw_cell(s, 0, 2, false);
                step(s, 0, 0, Access::Read, |w| {
                    finishes_quietly();
                    w.tasks[0].0 += w.cells[0];
                });
            },
            |s| {
                rw_cell(s, 1, 1, false);
                wait_until(s, 1, FLAG, |w| w.flag, |_| {}, |w| w.flag_waiter = true);
                rw_cell(s, 1, 0, false);
                lock(s, 1);
                rw_cell(s, 1, 2, true);
                unlock(s, 1);
            },
            |s| {
                lock(s, 2);
                rw_cell(s, 2, 2, true);
                yield_step(s, 2);
                unlock(s, 2);
                set_flag(s, 2);
                rw_cell(s, 2, 1, true);
                step(s, 2, 1, Access::Read, |w| {
                    finishes_quietly();
                    w.tasks[2].0 += w.cells[1];
                });
            },
        ];
        let handles: Vec<_> = bodies
            .into_iter()
            .map(|body| {
                let s = Arc::clone(&s);
                shuttle::thread::spawn(move || body(&s))
            })
            .collect();
        for h in handles {
            h.join().unwrap();
            s.lock().unwrap().0.joined += 1;
        }
        let g = s.lock().unwrap();
        let mut fin: Vec<i64> = g.0.tasks.iter().map(|&(acc, _)| acc).collect();
        fin.extend(&g.0.cells);
        FINALS.with(|f| f.borrow_mut().insert(fin));
    }
}

/// Sets the flag and wakes its waiter, in one step.
fn set_flag(s: &Shared, t: usize) {
    point();
    access(FLAG, Access::Write);
    let mut g = s.lock().unwrap();
    g.0.flag = true;
    if g.0.flag_waiter
        && let Some(id) = g.1[1]
    {
        swapfuzz::engine::wake(id);
    }
    g.0.flag_waiter = false;
    g.0.tasks[t].1 += 1;
}

/// Sleeping locks, a flag slept on, yields and quiet finishes, with an exact digest: the same
/// final states with and without the cache at bounds 0..=3 and without one, with and without
/// the reduction. (Without a bound the plain search runs for over ten minutes: not checked.)
#[test]
fn locks_sleeps_yields_and_quiet_finishes() {
    for k in [0, 1, 2, 3] {
        for reduce in [false, true] {
            let (plain, n_plain) = explore(sleeping_program(), k, reduce, false);
            let (cached, n_cached) = explore(sleeping_program(), k, reduce, true);
            assert_eq!(plain, cached, "K={k} reduce={reduce}: final states differ");
            assert!(
                n_cached <= n_plain,
                "K={k} reduce={reduce}: {n_cached} > {n_plain}"
            );
        }
    }
}

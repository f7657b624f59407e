//! What the tests share: running the binary, and the exhaustive search of one program's
//! schedules. (Each test crate uses some of it.)
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};

use swapfuzz::check::run::{Verdict, execute, execute_then};
use swapfuzz::engine::{Exploration, Explorer, quiet_panics};
use swapfuzz::model::{Bug, ModelConfig, Program};
use swapfuzz::triage::report::title;

/// Every schedule of `p` with at most `k` preemptions: the first bug, or None when all are
/// clean (a failure that is not a kernel bug panics).
pub fn explore(p: &Program, c: ModelConfig, k: usize) -> Option<Bug> {
    quiet_panics();
    let p = p.clone();
    match Explorer::new().preemptions(k).run(move || execute(&p, c)) {
        Exploration::Failed(found) => match Verdict::of(&found.execution) {
            Verdict::Bug(b, _) => Some(*b),
            other => panic!("not a kernel bug: {other:?}"),
        },
        Exploration::Exhausted { executions } => {
            assert!(executions > 1, "the scenario has more than one schedule");
            None
        }
        Exploration::Truncated { .. } => unreachable!("no limit"),
    }
}

/// Runs the swapfuzz binary with `args`: exit status (-1 if killed by a signal), stdout, stderr.
pub fn swapfuzz(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_swapfuzz"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The outcomes of every schedule of `p` with at most `k` preemptions (each bug's title, and
/// each clean run's final-state digest), with or without the partial-order reduction, and how
/// many schedules ran.
pub fn outcomes(
    p: &Program,
    cfg: ModelConfig,
    k: usize,
    reduce: bool,
) -> (BTreeSet<String>, usize) {
    outcomes_cached(p, cfg, k, reduce, false)
}

/// [`outcomes`], with the explorer's state caching on or off.
pub fn outcomes_cached(
    p: &Program,
    cfg: ModelConfig,
    k: usize,
    reduce: bool,
    cache: bool,
) -> (BTreeSet<String>, usize) {
    quiet_panics();
    let seen: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let (clean, bugs) = (Arc::clone(&seen), Arc::clone(&seen));
    let p = p.clone();
    let test = move || {
        let clean = Arc::clone(&clean);
        execute_then(&p, cfg, move |w| {
            clean
                .lock()
                .unwrap()
                .insert(format!("clean\n{}", w.digest()));
        })
    };
    let accept = move |exec: &swapfuzz::engine::Execution| {
        match Verdict::of(exec) {
            Verdict::Bug(b, _) => bugs.lock().unwrap().insert(title(&b)),
            other => panic!("not a kernel bug: {other:?}"),
        };
        false // keep going: collect every outcome
    };
    let explorer = Explorer::new()
        .preemptions(k)
        .reduction(reduce)
        .cache_states(cache)
        .max_executions(3_000_000)
        .accept(accept);
    let runs = match explorer.run(test) {
        Exploration::Exhausted { executions } => executions,
        other => panic!("exploration did not finish: {other:?}"),
    };
    let set = seen.lock().unwrap().clone();
    (set, runs)
}

/// Two programs over paths the built-in scenarios leave out, for the footprint checks
/// (tests/reduction_outcomes.rs, tests/reduction_commute.rs): a zap, exit, fork, reclaim,
/// swap-in and swapoff of one mm on three CPUs; shmem's truncate against swapoff.
pub const FOOTPRINT_PROGRAMS: [&str; 2] = [
    "setup: swapon; mmap pages=2; swapout mm=0 pte=0; swapout mm=0 pte=1
cpu0: zap mm=0 pte=0; exit mm=0
cpu1: fork mm=0; reclaim dev=0 offset=0
cpu2: swapin mm=0 pte=1; swapoff dev=0",
    "setup: swapon; shmem-write file=0 index=0; shmem-writepage file=0 index=0
cpu0: shmem-truncate file=0
cpu1: swapoff dev=0",
];

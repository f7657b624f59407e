//! What the tests share: running the binary, and the exhaustive search of one program's
//! schedules. (Each test crate uses some of it.)
#![allow(dead_code)]

use std::process::Command;

use swapfuzz::check::run::{Verdict, execute};
use swapfuzz::engine::{Exploration, Explorer, quiet_panics};
use swapfuzz::model::{Bug, ModelConfig, Program};

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

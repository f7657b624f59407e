//! The swapoff race catalogue (docs/catalogue.md): each race's scenario gives its `expect:`
//! signature under its `schedule:` with the fix reverted, the fixed kernel is clean at K = 2, and
//! with the fix reverted one preemption finds a bug.

use swapfuzz::check::config;
use swapfuzz::check::run::{Verdict, execute};
use swapfuzz::check::steps::run_segments;
use swapfuzz::engine::{Exploration, Explorer, quiet_panics};
use swapfuzz::model::patches::Patch;
use swapfuzz::model::{Bug, ModelConfig, PatchSet};
use swapfuzz::program::text::{self, Scenario};
use swapfuzz::triage::report::signature;

/// Every schedule of `s` with at most `k` preemptions on `cfg`: the first bug, or None.
fn explore(s: &Scenario, cfg: ModelConfig, k: usize) -> Option<Bug> {
    quiet_panics();
    let p = s.program.clone();
    match Explorer::new().preemptions(k).run(move || execute(&p, cfg)) {
        Exploration::Failed(found) => match Verdict::of(&found.execution) {
            Verdict::Bug(b, _) => Some(*b),
            other => panic!("not a kernel bug: {other:?}"),
        },
        Exploration::Exhausted { executions } => {
            assert!(executions > 1, "more than one schedule");
            None
        }
        Exploration::Truncated { .. } => unreachable!("no limit"),
    }
}

/// Scenario `name` under its own `schedule:` steps on `kernel`: its signature is `expect:`;
/// the fixed kernel is clean at K = 2 under every switch; `kernel` fails at K = 1.
fn check_race(name: &str, kernel: PatchSet) {
    let s = text::load(name).unwrap();
    let steps = s.steps.as_ref().expect("a schedule in steps");
    let (verdict, _) = run_segments(&s.program, config::model(kernel), steps);
    let bug = verdict
        .bug()
        .unwrap_or_else(|| panic!("{name}: {verdict:?}"));
    assert_eq!(Some(signature(bug)), s.expect, "{name}");
    for (preempt, rcu) in [(true, true), (false, true), (true, false)] {
        let fixed = config::model(PatchSet::fixed())
            .preemptible(preempt)
            .rcu_spinlocks(rcu);
        assert_eq!(explore(&s, fixed, 2), None, "{name} fixed {fixed:?}");
    }
    let bug = explore(&s, config::model(kernel), 1).expect("the race with one preemption");
    assert_eq!(bug.cpu, Some(0), "{name}: {}", signature(&bug));
}

/// Race 4: a tmpfs read against swapoff, 2efa33fc7f6e reverted.
#[test]
fn shmem_swapin_2efa33fc7f6e() {
    let revert = Patch::by_name("revert-2efa33fc7f6e").unwrap();
    check_race("shmem-swapin-swapoff", PatchSet::for_patch(revert));
}

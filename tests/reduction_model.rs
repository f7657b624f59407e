//! Soundness of the explorer's partial-order reduction on the swap model: on every seed
//! scenario under every kernel variant and patch, and on every catalogue race with its fix
//! reverted, the reduced search finds a bug exactly when the unreduced one does (same K), and
//! when neither does, both cover the same number of equivalence classes.

use swapfuzz::check::config;
use swapfuzz::check::run::{Verdict, execute};
use swapfuzz::engine::{Coverage, Exploration, Explorer, quiet_panics};
use swapfuzz::model::patches::Patch;
use swapfuzz::model::{ModelConfig, PatchSet, Program};
use swapfuzz::program::{seeds, text};

/// Whether the search at bound `k` finds a bug, and what it covered.
fn search(p: &Program, c: ModelConfig, k: usize, reduce: bool) -> (bool, Coverage) {
    quiet_panics();
    let p = p.clone();
    let explorer = Explorer::new()
        .preemptions(k)
        .reduction(reduce)
        .count_classes(true);
    let found = match explorer.run(move || execute(&p, c)) {
        Exploration::Failed(found) => match Verdict::of(&found.execution) {
            Verdict::Bug(..) => true,
            other => panic!("not a kernel bug: {other:?}"),
        },
        Exploration::Exhausted { .. } => false,
        Exploration::Truncated { .. } => unreachable!("no limit"),
    };
    (found, explorer.coverage()[0])
}

fn same_verdict(name: &str, p: &Program, c: ModelConfig, k: usize) -> bool {
    let (bug, full) = search(p, c, k, false);
    let (reduced_bug, reduced) = search(p, c, k, true);
    assert_eq!(bug, reduced_bug, "{name} K={k}: {full:?} vs {reduced:?}");
    if !bug {
        assert_eq!(full.classes, reduced.classes, "{name} K={k}");
        assert!(reduced.executions <= full.executions, "{name} K={k}");
    }
    bug
}

fn variants() -> Vec<(String, PatchSet)> {
    let mut v = vec![
        ("buggy".to_string(), PatchSet::base()),
        ("fixed".to_string(), PatchSet::fixed()),
    ];
    for name in ["wrong-rcu", "wrong-si-lock", "wrong-early-put", "alt-rcu"] {
        v.push((
            name.to_string(),
            PatchSet::for_patch(Patch::by_name(name).unwrap()),
        ));
    }
    v
}

#[test]
fn seed_scenarios_under_every_variant() {
    let mut bugs = 0;
    for (scenario, program) in seeds::all() {
        for (variant, patches) in variants() {
            for (preemptible, rcu_spinlocks) in [(true, true), (false, true), (true, false)] {
                let c = config::model(patches)
                    .preemptible(preemptible)
                    .rcu_spinlocks(rcu_spinlocks);
                let name = format!("{scenario} {variant} {preemptible}/{rcu_spinlocks}");
                bugs += usize::from(same_verdict(&name, &program, c, 1));
                let small = scenario != "thp-exit" && preemptible && rcu_spinlocks;
                if small && (variant == "buggy" || variant == "fixed") {
                    same_verdict(&name, &program, c, 2);
                }
            }
        }
    }
    assert!(bugs > 0, "some variant has a bug");
}

#[test]
fn catalogue_races_reverted_and_fixed() {
    for (scenario, revert) in [
        ("mincore-swapoff", "revert-aeb309b81c6b"),
        ("shmem-swapin-swapoff", "revert-2efa33fc7f6e"),
        ("willneed-swapoff", "revert-eb085574a752"),
        ("do-swap-page-sync-swapoff", "revert-2799e77529c2"),
    ] {
        let s = text::load(scenario).unwrap();
        let reverted = PatchSet::for_patch(Patch::by_name(revert).unwrap());
        assert!(
            same_verdict(scenario, &s.program, config::model(reverted), 1),
            "{scenario}: K = 1 finds the race"
        );
        same_verdict(scenario, &s.program, config::model(PatchSet::fixed()), 1);
    }
}

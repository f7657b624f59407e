//! The LKML thread's three scenarios (docs/model.md#the-three-races) as fixed programs, explored
//! exhaustively up to a preemption bound by swapfuzz's engine, and by shuttle's own PCT
//! scheduler; the verdicts are the table of issue "The swap model".
//!
//! `thp-exit` has about 600,000 schedules with at most two preemptions (README, "Verdicts"):
//! its K = 2 explorations take minutes in the test profile, so the default `cargo test` explores
//! it with one preemption, and the K = 2 cells are the `#[ignore]`d tests below, the exhaustive
//! tier that `.ci/run` runs (`cargo test --test seed_scenarios -- --ignored`).

mod common;

use common::explore;
use shuttle::scheduler::PctScheduler;
use shuttle::{Config, FailurePersistence, MaxSteps, Runner};
use swapfuzz::check::run::{BugPanic, execute};
use swapfuzz::engine::quiet_panics;
use swapfuzz::model::kernel::kasan::BadKind;
use swapfuzz::model::{Bug, BugKind, ModelConfig, PatchSet, Program};
use swapfuzz::program::seeds;
use swapfuzz::triage::report::title;

fn cfg(variant: PatchSet, rcu_spinlocks: bool) -> ModelConfig {
    ModelConfig {
        patches: variant,
        rcu_spinlocks,
        preemptible: true,
        record: false,
        all_points: false,
    }
}

/// shuttle's PCT scheduler (depth 3), `iters` executions from a fixed seed.
fn pct(p: &Program, c: ModelConfig, iters: usize) -> Option<Bug> {
    quiet_panics();
    let p = p.clone();
    let mut config = Config::new();
    config.failure_persistence = FailurePersistence::None;
    config.max_steps = MaxSteps::FailAfter(20_000);
    config.silence_warnings = true;
    let runner = Runner::new(PctScheduler::new_from_seed(7, 3, iters), config);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runner.run(move || execute(&p, c))
    }));
    match r {
        Ok(_) => None,
        Err(payload) => match payload.downcast::<BugPanic>() {
            Ok(b) => Some(*b.bug),
            Err(_) => panic!("a panic that is not a kernel bug"),
        },
    }
}

/// A use-after-free or NULL dereference of the device's memory, in the functions that touch it
/// after `__swap_entry_free()` returns.
fn assert_stale_access(bug: &Bug) {
    let BugKind::BadAccess { bad, object, .. } = &bug.kind else {
        panic!("expected a bad access, got {}", title(bug));
    };
    assert!(
        matches!(bad.kind, BadKind::UseAfterFree | BadKind::Null),
        "{}",
        title(bug)
    );
    assert!(
        [
            "swap_map",
            "cluster_info",
            "swapper_spaces",
            "swap_address_space"
        ]
        .iter()
        .any(|o| object.contains(o)),
        "object {object}"
    );
    assert!(
        bug.stack.contains(&"free_swap_and_cache"),
        "inside free_swap_and_cache: {:?}",
        bug.stack
    );
    assert!(
        [
            "swap_page_trans_huge_swapped",
            "filemap_get_folio",
            "__try_to_reclaim_swap",
            "lock_cluster_or_swap_info",
            "__swap_entry_free_locked"
        ]
        .contains(&bug.func),
        "in {}",
        bug.func
    );
}

#[test]
fn shmem_truncate_buggy_is_a_use_after_free_with_one_preemption() {
    for rcu in [true, false] {
        let bug = explore(&seeds::shmem_truncate(), cfg(PatchSet::base(), rcu), 1).expect("race");
        assert_stale_access(&bug);
        assert_eq!(bug.cpu, Some(0), "CPU0 runs the truncate");
        let bug =
            pct(&seeds::shmem_truncate(), cfg(PatchSet::base(), rcu), 2000).expect("PCT finds it");
        assert_stale_access(&bug);
    }
}

#[test]
fn shmem_truncate_fixed_is_clean() {
    for rcu in [true, false] {
        assert_eq!(
            explore(&seeds::shmem_truncate(), cfg(PatchSet::fixed(), rcu), 2),
            None
        );
        assert_eq!(
            pct(&seeds::shmem_truncate(), cfg(PatchSet::fixed(), rcu), 2000),
            None
        );
    }
}

/// The preemption bound of the clean verdicts of `p`: 2, but 1 for `thp-exit` in the default
/// tier (its K = 2 explorations are the `#[ignore]`d tests).
fn bound(p: &Program) -> usize {
    if *p == seeds::thp_exit() { 1 } else { 2 }
}

#[test]
fn ptl_paths_are_held_off_by_synchronize_rcu() {
    for p in [seeds::thp_exit(), seeds::zap_4k()] {
        for v in [PatchSet::base(), PatchSet::fixed()] {
            assert_eq!(explore(&p, cfg(v, true), bound(&p)), None, "{v:?}\n{p}");
            assert_eq!(pct(&p, cfg(v, true), 1000), None, "{v:?}\n{p}");
        }
    }
}

#[test]
#[ignore = "exhaustive tier (minutes): .ci/run runs it with -- --ignored"]
fn thp_exit_is_held_off_by_synchronize_rcu_with_two_preemptions() {
    let p = seeds::thp_exit();
    for v in [PatchSet::base(), PatchSet::fixed()] {
        assert_eq!(explore(&p, cfg(v, true), 2), None, "{v:?}\n{p}");
    }
}

#[test]
fn ptl_paths_race_when_spinlocks_are_not_rcu_readers() {
    for p in [seeds::thp_exit(), seeds::zap_4k()] {
        let bug = explore(&p, cfg(PatchSet::base(), false), 1).expect("race");
        assert_stale_access(&bug);
        let bug = pct(&p, cfg(PatchSet::base(), false), 3000).expect("PCT finds it");
        assert_stale_access(&bug);
        assert_eq!(
            explore(&p, cfg(PatchSet::fixed(), false), bound(&p)),
            None,
            "{p}"
        );
        assert_eq!(pct(&p, cfg(PatchSet::fixed(), false), 1000), None, "{p}");
    }
}

#[test]
#[ignore = "exhaustive tier (minutes): .ci/run runs it with -- --ignored"]
fn thp_exit_fixed_is_clean_with_two_preemptions_when_spinlocks_are_not_rcu_readers() {
    let p = seeds::thp_exit();
    assert_eq!(explore(&p, cfg(PatchSet::fixed(), false), 2), None, "{p}");
}

#[test]
fn verdicts_are_deterministic() {
    let p = seeds::shmem_truncate();
    let a = explore(&p, cfg(PatchSet::base(), true), 1);
    let b = explore(&p, cfg(PatchSet::base(), true), 1);
    assert_eq!(a, b);
}

#[test]
fn a_non_preemptible_kernel_holds_the_shmem_race_off() {
    // docs/real-kernel.md: on CONFIG_PREEMPT_NONE, 6.1 showed no report for (c) on the buggy
    // kernel: kernel code is an RCU reader until it sleeps, so swapoff's synchronize_rcu()
    // waits for the truncating CPU.
    for p in [seeds::shmem_truncate(), seeds::thp_exit(), seeds::zap_4k()] {
        for v in [PatchSet::base(), PatchSet::fixed()] {
            let c = ModelConfig {
                preemptible: false,
                ..cfg(v, true)
            };
            assert_eq!(explore(&p, c, bound(&p)), None, "{v:?}\n{p}");
        }
    }
}

#[test]
#[ignore = "exhaustive tier (minutes): .ci/run runs it with -- --ignored"]
fn a_non_preemptible_kernel_holds_thp_exit_off_with_two_preemptions() {
    let p = seeds::thp_exit();
    for v in [PatchSet::base(), PatchSet::fixed()] {
        let c = ModelConfig {
            preemptible: false,
            ..cfg(v, true)
        };
        assert_eq!(explore(&p, c, 2), None, "{v:?}\n{p}");
    }
}

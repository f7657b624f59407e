//! The footprints the model declares (`Kernel::with_footprint`, `Touch`) against what the
//! steps really do: on small programs that run the annotated paths (zap, fork, swap-in, the
//! free path, the slots cache, swapoff's scan, shmem), every schedule with at most K
//! preemptions is explored with and without the partial-order reduction, and the sets of
//! outcomes (each bug report's title, or the final kernel state of a clean run) must be equal.
//!
//! A footprint that leaves out a piece of state its step touches makes two dependent steps
//! look independent; the reduction then skips an order that may end in another state, which
//! shows up here as an outcome only the unreduced search reaches.

mod common;

use common::outcomes;
use swapfuzz::engine::quiet_panics;
use swapfuzz::model::{ModelConfig, PatchSet, Program};

fn program(text: &str) -> Program {
    swapfuzz::program::text::parse(text)
        .expect("scenario")
        .program
}

/// Same outcomes with and without the reduction, at each K of `ks`, on the buggy and the fixed
/// kernel, with spinlocks RCU readers or not; returns the schedules run without and with it.
fn same_outcomes(name: &str, text: &str, ks: &[usize]) -> (usize, usize) {
    let p = program(text);
    let (mut full_runs, mut reduced_runs) = (0, 0);
    for patches in [PatchSet::base(), PatchSet::fixed()] {
        for rcu_spinlocks in [true, false] {
            let c = ModelConfig {
                patches,
                rcu_spinlocks,
                ..ModelConfig::default()
            };
            for &k in ks {
                let (full, n_full) = outcomes(&p, c, k, false);
                let (reduced, n_reduced) = outcomes(&p, c, k, true);
                let only_full: Vec<_> = full.difference(&reduced).collect();
                let only_reduced: Vec<_> = reduced.difference(&full).collect();
                assert!(
                    only_full.is_empty() && only_reduced.is_empty(),
                    "{name} {c:?} K={k}: outcomes differ\nonly without the reduction: \
                     {only_full:#?}\nonly with it: {only_reduced:#?}"
                );
                assert!(n_reduced <= n_full, "{name} K={k}: {n_reduced} > {n_full}");
                full_runs += n_full;
                reduced_runs += n_reduced;
            }
        }
    }
    (full_runs, reduced_runs)
}

/// Zap of a swap entry (the free path, the slots cache) against fork's duplicate and a
/// swap-in of another entry. (Three CPUs: K = 1 only, to keep the unreduced search short.)
#[test]
fn zap_fork_swapin() {
    same_outcomes(
        "zap-fork-swapin",
        "setup: swapon; mmap pages=2; swapout mm=0 pte=0; swapout mm=0 pte=1
cpu0: zap mm=0 pte=0
cpu1: fork mm=0
cpu2: swapin mm=0 pte=1",
        &[1],
    );
}

/// Exit (zap under the PTL) against swapoff's scan and unuse, and reclaim of the cache.
#[test]
fn exit_reclaim_swapoff() {
    same_outcomes(
        "exit-reclaim-swapoff",
        "setup: swapon; mmap pages=2; swapout mm=0 pte=0; swapout mm=0 pte=1
cpu0: exit mm=0
cpu1: reclaim dev=0 offset=1
cpu2: swapoff dev=0",
        &[1],
    );
}

/// shmem truncate and a swap-in of a private page, both dropping the swap cache.
#[test]
fn shmem_truncate_swapin_reclaim() {
    same_outcomes(
        "shmem-truncate-swapin",
        "setup: swapon; mmap pages=1; swapout mm=0 pte=0; shmem-write file=0 index=0; \
shmem-writepage file=0 index=0
cpu0: shmem-truncate file=0
cpu1: swapin mm=0 pte=0 write
cpu2: reclaim dev=0 offset=0",
        &[1],
    );
}

/// The reduction does prune on these programs (else the checks above would be vacuous for it):
/// two zaps of different entries commute.
#[test]
fn the_reduction_prunes_here() {
    let (full, reduced) = same_outcomes(
        "two-zaps",
        "setup: swapon; mmap pages=2; swapout mm=0 pte=0; swapout mm=0 pte=1; mmap pages=1; \
swapout mm=1 pte=0
cpu0: zap mm=0 pte=0
cpu1: zap mm=1 pte=0",
        &[1, 2],
    );
    assert!(
        reduced < full,
        "{reduced} schedules with the reduction, {full} without"
    );
}

/// Every declared step's writes are declared: random schedules of the benchmark's 3-CPU,
/// 30-operation program, of every built-in scenario and of the programs above run with
/// `check_footprints` on (a step that changes a piece of state it did not declare written
/// panics, which fails the run).
#[test]
fn declared_steps_write_only_what_they_declare() {
    use swapfuzz::engine::{EngineConfig, Outcome, record, run_once};
    quiet_panics();
    swapfuzz::model::context::check_footprints(true);
    record(true);
    let mut programs = vec![swapfuzz::fuzz::bench::typical_program()];
    // Every built-in scenario too (the synchronous-device swap-in, shmem's swap-in, swapoff to
    // its end and each CPU's last step).
    for (scenario, _, _) in swapfuzz::program::text::builtin() {
        programs.push(swapfuzz::program::text::load(scenario).unwrap().program);
    }
    for t in common::FOOTPRINT_PROGRAMS {
        programs.push(program(t));
    }
    for patches in [PatchSet::base(), PatchSet::fixed()] {
        let c = ModelConfig {
            patches,
            ..ModelConfig::default()
        };
        for p in &programs {
            for seed in 0..40u32 {
                let bytes: Vec<u8> = (0..256u32)
                    .map(|i| (seed.wrapping_mul(2_654_435_761) ^ i.wrapping_mul(40_503)) as u8)
                    .map(|b| b.rotate_left(seed % 8))
                    .collect();
                let p = p.clone();
                let exec = run_once(&bytes, &EngineConfig::default(), move || {
                    swapfuzz::check::run::execute(&p, c)
                });
                if let Outcome::Panic(m) = &exec.outcome {
                    assert!(!m.contains("swapfuzz footprint"), "seed {seed}: {m}");
                }
                assert!(
                    !matches!(exec.outcome, Outcome::EngineError(_)),
                    "{:?}",
                    exec.outcome
                );
            }
        }
    }
    record(false);
    swapfuzz::model::context::check_footprints(false);
    assert!(
        swapfuzz::model::context::footprint_checks() > 10_000,
        "the check ran: {} steps",
        swapfuzz::model::context::footprint_checks()
    );
}

/// The model lines whose steps declare no footprint (unknown to the reduction), counted over
/// every built-in scenario on Fixed at K = 1 with the reduction: printed (`--nocapture`) as the
/// list of what is left to annotate (`Kernel::with` and its kin are `#[track_caller]`).
#[test]
fn undeclared_steps_by_site() {
    use swapfuzz::model::context::count_undeclared;
    let mut total = std::collections::BTreeMap::new();
    for (scenario, _, _) in swapfuzz::program::text::builtin() {
        let p = swapfuzz::program::text::load(scenario).unwrap().program;
        count_undeclared(true);
        let c = swapfuzz::check::config::model(PatchSet::fixed());
        let (_, runs) = outcomes(&p, c, 1, true);
        let sites = count_undeclared(false);
        let n: usize = sites.iter().map(|s| s.2).sum();
        eprintln!("{scenario}: {runs} schedules, {n} undeclared steps");
        for (f, l, n) in sites {
            *total.entry(format!("{f}:{l}")).or_insert(0) += n;
        }
    }
    let mut v: Vec<_> = total.into_iter().collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.1));
    for (site, n) in &v {
        eprintln!("{n:>8} {site}");
    }
    // The counter sees undeclared steps (the wait path's sleep, in context.rs, is one), every
    // step of the harness (src/check/, its last one included) and of `try_to_unuse()`'s walk
    // (swapfile/unuse.rs) declares its footprint.
    assert!(
        v.iter().any(|(s, _)| s.starts_with("src/model/context.rs")),
        "{v:?}"
    );
    let harness: Vec<_> = v
        .iter()
        .filter(|(s, _)| s.starts_with("src/check/"))
        .collect();
    assert!(harness.is_empty(), "undeclared in the harness: {harness:?}");
    let unuse: Vec<_> = v.iter().filter(|(s, _)| s.contains("unuse.rs")).collect();
    assert!(unuse.is_empty(), "undeclared in try_to_unuse(): {unuse:?}");
}

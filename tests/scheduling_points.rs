//! The model merges some steps into the previous one (`Kernel::with_no_point`): steps that touch
//! nothing another CPU reads or writes. That merging must lose no interleaving another CPU could
//! observe. These tests check it: on small programs, every schedule with at most K preemptions is
//! run twice — as the model runs, and with a scheduling point before *every* step
//! (`ModelConfig::all_points`) — and the sets of outcomes (each bug report's title, or the final
//! kernel state of a clean run) must be equal. See docs/scheduling-points.md.
//!
//! A merge that hides a preemption shows up here as an outcome only the all-points run reaches:
//! e.g. `rcu_read_lock()` merged into the unlock before it hides the preemption between the two,
//! where swapoff's `synchronize_rcu()` does not wait (the `wrong-rcu` variant's use-after-free).

mod common;

use std::collections::BTreeSet;

use common::outcomes;
use swapfuzz::model::{ModelConfig, PatchSet, Program};

fn cfg(variant: PatchSet, rcu_spinlocks: bool, preemptible: bool) -> ModelConfig {
    ModelConfig {
        patches: variant,
        rcu_spinlocks,
        preemptible,
        ..ModelConfig::default()
    }
}

fn program(text: &str) -> Program {
    swapfuzz::program::text::parse(text)
        .expect("scenario")
        .program
}

/// Same outcomes with and without the merged steps; returns them.
fn same_outcomes(p: &Program, c: ModelConfig, k: usize) -> BTreeSet<String> {
    let (merged, n_merged) = outcomes(p, c, k, false);
    let all = ModelConfig {
        all_points: true,
        ..c
    };
    let (every, n_every) = outcomes(p, all, k, false);
    assert!(n_every >= n_merged, "{n_every} < {n_merged}");
    let only_every: Vec<_> = every.difference(&merged).collect();
    let only_merged: Vec<_> = merged.difference(&every).collect();
    assert!(
        only_every.is_empty() && only_merged.is_empty(),
        "{c:?} K={k}: outcomes differ\nonly with a point before every step: {only_every:#?}\n\
         only with merged steps: {only_merged:#?}"
    );
    merged
}

const SHMEM: &str = "setup: swapon; shmem-write file=0 index=0; shmem-writepage file=0 index=0
cpu0: shmem-truncate file=0
cpu1: swapoff dev=0";

/// Two operations on CPU0: between them the CPU is in user space (a quiescent state).
const TWO_OPS: &str = "setup: swapon; shmem-write file=0 index=0; shmem-writepage file=0 index=0; \
shmem-write file=1 index=0
cpu0: shmem-truncate file=0; shmem-write file=1 index=1
cpu1: swapoff dev=0";

const ZAP: &str = "setup: swapon; mmap pages=1; swapout mm=0 pte=0
cpu0: zap mm=0 pte=0
cpu1: swapoff dev=0";

const MINCORE: &str = "setup: swapon; shmem-write file=0 index=0; shmem-writepage file=0 index=0
cpu0: mincore file=0 index=0
cpu1: swapoff dev=0";

/// Race 4 of the catalogue: a tmpfs read swaps the page in while swapoff runs.
const SHMEM_READ: &str = "setup: swapon; shmem-write file=0 index=0; shmem-writepage file=0 index=0
cpu0: shmem-read file=0 index=0
cpu1: swapoff dev=0";

const WILLNEED: &str = "setup: swapon; mmap pages=1; swapout mm=0 pte=0; reclaim dev=0 offset=0
cpu0: willneed mm=0 pte=0
cpu1: swapoff dev=0";

/// Race 3 of the catalogue: a swap-in that skips the swap cache on a synchronous-I/O device.
const SWAPIN_SYNC: &str =
    "setup: swapon-sync; mmap pages=1; swapout mm=0 pte=0; reclaim dev=0 offset=0
cpu0: swapin mm=0 pte=0
cpu1: swapoff dev=0";

/// Race 5 of the catalogue: two swap-ins of one entry skip the swap cache; the slot is freed,
/// and a store and a swap-out reuse it.
const SKIP_SWAPCACHE: &str =
    "setup: swapon-sync; mmap pages=1; swapout mm=0 pte=0; reclaim dev=0 offset=0
cpu0: read mm=0 pte=0
cpu1: swapin mm=0 pte=0; write mm=0 pte=0; swapout mm=0 pte=0";

/// A race of docs/catalogue.md: clean on the fixed kernel, a bug with its fix (`revert`)
/// reverted on a preemptible kernel, and on a non-preemptible one only if the racing path may
/// sleep inside the window (`on_preempt_none`).
fn catalogue_race(text: &str, revert: &str, on_preempt_none: bool) {
    let revert = swapfuzz::model::patches::Patch::by_name(revert).unwrap();
    for (v, preemptible) in [
        (PatchSet::fixed(), true),
        (PatchSet::for_patch(revert), true),
        (PatchSet::fixed(), false),
        (PatchSet::for_patch(revert), false),
    ] {
        let o = same_outcomes(&program(text), cfg(v, true, preemptible), 2);
        let bug = o.iter().any(|s| !s.starts_with("clean"));
        let expected = v != PatchSet::fixed() && (preemptible || on_preempt_none);
        assert_eq!(bug, expected, "{v:?}: {o:#?}");
    }
}

/// Race 2: mincore() of a swapped tmpfs page.
#[test]
fn mincore_fixed_and_reverted() {
    catalogue_race(MINCORE, "revert-aeb309b81c6b", false);
}

/// Race 4: a read() of a swapped tmpfs page.
#[test]
fn shmem_read_fixed_and_reverted() {
    catalogue_race(SHMEM_READ, "revert-2efa33fc7f6e", false);
}

/// Race 1: madvise(MADV_WILLNEED) of a swapped-out anon page.
#[test]
fn willneed_fixed_and_reverted() {
    catalogue_race(WILLNEED, "revert-eb085574a752", true);
}

/// Race 3: a swap-in on a synchronous-I/O device.
#[test]
fn swapin_sync_fixed_and_reverted() {
    catalogue_race(SWAPIN_SYNC, "revert-2799e77529c2", false);
}

/// Race 5: the skip-swapcache ABA (no lock, reference or RCU section in it: also on a
/// non-preemptible kernel).
#[test]
fn skip_swapcache_fixed_and_reverted() {
    catalogue_race(SKIP_SWAPCACHE, "revert-13ddaf26be32", true);
}

#[test]
fn shmem_truncate_all_variants() {
    for v in [
        PatchSet::base(),
        PatchSet::fixed(),
        PatchSet::base().with("wrong-rcu").unwrap(),
        PatchSet::base().with("wrong-si-lock").unwrap(),
    ] {
        let o = same_outcomes(&program(SHMEM), cfg(v, true, true), 2);
        let bug = o.iter().any(|s| !s.starts_with("clean"));
        assert_eq!(bug, v != PatchSet::fixed(), "{v:?}: {o:#?}");
    }
}

#[test]
fn non_preemptible_kernel() {
    for v in [
        PatchSet::base(),
        PatchSet::base().with("wrong-rcu").unwrap(),
    ] {
        let o = same_outcomes(&program(SHMEM), cfg(v, true, false), 2);
        assert!(o.iter().all(|s| s.starts_with("clean")), "{v:?}: {o:#?}");
    }
    same_outcomes(&program(TWO_OPS), cfg(PatchSet::base(), true, false), 1);
}

#[test]
fn spinlocks_and_two_operations() {
    same_outcomes(&program(ZAP), cfg(PatchSet::base(), false, true), 2);
    same_outcomes(&program(ZAP), cfg(PatchSet::base(), true, true), 2);
    same_outcomes(&program(TWO_OPS), cfg(PatchSet::fixed(), true, true), 1);
}

/// The wrong fix of issue 10: merged, `rcu_read_lock()` hid the preemption that makes it buggy,
/// and `verify --preemptions 1` proved it clean. It must fail with one preemption.
#[test]
fn wrong_rcu_fix_fails_with_one_preemption() {
    let (o, _) = outcomes(
        &program(SHMEM),
        cfg(PatchSet::base().with("wrong-rcu").unwrap(), true, true),
        1,
        false,
    );
    assert!(
        o.iter().any(|s| s.contains("swap_page_trans_huge_swapped")),
        "{o:#?}"
    );
}

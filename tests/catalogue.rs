//! The swapoff race catalogue (docs/catalogue.md): for each race, its scenario's schedule gives
//! the scenario's `expect:` signature on the fixed kernel with the race's fix reverted, the
//! revert is found with one preemption, and the fixed kernel is clean at K = 2.

mod common;

use common::explore;
use swapfuzz::check::config;

use swapfuzz::check::steps::run_segments;

use swapfuzz::model::PatchSet;
use swapfuzz::model::patches::Patch;
use swapfuzz::program::text;
use swapfuzz::triage::report::{signature, title};

/// The built-in scenario `name` reproduces its race on the fixed kernel with `revert` applied,
/// with its schedule and by search at K = 1; the fixed kernel is clean at K = 2 (also with
/// PREEMPT_NONE, and with spinlocks that are not RCU readers).
fn race(name: &str, revert: &str) {
    let s = text::load(name).unwrap();
    let revert = PatchSet::for_patch(Patch::by_name(revert).unwrap());
    let (verdict, _) = run_segments(&s.program, config::model(revert), s.steps.as_ref().unwrap());
    let bug = verdict
        .bug()
        .unwrap_or_else(|| panic!("{name}: {verdict:?}"));
    assert_eq!(Some(signature(bug)), s.expect, "{name}: {}", title(bug));
    let found = explore(&s.program, config::model(revert), 1);
    assert!(found.is_some(), "{name}: K = 1 finds the race");
    for (preemptible, rcu_spinlocks) in [(true, true), (false, true), (true, false)] {
        let fixed = config::model(PatchSet::fixed())
            .preemptible(preemptible)
            .rcu_spinlocks(rcu_spinlocks);
        if let Some(bug) = explore(&s.program, fixed, 2) {
            panic!("{name} on the fixed kernel: {}", title(&bug));
        }
    }
}

#[test]
fn mincore_aeb309b81c6b() {
    race("mincore-swapoff", "revert-aeb309b81c6b");
}

/// Race 4: a tmpfs read against swapoff, 2efa33fc7f6e reverted.
#[test]
fn shmem_swapin_2efa33fc7f6e() {
    race("shmem-swapin-swapoff", "revert-2efa33fc7f6e");
}

/// Race 1: madvise(MADV_WILLNEED) of a swapped-out anon page against swapoff, eb085574a752
/// reverted.
#[test]
fn willneed_eb085574a752() {
    race("willneed-swapoff", "revert-eb085574a752");
}

/// Race 3: a swap-in on a synchronous-I/O device skips the swap cache, 2799e77529c2 reverted.
#[test]
fn do_swap_page_sync_2799e77529c2() {
    race("do-swap-page-sync-swapoff", "revert-2799e77529c2");
}

/// Race 5: two swap-ins of one entry on a synchronous-I/O device skip the swap cache, the slot
/// is freed and reused by a swap-out, and the slower swap-in maps a stale page (data
/// corruption, invariant D1), 13ddaf26be32 reverted.
#[test]
fn skip_swapcache_aba_13ddaf26be32() {
    race("skip-swapcache-aba", "revert-13ddaf26be32");
}

//! Soundness of the explorer's state caching on the swap model (`verify --cache-states`): the
//! model's digest (`Shared::state_digest`: the world, each CPU's observations in it) must
//! determine what every CPU does next. Checked by outcomes: every schedule with at most K
//! preemptions is explored with and without the cache (and with the reduction too), and the
//! sets of outcomes (each bug's title, each clean run's final kernel state) must be equal; a
//! bug is found with the cache exactly when it is without, on every seed scenario under every
//! variant and on the catalogue races. (That the comparison can fail is shown on generic
//! tasks, `tests/state_cache.rs`; here a digest without the CPUs' state was not caught at
//! K <= 2: every outcome is reached along many paths, and a covered run still runs on.)

mod common;

use common::{FOOTPRINT_PROGRAMS, outcomes_cached};
use swapfuzz::check::config;
use swapfuzz::check::run::{Verdict, execute};
use swapfuzz::engine::{Exploration, Explorer, quiet_panics};
use swapfuzz::model::patches::Patch;
use swapfuzz::model::{ModelConfig, PatchSet, Program};
use swapfuzz::program::{seeds, text};

fn program(text: &str) -> Program {
    text::parse(text).expect("scenario").program
}

/// The outcomes of `p` at each K of `ks`, buggy and fixed, spinlocks RCU readers or not:
/// equal without the cache, with it, and with it and the reduction. Returns the schedules
/// run without and with the cache (no reduction).
fn same_outcomes(name: &str, p: &Program, ks: &[usize]) -> (usize, usize) {
    let (mut plain_runs, mut cached_runs) = (0, 0);
    for patches in [PatchSet::base(), PatchSet::fixed()] {
        for rcu_spinlocks in [true, false] {
            let c = ModelConfig {
                patches,
                rcu_spinlocks,
                ..ModelConfig::default()
            };
            for &k in ks {
                let (plain, n_plain) = outcomes_cached(p, c, k, false, false);
                for reduce in [false, true] {
                    let (cached, n_cached) = outcomes_cached(p, c, k, reduce, true);
                    let only_plain: Vec<_> = plain.difference(&cached).collect();
                    let only_cached: Vec<_> = cached.difference(&plain).collect();
                    assert!(
                        only_plain.is_empty() && only_cached.is_empty(),
                        "{name} {c:?} K={k} reduce={reduce}: outcomes differ\nonly without \
                         the cache: {only_plain:#?}\nonly with it: {only_cached:#?}"
                    );
                    assert!(n_cached <= n_plain, "{name} K={k}: {n_cached} > {n_plain}");
                    if !reduce {
                        plain_runs += n_plain;
                        cached_runs += n_cached;
                    }
                }
            }
        }
    }
    (plain_runs, cached_runs)
}

/// The paths the seed scenarios leave out (zap, exit, fork, reclaim, swap-in and swapoff on
/// three CPUs at K = 1; shmem truncate against swapoff at K = 1, 2).
#[test]
fn footprint_programs_keep_their_outcomes() {
    let (plain, cached) = same_outcomes("three cpus", &program(FOOTPRINT_PROGRAMS[0]), &[1]);
    assert!(
        cached < plain,
        "the cache merges something: {cached} < {plain}"
    );
    same_outcomes("shmem", &program(FOOTPRINT_PROGRAMS[1]), &[1, 2]);
}

/// Every seed scenario at K = 1, the two of the seed race at K = 2 too.
#[test]
fn seed_scenarios_keep_their_outcomes() {
    for (scenario, p) in seeds::all() {
        let ks: &[usize] = match scenario {
            "shmem-truncate" | "zap-4k" => &[1, 2],
            _ => &[1],
        };
        same_outcomes(scenario, &p, ks);
    }
}

/// Whether the search at bound `k` finds a bug.
fn finds_bug(p: &Program, c: ModelConfig, k: usize, reduce: bool, cache: bool) -> bool {
    quiet_panics();
    let p = p.clone();
    let explorer = Explorer::new()
        .preemptions(k)
        .reduction(reduce)
        .cache_states(cache);
    match explorer.run(move || execute(&p, c)) {
        Exploration::Failed(found) => match Verdict::of(&found.execution) {
            Verdict::Bug(..) => true,
            other => panic!("not a kernel bug: {other:?}"),
        },
        Exploration::Exhausted { .. } => false,
        Exploration::Truncated { .. } => unreachable!("no limit"),
    }
}

/// A bug is found with the cache (with and without the reduction) exactly when it is without,
/// on every seed scenario under every kernel variant and patch, and on every catalogue race
/// with its fix reverted (K = 1).
#[test]
fn verdicts_agree_on_every_variant_and_catalogue_race() {
    let mut cases: Vec<(String, Program, ModelConfig)> = Vec::new();
    for (scenario, p) in seeds::all() {
        let mut variants = vec![PatchSet::base(), PatchSet::fixed()];
        for name in ["wrong-rcu", "wrong-si-lock", "wrong-early-put", "alt-rcu"] {
            variants.push(PatchSet::for_patch(Patch::by_name(name).unwrap()));
        }
        for patches in variants {
            for (preemptible, rcu_spinlocks) in [(true, true), (false, true), (true, false)] {
                let c = config::model(patches)
                    .preemptible(preemptible)
                    .rcu_spinlocks(rcu_spinlocks);
                cases.push((format!("{scenario} {c:?}"), p.clone(), c));
            }
        }
    }
    for (scenario, revert) in [
        ("mincore-swapoff", "revert-aeb309b81c6b"),
        ("shmem-swapin-swapoff", "revert-2efa33fc7f6e"),
        ("willneed-swapoff", "revert-eb085574a752"),
        ("do-swap-page-sync-swapoff", "revert-2799e77529c2"),
        ("skip-swapcache-aba", "revert-13ddaf26be32"),
    ] {
        let p = text::load(scenario).unwrap().program;
        let reverted = config::model(PatchSet::for_patch(Patch::by_name(revert).unwrap()));
        cases.push((format!("{scenario} {revert}"), p, reverted));
    }
    let mut bugs = 0;
    for (name, p, c) in &cases {
        let plain = finds_bug(p, *c, 1, false, false);
        assert_eq!(plain, finds_bug(p, *c, 1, false, true), "{name}: cache");
        assert_eq!(
            plain,
            finds_bug(p, *c, 1, true, true),
            "{name}: cache, reduction"
        );
        bugs += usize::from(plain);
    }
    assert!(
        bugs >= 5,
        "the catalogue races and the buggy variants are found: {bugs}"
    );
}

/// Generated programs (hunt's generator: the first 20 seeds whose programs have 2 or 3 CPUs
/// and at most 8 operations): the same outcomes with and without the cache (and the
/// reduction) at K = 2 (K = 1 above 5 operations), on v6.8 and on the fixed kernel.
#[test]
fn generated_programs_keep_their_outcomes() {
    let (mut plain_runs, mut cached_runs) = (0, 0);
    for (seed, p, ops) in swapfuzz::fuzz::generate::small_programs().take(20) {
        let k = if ops > 5 { 1 } else { 2 };
        for patches in [PatchSet::base(), PatchSet::fixed()] {
            let c = ModelConfig {
                patches,
                ..ModelConfig::default()
            };
            let (plain, n_plain) = outcomes_cached(&p, c, k, false, false);
            let (cached, n_cached) = outcomes_cached(&p, c, k, true, true);
            assert_eq!(
                plain,
                cached,
                "seed {seed} K={k} {c:?}:\n{}",
                text::print(&p, None, None)
            );
            assert!(n_cached <= n_plain, "seed {seed}");
            plain_runs += n_plain;
            cached_runs += n_cached;
        }
    }
    assert!(cached_runs < plain_runs, "{cached_runs} < {plain_runs}");
}

use super::*;
use crate::model::PatchSet;
use crate::program::bytes::decode;
use crate::triage::report::title;

/// A search of the default model from `seed` that stops after `executions` (not on time).
fn search(seed: u64, executions: u64) -> HuntOptions {
    HuntOptions {
        seed,
        max_executions: Some(executions),
        time: Duration::from_secs(600),
        ..HuntOptions::default()
    }
}

#[test]
fn hunt_finds_the_race_on_buggy() {
    match hunt_classic(&search(1, 100_000), &mut |_| {}) {
        HuntResult::Found { bug, input, .. } => {
            assert!(
                bug.stack.contains(&"free_swap_and_cache"),
                "{}",
                title(&bug)
            );
            // The reproducer replays to the same bug.
            let d = decode(&input);
            let cfg = ModelConfig::default();
            let (v, _) = run_program(&d.program, cfg, &d.schedule, &EngineConfig::default());
            assert_eq!(v.bug().map(title), Some(title(&bug)));
        }
        other => panic!("no bug found: {other:?}"),
    }
}

#[test]
fn hunt_is_clean_on_fixed() {
    let opts = HuntOptions {
        model: crate::check::config::model(PatchSet::fixed()),
        ..search(2, 20_000)
    };
    assert!(matches!(
        hunt_classic(&opts, &mut |_| {}),
        HuntResult::Clean { .. }
    ));
}

#[test]
fn same_seed_same_search() {
    let opts = search(4, 30_000);
    let a = hunt_classic(&opts, &mut |_| {});
    let b = hunt_classic(&opts, &mut |_| {});
    let strip = |r: HuntResult| match r {
        HuntResult::Found {
            input,
            executions,
            bug,
            ..
        } => Some((input, executions, bug)),
        _ => None,
    };
    let a = strip(a).expect("seed 4 finds the race within 30k executions");
    assert_eq!(Some(a), strip(b));
}

#[test]
fn the_feature_table_is_bounded_and_remembers_recent_features() {
    let mut t = FeatureTable::new();
    let feature = |i: u64| {
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&i, &mut h);
        std::hash::Hasher::finish(&h)
    };
    // Well below capacity it is an exact set.
    for i in 0..1000 {
        assert!(t.insert(feature(i)));
    }
    for i in 0..1000 {
        assert!(!t.insert(feature(i)));
    }
    // A million features later it holds no more than its slots, and the latest ones.
    for i in 1000..1_000_000 {
        t.insert(feature(i));
    }
    assert!(t.len() <= FEATURE_SLOTS);
    assert!(t.len() > FEATURE_SLOTS * 9 / 10);
    for i in 1_000_000 - 1000..1_000_000 {
        assert!(!t.insert(feature(i)), "recent feature {i} forgotten");
    }
}

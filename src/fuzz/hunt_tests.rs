use super::*;
use crate::check::run::run_program;
use crate::engine::EngineConfig;
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
    match hunt(&search(1, 100_000), Box::new(|_| {})) {
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
        hunt(&opts, Box::new(|_| {})),
        HuntResult::Clean { .. }
    ));
}

#[test]
fn same_seed_same_search() {
    let opts = search(4, 100_000);
    let a = hunt(&opts, Box::new(|_| {}));
    let b = hunt(&opts, Box::new(|_| {}));
    let strip = |r: HuntResult| match r {
        HuntResult::Found {
            input,
            executions,
            bug,
            ..
        } => Some((input, executions, bug)),
        _ => None,
    };
    let a = strip(a).expect("seed 4 finds the race within 100k executions");
    assert_eq!(Some(a), strip(b));
}

#[test]
fn workers_stop_at_the_first_find_and_the_corpus_directory_seeds_the_next_search() {
    let dir = std::env::temp_dir().join(format!("swapfuzz-hunt-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = HuntOptions {
        corpus: Some(dir.clone()),
        ..search(1, 100_000)
    };
    let r = hunt_jobs(&opts, 2, Box::new(|_| {}));
    assert!(matches!(r, HuntResult::Found { .. }), "{r:?}");
    let kept = std::fs::read_dir(&dir).unwrap().count();
    assert!(kept > 0, "the workers kept inputs in the corpus directory");
    // A search on the fixed kernel runs the corpus first: its executions include them all.
    let fixed = HuntOptions {
        model: crate::check::config::model(PatchSet::fixed()),
        corpus: Some(dir.clone()),
        ..search(3, kept as u64 + 10)
    };
    assert!(matches!(
        hunt(&fixed, Box::new(|_| {})),
        HuntResult::Clean { .. }
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

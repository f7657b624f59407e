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

/// An exchange of `jobs` workers and each worker's side of it, sharing every `every`.
fn exchange(jobs: usize, every: u64) -> Vec<Share> {
    let exchange = Arc::new(Exchange::new(jobs));
    (0..jobs)
        .map(|worker| Share {
            exchange: Arc::clone(&exchange),
            worker,
            every,
            outbox: Vec::new(),
            known: Default::default(),
        })
        .collect()
}

/// A program told apart by `n`.
fn program(n: u8) -> (Program, Vec<u8>) {
    (crate::program::seeds::shmem_truncate(), vec![n; 4])
}

#[test]
fn workers_exchange_what_they_kept_at_epoch_ends_in_worker_order() {
    let mut shares = exchange(3, 8);
    for (w, s) in shares.iter_mut().enumerate() {
        s.outbox.push(program(w as u8));
        // Not an epoch's end: nothing to import, nothing published.
        assert_eq!(s.sync(5).map(|v| v.len()), Some(0));
    }
    let threads: Vec<_> = shares
        .into_iter()
        .map(|mut s| {
            std::thread::spawn(move || {
                let got = s.sync(8).expect("not stopped");
                s.outbox.push(program(9));
                let again = s.sync(16).expect("not stopped");
                (got, again, s)
            })
        })
        .collect();
    for (w, t) in threads.into_iter().enumerate() {
        let (got, again, s) = t.join().unwrap();
        let from: Vec<u8> = got.iter().map(|(_, b)| b[0]).collect();
        let want: Vec<u8> = (0..3).filter(|&o| o != w as u8).collect();
        assert_eq!(
            from, want,
            "worker {w} imports the others' entries in worker order"
        );
        // At epoch 2 the other two both published program(9): imported once.
        assert_eq!(again, vec![program(9)], "worker {w}");
        assert!(s.exchange.state.lock().unwrap().epochs.len() <= 1);
    }
}

#[test]
fn a_find_stops_the_other_workers_at_its_execution_index() {
    let mut shares = exchange(2, 8);
    let ex = Arc::clone(&shares[0].exchange);
    ex.stop_at
        .fetch_min(12, std::sync::atomic::Ordering::AcqRel);
    assert!(shares[1].sync(11).is_some());
    assert!(shares[1].sync(12).is_none());
    // A worker waiting at an epoch's end for one that ended is let go.
    let waiter = std::thread::spawn({
        let mut s = shares.remove(0);
        move || s.sync(8).map(|v| v.len())
    });
    drop(Departs(Arc::clone(&ex), 1));
    assert_eq!(waiter.join().unwrap(), Some(0));
}

#[test]
fn parallel_workers_sharing_finds_search_the_same_way_twice() {
    let opts = search(5, 50_000);
    // Exchanges every 64 executions: several before the find.
    let run = || match hunt_jobs_sharing(&opts, 2, 64, Box::new(|_| {})) {
        HuntResult::Found {
            input, executions, ..
        } => (input, executions),
        other => panic!("--jobs 2 from seed 5 finds the race: {other:?}"),
    };
    let a = run();
    assert_eq!(a, run());
    assert_eq!(a.1 % 2, 0, "executions count both workers in lock-step");
}

use std::sync::Arc;

use shuttle::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::engine::{Access, EngineConfig, access, point, run_once};

/// Two threads increment with a separate load and store.
fn lost_update() {
    let counter = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let counter = Arc::clone(&counter);
            shuttle::thread::spawn(move || {
                let seen = counter.load(Ordering::SeqCst);
                counter.store(seen + 1, Ordering::SeqCst);
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert!(counter.load(Ordering::SeqCst) == 2, "lost update");
}

/// `n` tasks each publish a flag; task 0's check reads every flag and fails only if a
/// particular late task ran before it (needs the right task among many).
fn many_tasks(n: usize) {
    let flags = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>());
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let flags = Arc::clone(&flags);
            shuttle::thread::spawn(move || {
                point();
                access(i as u64, Access::Write);
                flags[i].store(1, Ordering::SeqCst);
            })
        })
        .collect();
    point();
    access((n - 1) as u64, Access::Read);
    let last = flags[n - 1].load(Ordering::SeqCst);
    access(0, Access::Read);
    let first = flags[0].load(Ordering::SeqCst);
    assert!(!(last == 1 && first == 0), "last before first");
    threads.into_iter().for_each(|t| t.join().unwrap());
}

#[test]
fn finds_the_lost_update_and_its_bytes_replay() {
    for arm in Arm::ALL {
        let arms: &[Arm] = if arm == Arm::Mutate {
            &[Arm::Random, Arm::Mutate]
        } else {
            &[arm]
        };
        let Fuzzing::Failed(found) = Fuzzer::new()
            .seed(3)
            .arms(arms)
            .max_executions(20_000)
            .run(lost_update)
        else {
            panic!("{arm}: the lost update is found");
        };
        assert_eq!(
            found.execution.outcome,
            Outcome::Panic("lost update".into()),
            "{arm}"
        );
        let replay = run_once(&found.schedule, &EngineConfig::default(), lost_update);
        assert_eq!(replay.outcome, found.execution.outcome, "{arm}");
        assert_eq!(replay.decisions, found.execution.decisions, "{arm}");
    }
}

#[test]
fn the_same_seed_searches_the_same_way() {
    let run = |seed| match Fuzzer::new()
        .seed(seed)
        .max_executions(50_000)
        .run(lost_update)
    {
        Fuzzing::Failed(f) => (f.stats.executions, f.schedule, f.arm),
        Fuzzing::Exhausted(_) => panic!("found"),
    };
    assert_eq!(run(11), run(11));
}

#[test]
fn a_passing_test_exhausts_the_budget() {
    let Fuzzing::Exhausted(stats) = Fuzzer::new().max_executions(300).run(|| {
        let t = shuttle::thread::spawn(point);
        point();
        t.join().unwrap();
    }) else {
        panic!("nothing fails");
    };
    assert_eq!(stats.executions, 300);
    assert_eq!(stats.arms.iter().map(|a| a.executions).sum::<u64>(), 300);
    assert!(stats.features > 0);
}

#[test]
fn a_hundred_and_twenty_tasks_fail_and_replay() {
    let Fuzzing::Failed(found) = Fuzzer::new()
        .seed(1)
        .max_executions(20_000)
        .run(|| many_tasks(120))
    else {
        panic!("found");
    };
    assert!(found.execution.outcome.is_bug());
    let replay = run_once(&found.schedule, &EngineConfig::default(), || {
        many_tasks(120)
    });
    assert_eq!(replay.outcome, found.execution.outcome);
    assert_eq!(replay.decisions, found.execution.decisions);
}

#[test]
fn inputs_are_generated_and_handed_to_the_test() {
    struct Numbers;
    impl Inputs for Numbers {
        type Input = u32;
        fn generate(&mut self, rng: &mut Rng) -> u32 {
            rng.below(100) as u32
        }
    }
    let result = Fuzzer::new().seed(5).max_executions(10_000).run_inputs(
        Numbers,
        |n: &u32| assert!(*n != 42, "forty-two"),
        Box::new(|_: &FuzzStats| {}),
    );
    let Fuzzing::Failed(found) = result else {
        panic!("found")
    };
    assert_eq!(*found.input, 42);
    assert_eq!(found.execution.outcome, Outcome::Panic("forty-two".into()));
}

#[test]
fn fresh_and_mutant_inputs_run_only_where_inputs_vary() {
    struct Numbers;
    impl Inputs for Numbers {
        type Input = u32;
        fn generate(&mut self, rng: &mut Rng) -> u32 {
            rng.below(1000) as u32
        }
        // A new number is a new feature: the corpus grows (mutant inputs need one).
        fn feature(&self, input: &u32) -> Option<u64> {
            Some(u64::from(*input))
        }
    }
    let fresh = |stats: &FuzzStats| {
        stats
            .arms
            .iter()
            .find(|a| a.arm == Arm::Fresh)
            .map(|a| a.executions)
    };
    let Fuzzing::Exhausted(varying) = Fuzzer::new().seed(1).max_executions(500).run_inputs(
        Numbers,
        |_: &u32| {},
        Box::new(|_: &FuzzStats| {}),
    ) else {
        panic!("nothing fails")
    };
    // The largest share, by its prior weight.
    let runs = fresh(&varying).expect("the fresh-input strategy runs");
    let others = varying.arms.iter().filter(|a| a.arm != Arm::Fresh);
    assert!(
        others.clone().all(|a| a.executions < runs),
        "{:?}",
        varying.arms
    );
    assert_eq!(others.map(|a| a.executions).sum::<u64>() + runs, 500);
    let quiet = || shuttle::thread::spawn(|| {}).join().unwrap();
    let Fuzzing::Exhausted(one) = Fuzzer::new().seed(1).max_executions(500).run(quiet) else {
        panic!("nothing fails")
    };
    assert_eq!(fresh(&one), None, "one input: no fresh-input strategy");
    let ran =
        |stats: &FuzzStats, arm: Arm| stats.arms.iter().any(|a| a.arm == arm && a.executions > 0);
    assert!(ran(&varying, Arm::Mutant), "{:?}", varying.arms);
    assert!(!ran(&one, Arm::Mutant), "one input: no mutant inputs");
}

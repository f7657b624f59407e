//! Executions to the first bug, for any shuttle test and several searches: the engine's
//! [`Fuzzer`], shuttle's `PctScheduler` and `RandomScheduler`, and fresh random schedule bytes
//! per execution ([`run_batch`]). Only executions are counted (no clock), so the figures are
//! the same on any machine and under any load.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shuttle::scheduler::{PctScheduler, RandomScheduler};

use crate::engine::{
    Arm, EngineConfig, Fuzzer, Fuzzing, Rng, quiet_panics, run_batch, run_with_scheduler,
};

/// A search of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Contender {
    /// The engine's [`Fuzzer`] with every strategy.
    Fuzzer,
    /// The engine's [`Fuzzer`] with only the strategies of this mask (bit `i`: [`Arm::ALL`]`[i]`),
    /// named `fuzzer:arm+arm`.
    FuzzerWith(u16),
    /// shuttle's `PctScheduler` with this depth.
    Pct(usize),
    /// shuttle's `RandomScheduler`.
    Random,
    /// Fresh uniformly random schedule bytes per execution, in one batch.
    Bytes,
}

impl Contender {
    /// Every contender, the fuzzer first.
    pub const ALL: [Contender; 5] = [
        Contender::Fuzzer,
        Contender::Pct(2),
        Contender::Pct(3),
        Contender::Random,
        Contender::Bytes,
    ];

    /// Its name on the command line.
    pub fn name(self) -> String {
        if let Contender::FuzzerWith(mask) = self {
            let arms: Vec<&str> = Arm::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, a)| a.name())
                .collect();
            return format!("fuzzer:{}", arms.join("+"));
        }
        match self {
            Contender::Fuzzer => "fuzzer",
            Contender::Pct(2) => "pct2",
            Contender::Pct(3) => "pct3",
            Contender::Pct(_) => "pct",
            Contender::Random => "random",
            Contender::Bytes => "bytes",
            Contender::FuzzerWith(_) => unreachable!("named above"),
        }
        .to_owned()
    }

    /// The contender called `name`.
    pub fn from_name(name: &str) -> Option<Contender> {
        if let Some(arms) = name.strip_prefix("fuzzer:") {
            let mut mask = 0u16;
            for a in arms.split('+') {
                let i = Arm::ALL.iter().position(|x| x.name() == a)?;
                mask |= 1 << i;
            }
            return Some(Contender::FuzzerWith(mask));
        }
        Contender::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether it is the engine's fuzzer (with any strategies).
    pub fn is_fuzzer(self) -> bool {
        matches!(self, Contender::Fuzzer | Contender::FuzzerWith(_))
    }
}

/// One search's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trial {
    /// Executions to the first failing one (included), or the whole budget.
    pub executions: u64,
    /// Whether a failure was found within the budget.
    pub found: bool,
    /// The fuzzer's strategy that found it (other searches: `None`).
    pub arm: Option<Arm>,
}

/// Runs `contender` with seed `seed` on `test` until its first bug (a panic or a deadlock) or
/// `budget` executions.
pub fn trial(
    test: Arc<dyn Fn() + Send + Sync>,
    contender: Contender,
    seed: u64,
    budget: u64,
) -> Trial {
    quiet_panics();
    let cfg = EngineConfig::default();
    if contender.is_fuzzer() {
        let arms: Vec<Arm> = match contender {
            Contender::FuzzerWith(mask) => Arm::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, &a)| a)
                .collect(),
            _ => Vec::new(),
        };
        return match Fuzzer::new()
            .seed(seed)
            .arms(&arms)
            .max_executions(budget)
            .run(move || test())
        {
            Fuzzing::Failed(f) => Trial {
                executions: f.stats.executions,
                found: f.execution.outcome.is_bug(),
                arm: Some(f.arm),
            },
            Fuzzing::Exhausted(s) => Trial {
                executions: s.executions,
                found: false,
                arm: None,
            },
        };
    }
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    let counted = move || {
        c.fetch_add(1, Ordering::Relaxed);
        test()
    };
    let iterations = usize::try_from(budget).unwrap_or(usize::MAX);
    let outcome = match contender {
        Contender::Pct(depth) => {
            run_with_scheduler(
                PctScheduler::new_from_seed(seed, depth, iterations),
                &cfg,
                counted,
            )
            .0
        }
        Contender::Random => {
            run_with_scheduler(
                RandomScheduler::new_from_seed(seed, iterations),
                &cfg,
                counted,
            )
            .0
        }
        Contender::Bytes => {
            let mut rng = Rng::new(seed);
            let inputs = (0..budget).map(move |_| ((), (0..1024).map(|_| rng.byte()).collect()));
            match run_batch(inputs, &cfg, move |_: &()| counted()).failure {
                Some(f) => f.outcome,
                None => crate::engine::Outcome::Pass,
            }
        }
        Contender::Fuzzer | Contender::FuzzerWith(_) => unreachable!("handled above"),
    };
    Trial {
        executions: count.load(Ordering::Relaxed),
        found: outcome.is_bug(),
        arm: None,
    }
}

/// The median of `v` (the mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The geometric mean of `v` (NaN for none).
pub fn geomean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

/// Trials of one contender on one test.
#[derive(Clone, Debug)]
pub struct Row {
    /// The contender.
    pub contender: Contender,
    /// One trial per seed.
    pub trials: Vec<Trial>,
}

impl Row {
    /// Runs `contender` with seeds `1..=seeds`.
    pub fn measure(
        test: &Arc<dyn Fn() + Send + Sync>,
        contender: Contender,
        seeds: u64,
        budget: u64,
    ) -> Row {
        Row {
            contender,
            trials: (1..=seeds)
                .map(|s| trial(Arc::clone(test), contender, s, budget))
                .collect(),
        }
    }

    /// Trials that found the bug.
    pub fn found(&self) -> usize {
        self.trials.iter().filter(|t| t.found).count()
    }

    /// The fuzzer's strategies that found the bug, with how many searches each ended
    /// (most first, then by name).
    pub fn finders(&self) -> Vec<(Arm, usize)> {
        let mut by: Vec<(Arm, usize)> = Vec::new();
        for arm in self.trials.iter().filter(|t| t.found).filter_map(|t| t.arm) {
            match by.iter_mut().find(|(a, _)| *a == arm) {
                Some((_, n)) => *n += 1,
                None => by.push((arm, 1)),
            }
        }
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name().cmp(b.0.name())));
        by
    }

    /// Median executions, a search that found nothing counting as its whole budget (then a
    /// lower bound).
    pub fn median(&self) -> f64 {
        median(self.trials.iter().map(|t| t.executions as f64).collect())
    }
}

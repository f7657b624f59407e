//! Which strategy runs next: a bandit over the [`Arm`]s that shifts executions to the
//! strategies whose executions have lately shown new features.
//!
//! Each arm keeps a discounted count of its executions and of those that found a new feature
//! (every update multiplies both by `DECAY`, so the estimate follows the search as it moves
//! on: random walks find most features early, mutation later). The next arm is drawn with
//! probability proportional to its estimated success rate times its prior [weight](Arm::weight)
//! (probability matching), with a floor of `FLOOR` for every arm, so none starves and a shift
//! in luck is noticed.
//!
//! Why the prior: on small tests the first bug comes within a few dozen executions, before any
//! estimate means anything, and an even split then runs the weakest strategies as often as the
//! best (on the suite, the even split lost to a plain random walk). The reads-from strategy
//! leads from the start; an arm that keeps finding features while it stops overtakes it.

use super::rng::Rng;

/// A search strategy of the [`Fuzzer`](super::Fuzzer), each in its own file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arm {
    /// Uniformly random schedule bytes (a quarter of the decisions preempt): `random.rs`.
    Random,
    /// A random walk with about 1 to 3 preemptions per execution: `random.rs`.
    Sparse,
    /// PCT with depth 2: `pct.rs`.
    Pct2,
    /// PCT with depth 3: `pct.rs`.
    Pct3,
    /// Partial order sampling: `pos.rs`.
    Pos,
    /// Mutation of a corpus schedule: `mutate.rs`.
    Mutate,
    /// Reads-from constraints from a corpus execution (RFF): `rf.rs`.
    Rf,
    /// A freshly generated input with an early PCT schedule: `fresh.rs` (only when the inputs
    /// vary).
    Fresh,
    /// A corpus entry's input, mutated half the time, with an early PCT schedule; the entry
    /// drawn by its novelty: `fresh.rs` (only when the inputs vary).
    Mutant,
}

impl Arm {
    /// Every arm.
    pub const ALL: [Arm; 9] = [
        Arm::Random,
        Arm::Sparse,
        Arm::Pct2,
        Arm::Pct3,
        Arm::Pos,
        Arm::Mutate,
        Arm::Rf,
        Arm::Fresh,
        Arm::Mutant,
    ];

    /// Its prior weight in the bandit: the reads-from strategy is preferred (RFF's result, and
    /// ours on the suite's tuning set), and fresh inputs more still where inputs vary; the
    /// others explore beside them.
    pub fn weight(self) -> f64 {
        match self {
            Arm::Rf => RF_WEIGHT,
            Arm::Fresh => FRESH_WEIGHT,
            Arm::Mutant => MUTANT_WEIGHT,
            _ => 1.0,
        }
    }

    /// Whether it needs a corpus entry to start from.
    pub fn needs_corpus(self) -> bool {
        matches!(self, Arm::Mutate | Arm::Mutant)
    }

    /// Whether it runs only where the inputs vary (with one input it would be PCT again).
    pub fn needs_inputs(self) -> bool {
        matches!(self, Arm::Fresh | Arm::Mutant)
    }

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Arm::Random => "random",
            Arm::Sparse => "sparse",
            Arm::Pct2 => "pct2",
            Arm::Pct3 => "pct3",
            Arm::Pos => "pos",
            Arm::Mutate => "mutate",
            Arm::Rf => "rf",
            Arm::Fresh => "fresh",
            Arm::Mutant => "mutant",
        }
    }

    /// The arm called `name`.
    pub fn from_name(name: &str) -> Option<Arm> {
        Arm::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Weight kept of the past at each update of an arm.
const DECAY: f64 = 0.995;
/// The reads-from strategy's prior weight against 1 for each other strategy: about 80 % of
/// the executions while every arm does equally well (chosen on the suite's tuning set; with 8,
/// its geometric mean ratio to PCT depth 3 there was 0.25, with 24 0.20).
const RF_WEIGHT: f64 = 24.0;
/// The fresh-input strategy's prior weight: about 70 % of the executions of a search over
/// varying inputs while every arm does equally well, the reads-from strategy 24 % (chosen on
/// tuning seeds of the swap model: `fresh.rs`).
const FRESH_WEIGHT: f64 = 72.0;
/// The mutant-input strategy's prior weight, as the reads-from strategy's (on the tuning seeds
/// of the swap model, with 24 and 48 the search did as without the arm: geometric means of
/// hunt/PCT depth 3 0.135, 0.150 and 0.146; see `fresh.rs` for why it is there).
const MUTANT_WEIGHT: f64 = 24.0;
/// Least share of the executions of each arm.
const FLOOR: f64 = 0.02;

/// What an arm did, as [`FuzzStats`](super::FuzzStats) reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArmStats {
    /// The arm.
    pub arm: Arm,
    /// Executions it ran.
    pub executions: u64,
    /// Of those, executions that found a new feature.
    pub finds: u64,
}

#[derive(Clone, Debug)]
struct ArmState {
    stats: ArmStats,
    pulls: f64,
    wins: f64,
}

/// The bandit.
#[derive(Clone, Debug)]
pub(crate) struct Bandit {
    arms: Vec<ArmState>,
}

impl Bandit {
    pub(crate) fn new(arms: &[Arm]) -> Self {
        Bandit {
            arms: arms
                .iter()
                .map(|&arm| ArmState {
                    stats: ArmStats {
                        arm,
                        executions: 0,
                        finds: 0,
                    },
                    pulls: 0.0,
                    wins: 0.0,
                })
                .collect(),
        }
    }

    /// The next arm; [`Arm::Mutate`] only if `corpus` (there is something to mutate).
    pub(crate) fn pick(&self, rng: &mut Rng, corpus: bool) -> Arm {
        let usable = |a: &ArmState| corpus || !a.stats.arm.needs_corpus();
        let score = |a: &ArmState| a.stats.arm.weight() * (a.wins + 1.0) / (a.pulls + 2.0);
        let total: f64 = self.arms.iter().filter(|a| usable(a)).map(score).sum();
        let n = self.arms.iter().filter(|a| usable(a)).count().max(1) as f64;
        let mut x = rng.unit();
        let mut last = Arm::Random;
        for a in self.arms.iter().filter(|a| usable(a)) {
            let p = FLOOR + (1.0 - FLOOR * n) * score(a) / total;
            if x < p {
                return a.stats.arm;
            }
            x -= p;
            last = a.stats.arm;
        }
        last
    }

    /// Records that an execution of `arm` found `new` new features.
    pub(crate) fn update(&mut self, arm: Arm, new: usize) {
        if let Some(a) = self.arms.iter_mut().find(|a| a.stats.arm == arm) {
            a.pulls = a.pulls * DECAY + 1.0;
            a.wins = a.wins * DECAY + f64::from(u8::from(new > 0));
            a.stats.executions += 1;
            a.stats.finds += u64::from(new > 0);
        }
    }

    pub(crate) fn stats(&self) -> Vec<ArmStats> {
        self.arms.iter().map(|a| a.stats).collect()
    }
}

//! The fresh-input strategy: a freshly generated input every execution, scheduled as PCT with
//! depth 3 (`pct.rs`) whose change points fall in the first third of a typical execution (at
//! least its first 8 decisions).
//!
//! Why: when the bug needs the right input as much as the right schedule (a generated program
//! whose operations race), mutating the schedules of corpus inputs spends the executions on
//! inputs the search already has, while PCT over fresh inputs tries a new one every time. The
//! early horizon: in an execution of a fresh input the tasks' first steps overlap at the start,
//! and a change point late in a long execution mostly falls where the racing steps are over.
//! The third (of the decaying mean of the decisions per execution, not PCT's usual longest
//! execution) was chosen on tuning seeds of the swap model (`swapfuzz bench --first-seed 101`):
//! a sixteenth of the longest gave about the same, the whole length 4 to 6 times more
//! executions to the first bug.
//!
//! The mutant-input strategy ([`Arm::Mutant`](super::Arm::Mutant)) runs the same schedule on a
//! corpus entry's input, mutated half the time ([`Inputs::mutate`](super::Inputs::mutate)),
//! the entry drawn with probability proportional to its *novelty*: the new features its
//! execution found when it was kept, against the decaying mean of the kept entries' ([`novelty`],
//! within 1/4 and 16). Why: a fresh input is run once. When the bug needs a rare input (on the
//! swap model, race 5 of the catalogue needs about one generated program in 1,000, and then
//! about one early PCT schedule in 40 of it) that single run usually misses, and the corpus
//! entry it leaves is one of thousands (most executions there find a new feature): drawn
//! uniformly, it is hardly run again. An input whose execution found many more features than
//! the others reached code and interleavings the others did not; it gets more schedules, and
//! its mutants more tries.
//!
//! Both arms run only when the [`Inputs`](super::Inputs) vary: with one fixed input they would
//! be PCT again.

use super::pct::PctWalk;
use super::rng::Rng;

/// PCT's depth for fresh inputs.
const DEPTH: usize = 3;
/// The horizon of the change points, as a fraction of the mean decisions per execution.
const HORIZON: f64 = 1.0 / 3.0;
/// Least horizon (short executions: all of them), so that the change points still vary.
const MIN_HORIZON: f64 = 8.0;
/// Weight kept of the past mean at each execution.
const DECAY: f64 = 63.0 / 64.0;

/// A decaying mean of the decisions per execution (the first execution sets it).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Typical(pub(crate) f64);

impl Typical {
    /// Notes an execution that made `decisions` decisions.
    pub(crate) fn note(&mut self, decisions: usize) {
        let d = decisions as f64;
        self.0 = if self.0 == 0.0 {
            d
        } else {
            self.0 * DECAY + d * (1.0 - DECAY)
        };
    }

    /// Decisions within which the change points fall.
    pub(crate) fn horizon(self) -> usize {
        ((self.0 * HORIZON).max(self.0.min(MIN_HORIZON)) as usize).max(1)
    }
}

/// The weight of a corpus entry that found `new` new features when the kept entries found
/// `mean` on average: their ratio, within [1/4, 16].
pub(crate) fn novelty(new: usize, mean: Typical) -> f64 {
    if mean.0 == 0.0 {
        return 1.0;
    }
    (new as f64 / mean.0).clamp(0.25, 16.0)
}

/// The schedule of one execution of a fresh input.
pub(crate) fn walk(rng: &mut Rng, typical: Typical) -> PctWalk {
    PctWalk::new(rng, DEPTH, typical.horizon())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn novelty_is_new_features_against_the_mean_within_bounds() {
        let mut mean = Typical::default();
        assert_eq!(novelty(40, mean), 1.0, "no entry yet");
        mean.note(10);
        assert_eq!(novelty(10, mean), 1.0);
        assert_eq!(novelty(50, mean), 5.0);
        assert_eq!(novelty(1000, mean), 16.0, "at most 16");
        assert_eq!(novelty(1, mean), 0.25, "at least a quarter");
    }

    #[test]
    fn the_horizon_is_a_third_of_the_decaying_mean() {
        let mut t = Typical::default();
        assert_eq!(t.horizon(), 1, "no execution yet");
        t.note(90);
        assert_eq!(t.horizon(), 30, "the first execution sets the mean");
        let mut short = Typical::default();
        short.note(12);
        assert_eq!(short.horizon(), 8, "at least 8 decisions");
        let mut tiny = Typical::default();
        tiny.note(5);
        assert_eq!(tiny.horizon(), 5, "or the whole execution");
        for _ in 0..1000 {
            t.note(300);
        }
        assert_eq!(t.horizon(), 99, "the mean follows: {t:?}");
    }
}

//! A stored reproducer after the model changed.
//!
//! A reproducer's schedule bytes name scheduling decisions by position: the k-th byte decides
//! the k-th point where two CPUs could run. When the model gains or loses a scheduling point
//! (a soundness fix, a new kernel path), the same bytes drive a different interleaving, and a
//! crash file could silently replay as "no bug". A reproducer that records the signature of its
//! bug (the scenario format's `expect:` line) is therefore replayed with [`reproduce`]: its own
//! schedule first, and if that no longer gives the bug, a bounded search of the program's
//! schedules for one that does. Only when that search fails is the reproducer *lost*, which is
//! reported as such, never as clean.

use crate::check::run::{Verdict, run_program};
use crate::check::steps::{Segment, run_segments, segments_of};
use crate::engine::EngineConfig;
use crate::model::ModelConfig;
use crate::program::Program;

use super::minimize::{MinimizeLimits, schedule_for};
use super::report::signature;

/// How a reproducer with an expected signature replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reproduction {
    /// Its own schedule gives the expected bug.
    Stored,
    /// Its own schedule no longer does (it gives `got`); this schedule, with `preemptions`
    /// preemptions, does.
    Rederived {
        /// What the stored schedule gives now: a signature, or "no bug".
        got: String,
        /// The new schedule bytes.
        schedule: Vec<u8>,
        /// Its preemptions.
        preemptions: usize,
    },
    /// No schedule within the search's bounds gives the expected bug.
    Lost {
        /// What the stored schedule gives now.
        got: String,
        /// The search's bound.
        max_preemptions: usize,
    },
}

/// What `program` under `schedule` gives: a bug's signature, or `"no bug"`.
pub fn outcome(program: &Program, schedule: &[u8], cfg: ModelConfig) -> String {
    let cfg = ModelConfig {
        record: false,
        ..cfg
    };
    match run_program(program, cfg, schedule, &EngineConfig::default()).0 {
        Verdict::Bug(b, _) => signature(&b),
        Verdict::Clean => "no bug".into(),
        Verdict::Error(e) => format!("internal error of swapfuzz: {e}"),
    }
}

/// Replays `program` under `schedule` expecting the bug `expect`; searches up to
/// `limits.max_preemptions` preemptions for a schedule that gives it when the stored one does not.
pub fn reproduce(
    program: &Program,
    schedule: &[u8],
    cfg: ModelConfig,
    expect: &str,
    limits: MinimizeLimits,
) -> Reproduction {
    let got = outcome(program, schedule, cfg);
    if got == expect {
        return Reproduction::Stored;
    }
    let cfg = ModelConfig {
        record: false,
        ..cfg
    };
    match schedule_for(program, cfg, expect, limits) {
        Some((schedule, preemptions)) => Reproduction::Rederived {
            got,
            schedule,
            preemptions,
        },
        None => Reproduction::Lost {
            got,
            max_preemptions: limits.max_preemptions,
        },
    }
}

/// The schedule bytes `bytes` of `program` stated as segments ("cpu0 until after
/// __swap_entry_free", …), if the segments give the same outcome (bug signature, or no bug).
pub fn segments_for(program: &Program, cfg: ModelConfig, bytes: &[u8]) -> Option<Vec<Segment>> {
    let cfg = ModelConfig {
        record: false,
        ..cfg
    };
    let segments = segments_of(program, cfg, bytes)?;
    let want = outcome(program, bytes, cfg);
    let got = match run_segments(program, cfg, &segments).0 {
        Verdict::Bug(b, _) => signature(&b),
        Verdict::Clean => "no bug".into(),
        Verdict::Error(_) => return None,
    };
    (got == want).then_some(segments)
}

/// A reproducer as a scenario a developer can read and keep: `expect:` the signature of the
/// bug it gives under `cfg` (none if it gives none), and its schedule in steps when they give
/// the same outcome, else as bytes.
pub fn as_scenario(
    program: &Program,
    bytes: &[u8],
    cfg: ModelConfig,
    name: Option<&str>,
) -> crate::program::text::Scenario {
    let got = outcome(program, bytes, cfg);
    let steps = segments_for(program, cfg, bytes);
    crate::program::text::Scenario {
        name: name.map(str::to_string),
        description: Vec::new(),
        program: program.clone(),
        schedule: steps.is_none().then(|| bytes.to_vec()),
        steps,
        expect: (got != "no bug" && !got.starts_with("internal error")).then_some(got),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::seeds;

    #[test]
    fn a_stale_schedule_is_rederived_and_a_wrong_expectation_is_lost() {
        let program = seeds::all()
            .into_iter()
            .find(|(n, _)| *n == "shmem-truncate")
            .expect("seed")
            .1;
        let cfg = ModelConfig::default();
        let limits = MinimizeLimits::default();
        // Find the race's signature at one preemption.
        let (schedule, _) = schedule_for(
            &program,
            cfg,
            "null-deref:swap_page_trans_huge_swapped:si->swap_map[roffset]:shmem_truncate_range",
            limits,
        )
        .expect("the seed race");
        let sig = outcome(&program, &schedule, cfg);
        assert_eq!(
            reproduce(&program, &schedule, cfg, &sig, limits),
            Reproduction::Stored
        );
        // A schedule that no longer preempts anywhere (as if the points had moved).
        match reproduce(&program, &[0xFF; 4], cfg, &sig, limits) {
            Reproduction::Rederived {
                got,
                schedule,
                preemptions,
            } => {
                assert_eq!(got, "no bug");
                assert_eq!(preemptions, 1);
                assert_eq!(outcome(&program, &schedule, cfg), sig);
            }
            other => panic!("{other:?}"),
        }
        // Stated as a commit message states it: CPU0 stops after __swap_entry_free(), CPU1's
        // swapoff runs, then CPU0.
        let segments = segments_for(&program, cfg, &schedule).expect("stated as segments");
        let text: Vec<String> = segments.iter().map(ToString::to_string).collect();
        assert_eq!(text[0], "cpu0 until after __swap_entry_free", "{text:?}");
        assert!(text.len() <= 4, "{text:?}");
        // The fixed kernel has no such bug: lost, not clean.
        let fixed = ModelConfig {
            patches: crate::model::PatchSet::fixed(),
            ..cfg
        };
        assert!(matches!(
            reproduce(&program, &schedule, fixed, &sig, limits),
            Reproduction::Lost { .. }
        ));
    }
}

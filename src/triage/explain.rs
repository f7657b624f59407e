//! What a developer reads about one run: the program, the interleaving in CPU columns and the
//! KASAN-style report ([`explain`]); and the replay of a stored reproducer, which first brings
//! its schedule up to date with the model ([`replay`]).

use crate::check::run::{Verdict, run_program};
use crate::check::steps::run_segments;
use crate::engine::{EngineConfig, decisions_to_bytes};
use crate::model::{ModelConfig, Program};
use crate::program::text::Scenario;

use super::minimize::MinimizeLimits;
use super::reproduce::{Reproduction, reproduce};
use super::{diagram, report};

/// How a run ended, as a command's exit status says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// No bug.
    Clean,
    /// A kernel bug.
    Bug,
    /// A reproducer's expected bug did not reproduce.
    NotReproduced,
}

/// Text to print and how the run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The program, the interleaving and the report (or the clean run's counts).
    pub text: String,
    /// How it ended.
    pub ending: Ending,
}

/// Runs `program` under `schedule` with recording on: the program, the interleaving (in at most
/// `width` columns, see [`diagram::render_width`]) and the report. An error of swapfuzz itself is
/// `Err`, never a kernel bug.
pub fn explain(
    program: &Program,
    schedule: &[u8],
    cfg: ModelConfig,
    width: usize,
) -> Result<Explanation, String> {
    let cfg = cfg.record(true);
    let (verdict, exec) = run_program(program, cfg, schedule, &EngineConfig::default());
    let mut text = format!(
        "Program:\n{}\n",
        crate::program::text::print(program, None, None)
    );
    let ending = match verdict {
        Verdict::Clean => {
            text += &format!(
                "No bug: the run finished cleanly ({} scheduling points, {} decisions, {} preemptions).\n",
                exec.steps,
                exec.decisions.len(),
                exec.preemptions()
            );
            Ending::Clean
        }
        Verdict::Bug(bug, events) => {
            text += "Interleaving:\n\n";
            text += &diagram::render_width(&events, program.cpus.len(), width);
            text += "\n";
            text += &report::render(&bug);
            text += &format!("signature: {}\n", report::signature(&bug));
            Ending::Bug
        }
        Verdict::Error(e) => {
            return Err(format!("internal error of swapfuzz, not a kernel bug: {e}"));
        }
    };
    Ok(Explanation { text, ending })
}

/// Replays a loaded reproducer: its steps (run to find their decisions) or schedule bytes; and
/// when the file names its bug (`expect:`), brings the schedule up to date first
/// ([`reproduce`]): a note when a search had to find the bug again, `DOES NOT REPRODUCE` when
/// none did (then the stored schedule is shown, and the ending is [`Ending::NotReproduced`]).
pub fn replay(
    program: &Program,
    schedule: &[u8],
    scenario: Option<&Scenario>,
    cfg: ModelConfig,
    width: usize,
) -> Result<Explanation, String> {
    let mut schedule = schedule.to_vec();
    if let Some(steps) = scenario.and_then(|s| s.steps.as_ref()) {
        // Steps name kernel functions; their run's decisions, as bytes, replay it exactly.
        schedule = decisions_to_bytes(&run_segments(program, cfg, steps).1.decisions);
    }
    let Some(expect) = scenario.and_then(|s| s.expect.as_ref()) else {
        return explain(program, &schedule, cfg, width);
    };
    let note = match reproduce(program, &schedule, cfg, expect, MinimizeLimits::default()) {
        Reproduction::Stored => String::new(),
        Reproduction::Rederived {
            got,
            schedule: s,
            preemptions,
        } => {
            schedule = s;
            format!(
                "Note: the stored schedule now gives {got}, not the expected {expect} (the \
                 model's scheduling points changed since the file was written); a search found \
                 it again with {preemptions} preemptions: replaying that schedule.\n\n"
            )
        }
        Reproduction::Lost {
            got,
            max_preemptions,
        } => {
            let e = explain(program, &schedule, cfg, width)?;
            return Ok(Explanation {
                text: format!(
                    "DOES NOT REPRODUCE: the file expects {expect}; under these settings its \
                     schedule gives {got}, and no schedule with at most {max_preemptions} \
                     preemptions gives the expected bug. On a patched kernel that is what a fix \
                     should give; on the kernel the file was found on, the model changed. Shown \
                     below: the stored schedule.\n\n{}",
                    e.text
                ),
                ending: Ending::NotReproduced,
            });
        }
    };
    let e = explain(program, &schedule, cfg, width)?;
    Ok(Explanation {
        text: note + &e.text,
        ending: e.ending,
    })
}

//! `swapfuzz replay FILE`: run a reproducer and print the program, the interleaving and the
//! report.

use super::{EXIT_BUG, EXIT_CLEAN, LayoutArgs, ModelArgs};
use crate::engine::EngineConfig;
use crate::model::ModelConfig;
use crate::model::harness::{Verdict, run_program};
use crate::program::Program;
use crate::triage::{diagram, report};

/// Arguments of `swapfuzz replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// A reproducer (a libFuzzer crash file or a hunt output) or a scenario (a built-in name, or
    /// a .scn or other text file); see --as.
    file: String,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    layout: LayoutArgs,
}

/// Runs `program` under `schedule` with recording on, and prints what a developer needs:
/// the program, the interleaving (in at most `width` columns, see [`diagram::render_width`])
/// and the report. Returns the exit status.
pub fn show(
    program: &Program,
    schedule: &[u8],
    cfg: ModelConfig,
    width: usize,
) -> Result<u8, String> {
    let cfg = ModelConfig {
        record: true,
        ..cfg
    };
    let (verdict, exec) = run_program(program, cfg, schedule, &EngineConfig::default());
    println!(
        "Program:\n{}",
        crate::program::text::print(program, None, None)
    );
    match verdict {
        Verdict::Clean => {
            println!(
                "No bug: the run finished cleanly ({} scheduling points, {} decisions, {} preemptions).",
                exec.steps,
                exec.decisions.len(),
                exec.preemptions()
            );
            Ok(EXIT_CLEAN)
        }
        Verdict::Bug(bug, events) => {
            println!("Interleaving:\n");
            print!(
                "{}",
                diagram::render_width(&events, program.cpus.len(), width)
            );
            println!();
            print!("{}", report::render(&bug));
            println!("signature: {}", report::signature(&bug));
            Ok(EXIT_BUG)
        }
        Verdict::Error(e) => Err(format!("internal error of swapfuzz, not a kernel bug: {e}")),
    }
}

/// Runs `swapfuzz replay`.
pub fn run(a: &ReplayArgs) -> Result<u8, String> {
    let l = super::input::load(&a.file)?;
    let cfg = a.model.config(true);
    println!("swapfuzz replay {} ({})\n", a.file, a.model.flags());
    let mut schedule = l.schedule;
    if let Some(steps) = l.scenario.as_ref().and_then(|s| s.steps.as_ref()) {
        // Steps name kernel functions; their run's decisions, as bytes, replay it exactly.
        let run = crate::model::schedule::run_segments(&l.program, cfg, steps).1;
        schedule = crate::engine::decisions_to_bytes(&run.decisions);
    }
    if let Some(expect) = l.scenario.as_ref().and_then(|s| s.expect.as_ref()) {
        use crate::triage::minimize::MinimizeLimits;
        use crate::triage::reproduce::{Reproduction, reproduce};
        match reproduce(
            &l.program,
            &schedule,
            cfg,
            expect,
            MinimizeLimits::default(),
        ) {
            Reproduction::Stored => {}
            Reproduction::Rederived {
                got,
                schedule: s,
                preemptions,
            } => {
                println!(
                    "Note: the stored schedule now gives {got}, not the expected {expect} (the \
                     model's scheduling points changed since the file was written); a search \
                     found it again with {preemptions} preemptions: replaying that schedule.\n"
                );
                schedule = s;
            }
            Reproduction::Lost {
                got,
                max_preemptions,
            } => {
                println!(
                    "DOES NOT REPRODUCE: the file expects {expect}; under these settings its \
                     schedule gives {got}, and no schedule with at most {max_preemptions} \
                     preemptions gives the expected bug. On a patched kernel that is what a fix \
                     should give; on the kernel the file was found on, the model changed. Shown \
                     below: the stored schedule.\n"
                );
                show(&l.program, &schedule, cfg, a.layout.width())?;
                return Ok(super::EXIT_NO_REPRO);
            }
        }
    }
    show(&l.program, &schedule, cfg, a.layout.width())
}

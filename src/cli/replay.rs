//! `swapfuzz replay FILE`: run a reproducer and print the program, the interleaving and the
//! report.

use super::{EXIT_BUG, EXIT_CLEAN, ModelArgs};
use crate::engine::EngineConfig;
use crate::model::harness::{Verdict, run_program};
use crate::model::{ModelConfig, Program};
use crate::triage::{diagram, report};

/// Arguments of `swapfuzz replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// A reproducer (a libFuzzer crash file or a hunt output) or a scenario (a built-in name, or
    /// a .scn or other text file); see --as.
    file: String,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs `program` under `schedule` with recording on, and prints what a developer needs:
/// the program, the interleaving and the report. Returns the exit status.
pub fn show(program: &Program, schedule: &[u8], cfg: ModelConfig) -> Result<u8, String> {
    let cfg = ModelConfig {
        record: true,
        ..cfg
    };
    let (verdict, exec) = run_program(program, cfg, schedule, &EngineConfig::default());
    println!("Program:\n{}", crate::scenario::print(program, None, None));
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
            print!("{}", diagram::render(&events, program.cpus.len()));
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
    show(&l.program, &l.schedule, cfg)
}

//! `swapfuzz replay FILE`: run a reproducer and print the program, the interleaving and the
//! report.

use super::{EXIT_BUG, EXIT_CLEAN, LayoutArgs, ModelArgs};
use crate::model::Program;
use crate::triage::explain::{Ending, Explanation, explain, replay};

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

/// Prints [`explain`]'s text for `program` under `schedule`, in the model `model` selects
/// (recording events) at `layout`'s width; returns the exit status.
pub fn show(
    program: &Program,
    schedule: &[u8],
    model: &ModelArgs,
    layout: &LayoutArgs,
) -> Result<u8, String> {
    print_explained(explain(
        program,
        schedule,
        model.config(true)?,
        layout.width(),
    )?)
}

/// Prints an explanation; its exit status.
pub fn print_explained(e: Explanation) -> Result<u8, String> {
    print!("{}", e.text);
    Ok(match e.ending {
        Ending::Clean => EXIT_CLEAN,
        Ending::Bug => EXIT_BUG,
        Ending::NotReproduced => super::EXIT_NO_REPRO,
    })
}

/// Runs `swapfuzz replay`.
pub fn run(a: &ReplayArgs) -> Result<u8, String> {
    let l = super::input::load(&a.file)?;
    let cfg = a.model.config(true)?;
    println!("swapfuzz replay {} ({})\n", a.file, a.model.flags());
    print_explained(replay(
        &l.program,
        &l.schedule,
        l.scenario.as_ref(),
        cfg,
        a.layout.width(),
    )?)
}

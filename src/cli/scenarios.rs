//! `swapfuzz scenarios` and `swapfuzz show FILE`.

use super::EXIT_CLEAN;
use crate::scenario;

/// Lists the built-in scenarios, a line each.
pub fn list() -> Result<u8, String> {
    for (name, summary, _) in scenario::builtin() {
        println!("{name:<16} {summary}");
    }
    println!(
        "\n(run one: swapfuzz verify NAME --preemptions 2; see scenarios/README.md for the format)"
    );
    Ok(EXIT_CLEAN)
}

/// Arguments of `swapfuzz show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// A reproducer file or a scenario.
    input: String,
}

/// Prints any reproducer as a scenario file with its schedule.
pub fn show(a: &ShowArgs) -> Result<u8, String> {
    let l = super::input::load(&a.input)?;
    let sched = (!l.schedule.is_empty()).then_some(l.schedule.as_slice());
    print!("{}", scenario::print(&l.program, sched, None));
    Ok(EXIT_CLEAN)
}

//! `swapfuzz scenarios` and `swapfuzz show FILE`.

use super::EXIT_CLEAN;
use crate::program::text;

/// Lists the built-in scenarios, a line each.
pub fn list() -> Result<u8, String> {
    for (name, summary, _) in text::builtin() {
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
    /// The kernel under which the schedule is stated in steps and its bug named (`expect:`).
    #[command(flatten)]
    model: super::ModelArgs,
}

/// Prints any reproducer as a scenario file with its schedule.
pub fn show(a: &ShowArgs) -> Result<u8, String> {
    let l = super::input::load(&a.input)?;
    if let Some(s) = l.scenario.as_ref().filter(|s| s.steps.is_some()) {
        // Already stated in steps: print it as it is.
        print!("{}", text::print_scenario(s));
        return Ok(EXIT_CLEAN);
    }
    let name = l.scenario.as_ref().and_then(|s| s.name.as_deref());
    let mut s = crate::triage::reproduce::as_scenario(
        &l.program,
        &l.schedule,
        a.model.config(false)?,
        name,
    );
    if let Some(orig) = &l.scenario {
        s.description = orig.description.clone();
        s.expect = s.expect.or_else(|| orig.expect.clone());
    }
    if l.schedule.is_empty() && l.scenario.is_some() {
        // A scenario without a schedule stays one: all schedules.
        s.steps = None;
        s.schedule = None;
        s.expect = l.scenario.as_ref().and_then(|o| o.expect.clone());
    }
    print!("{}", text::print_scenario(&s));
    Ok(EXIT_CLEAN)
}

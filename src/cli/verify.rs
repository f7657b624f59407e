//! `swapfuzz verify`: every schedule of a program with at most K preemptions, exhaustively.

use std::time::Instant;

use super::replay::show;
use super::{EXIT_BUG, EXIT_CLEAN, LayoutArgs, ModelArgs};
use crate::engine::{EngineConfig, Exploration, ExploreLimits, explore_with};
use crate::model::harness::{Verdict, execute};
use crate::scenario;

/// Arguments of `swapfuzz verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// A scenario (built-in name or .scn file) or a reproducer file (its schedule is ignored).
    input: String,
    /// Explore every schedule with at most this many preemptions.
    #[arg(long, default_value_t = 2)]
    preemptions: usize,
    /// Stop (inconclusive, exit 2) after this many executions.
    #[arg(long)]
    max_executions: Option<usize>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    layout: LayoutArgs,
}

/// Runs `swapfuzz verify`.
pub fn run(a: &VerifyArgs) -> Result<u8, String> {
    let l = super::input::load(&a.input)?;
    let cfg = a.model.config(false);
    println!(
        "swapfuzz verify {} --preemptions {} ({})",
        a.input,
        a.preemptions,
        a.model.flags()
    );
    let t = Instant::now();
    // Iterative deepening: a bug is reported with the fewest preemptions that show it.
    let mut found = Exploration::Exhausted { executions: 0 };
    for k in 0..=a.preemptions {
        let p = l.program.clone();
        found = explore_with(
            k,
            ExploreLimits {
                max_executions: a.max_executions,
            },
            &EngineConfig::default(),
            move || execute(&p, cfg),
        );
        if !matches!(found, Exploration::Exhausted { .. }) {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    match found {
        Exploration::Exhausted { executions } => {
            println!(
                "VERIFIED: no bug in all {executions} schedules with at most {} preemptions ({secs:.2} s).",
                a.preemptions
            );
            println!(
                "(this bounds preemptions, not the program: schedules needing more preemptions, other programs and the model's simplifications are not covered)"
            );
            Ok(EXIT_CLEAN)
        }
        Exploration::Truncated { executions } => Err(format!(
            "inconclusive: stopped after {executions} schedules ({secs:.2} s) without exhausting the bound"
        )),
        Exploration::Failed(c) => {
            if let Verdict::Error(e) = Verdict::of(&c.execution) {
                return Err(format!("internal error of swapfuzz, not a kernel bug: {e}"));
            }
            let pre = c.execution.preemptions();
            println!(
                "BUG after {} schedules ({secs:.2} s), with {pre} preemption(s). Reproducer:\n",
                c.executions
            );
            print!("{}", scenario::print(&l.program, Some(&c.schedule), None));
            println!();
            show(
                &l.program,
                &c.schedule,
                a.model.config(true),
                a.layout.width(),
            )?;
            Ok(EXIT_BUG)
        }
    }
}

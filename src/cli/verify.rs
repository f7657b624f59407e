//! `swapfuzz verify`: every schedule of a program with at most K preemptions, exhaustively, by
//! iterative deepening ([`Explorer::run_deepening`]) under a time and execution budget, with a
//! progress line on stderr when stderr is a terminal (nothing is added to piped output).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::replay::show;
use super::{EXIT_BUG, EXIT_CLEAN, LayoutArgs, ModelArgs};
use crate::check::run::{Verdict, execute};
use crate::engine::{Budget, Deepening, DeepeningProgress, Exploration, Explorer};
use crate::program::text;

/// Exit status of `verify` when a budget (`--time`, `--max-executions`) stopped it before the
/// bound was exhausted: inconclusive, neither verified (0) nor a bug (1) nor bad usage (2).
pub const EXIT_STOPPED: u8 = 3;

/// What a proof with `--reduction --cache-states` covers beyond the schedules it runs: every
/// schedule within the bound "up to" this (also `check-patch`'s words).
pub const UP_TO_ORDER_AND_STATES: &str =
    "the order of independent steps and states explored before";

/// Time between progress updates on a terminal.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Arguments of `swapfuzz verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// A scenario (built-in name or .scn file) or a reproducer file (its schedule is ignored).
    input: String,
    /// Explore every schedule with at most this many preemptions; `all`: every schedule (no
    /// bound: a complete proof, for small programs).
    #[arg(long, default_value = "2", value_parser = parse_bound)]
    preemptions: usize,
    /// Prune schedules that only reorder independent steps (sleep sets, sound under the bound)
    /// and count the equivalence classes covered. Off by default: a schedule costs about twice
    /// as much with it (recording every step's annotations), so it pays from K = 3 on.
    #[arg(long)]
    reduction: bool,
    /// Do not explore again from a state explored before (state caching: the model's state
    /// with what each CPU has observed, which decides where each CPU is and what it does next).
    /// Makes complete proofs (`--preemptions all`) of small programs finish.
    #[arg(long)]
    cache_states: bool,
    /// Stop (inconclusive, exit 3) after this many executions at one preemption bound.
    #[arg(long)]
    max_executions: Option<usize>,
    /// Stop (inconclusive, exit 3) after this many seconds (fractions allowed; default: none).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    time: Option<Duration>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    layout: LayoutArgs,
}

/// A preemption bound: a number, or `all` (no bound, `usize::MAX`).
pub fn parse_bound(s: &str) -> Result<usize, String> {
    match s {
        "all" => Ok(usize::MAX),
        _ => s
            .parse::<usize>()
            .ok()
            .filter(|&k| k < usize::MAX)
            .ok_or_else(|| format!("expected a number of preemptions or `all`, got {s:?}")),
    }
}

/// A bound for messages.
fn bound_text(k: usize) -> String {
    if k == usize::MAX {
        "no preemption bound".into()
    } else {
        format!("at most {k} preemptions")
    }
}

pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x < 1e12 => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!("expected a positive number of seconds, got {s:?}")),
    }
}

/// Thousands separators, for counts a reader compares.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rough count (an estimate): exact below a million, else in millions or billions.
fn rough(n: usize) -> String {
    match n as f64 {
        x if x < 1e6 => count(n),
        x if x < 1e9 => format!("{:.1}M", x / 1e6),
        x => format!("{:.1}G", x / 1e9),
    }
}

/// A duration for a progress line: seconds, minutes, hours or days.
fn short_time(secs: f64) -> String {
    match secs {
        s if s < 100.0 => format!("{s:.1} s"),
        s if s < 6000.0 => format!("{:.0} min", s / 60.0),
        s if s < 48.0 * 3600.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} d", s / 86400.0),
    }
}

/// The progress line: bound, schedules at it, rate, and the estimate where there is one (short
/// enough for an 80-column terminal).
fn progress_line(p: &DeepeningProgress) -> String {
    let secs = p.elapsed.as_secs_f64().max(1e-9);
    let rate = p.executions as f64 / secs;
    let done = count(p.executions_at_k);
    let at_k = match p.estimate_at_k {
        Some(est) if est > p.executions_at_k => format!(
            "{done} of ~{} schedules ({:.0}%, ~{} left)",
            rough(est),
            100.0 * p.executions_at_k as f64 / est as f64,
            short_time((est - p.executions_at_k) as f64 / rate.max(1e-9))
        ),
        Some(est) => format!("{done} schedules (estimate was ~{})", rough(est)),
        None => format!("{done} schedules"),
    };
    let k = |k: usize| {
        if k == usize::MAX {
            "all".to_string()
        } else {
            k.to_string()
        }
    };
    format!(
        "K={}/{}: {at_k}, {}/s, {}",
        k(p.k),
        k(p.max_preemptions),
        count(rate as usize),
        short_time(secs)
    )
}

/// Runs `swapfuzz verify`.
pub fn run(a: &VerifyArgs) -> Result<u8, String> {
    let l = super::input::load(&a.input)?;
    let cfg = a.model.config(false)?;
    let unbounded = a.preemptions == usize::MAX;
    let bound = if unbounded {
        "all".to_string()
    } else {
        a.preemptions.to_string()
    };
    println!(
        "swapfuzz verify {} --preemptions {bound}{}{} ({})",
        a.input,
        if a.reduction { " --reduction" } else { "" },
        if a.cache_states {
            " --cache-states"
        } else {
            ""
        },
        a.model.flags()
    );
    let terminal = std::io::stderr().is_terminal();
    let progress = move |p: &DeepeningProgress| {
        if terminal {
            // Erase the line, then write it again.
            eprint!("\r\x1b[2K{}", progress_line(p));
            let _ = std::io::stderr().flush();
        }
    };
    let p = l.program.clone();
    let t = Instant::now();
    // Iterative deepening: a bug is reported with the fewest preemptions that show it.
    let explorer = Explorer::new()
        .preemptions(a.preemptions)
        .max_executions(a.max_executions)
        .time(a.time)
        .progress(PROGRESS_EVERY, progress)
        .reduction(a.reduction)
        .cache_states(a.cache_states)
        .count_classes(a.reduction);
    let result = if unbounded {
        // One search without a bound (deepening would never end).
        match explorer.run(move || execute(&p, cfg)) {
            Exploration::Exhausted { executions } => Deepening::Exhausted {
                completed: vec![executions],
            },
            Exploration::Failed(counterexample) => Deepening::Failed {
                k: usize::MAX,
                counterexample,
                completed: Vec::new(),
            },
            Exploration::Truncated { executions } => Deepening::Stopped {
                by: if a.time.is_some() && t.elapsed() >= a.time.unwrap_or_default() {
                    Budget::Time
                } else {
                    Budget::Executions
                },
                k: usize::MAX,
                executions_at_k: executions,
                completed: Vec::new(),
                estimate_at_k: None,
            },
        }
    } else {
        explorer.run_deepening(move || execute(&p, cfg))
    };
    let coverage = explorer.coverage().last().copied().unwrap_or_default();
    let classes = coverage.classes.map_or_else(|| "?".into(), count);
    let reduction_line = if !a.reduction {
        String::new()
    } else {
        format!(
            "(sleep-set reduction: {classes} equivalence classes {}; {} of the schedules stopped early as covered; without --reduction every schedule runs)",
            if a.cache_states {
                "among the schedules run (a state met before is not counted again)"
            } else {
                "covered"
            },
            count(coverage.blocked)
        )
    };
    let states_line = coverage.states.map(|(matched, states)| {
        format!(
            "(state caching: {} decisions met a state explored before and were not explored again; {} states recorded)",
            count(matched),
            count(states)
        )
    });
    if terminal {
        eprint!("\r\x1b[2K");
        let _ = std::io::stderr().flush();
    }
    let secs = t.elapsed().as_secs_f64();
    match result {
        Deepening::Exhausted { completed } => {
            let executions = completed.last().copied().unwrap_or_default();
            let up_to = match (a.reduction, a.cache_states) {
                (false, false) => None,
                (true, false) => Some("the order of independent steps"),
                (false, true) => Some("states explored before"),
                (true, true) => Some(UP_TO_ORDER_AND_STATES),
            };
            match up_to {
                None => println!(
                    "VERIFIED: no bug in all {executions} schedules with {} ({secs:.2} s).",
                    bound_text(a.preemptions)
                ),
                Some(up_to) => println!(
                    "VERIFIED: no bug in all {executions} schedules run, which cover every schedule with {} up to {up_to} ({secs:.2} s).",
                    bound_text(a.preemptions)
                ),
            }
            if a.reduction {
                println!("{reduction_line}");
            }
            if let Some(line) = &states_line {
                println!("{line}");
            }
            if unbounded {
                println!(
                    "(every schedule of this program: other programs and the model's simplifications are not covered)"
                );
            } else {
                println!(
                    "(this bounds preemptions, not the program: schedules needing more preemptions, other programs and the model's simplifications are not covered)"
                );
            }
            Ok(EXIT_CLEAN)
        }
        Deepening::Stopped {
            by,
            k,
            executions_at_k,
            completed,
            estimate_at_k,
        } => {
            let budget = match (by, a.time, a.max_executions) {
                (Budget::Time, Some(t), _) => {
                    format!("the time budget (--time {})", t.as_secs_f64())
                }
                (Budget::Executions, _, Some(n)) => {
                    format!("the execution budget (--max-executions {n})")
                }
                (Budget::Time, ..) => "the time budget".into(),
                (Budget::Executions, ..) => "the execution budget".into(),
            };
            let estimate = estimate_at_k
                .map(|e| format!(" (of roughly {e} at K={k}, estimated)"))
                .unwrap_or_default();
            if unbounded {
                println!(
                    "INCONCLUSIVE: stopped by {budget} without a preemption bound, {executions_at_k} schedules done, no bug in them ({secs:.2} s)."
                );
                return Ok(EXIT_STOPPED);
            }
            println!(
                "INCONCLUSIVE: stopped by {budget} at K={k}, {executions_at_k} schedules of K={k} done{estimate}, no bug in them ({secs:.2} s)."
            );
            match completed.last() {
                Some(&n) => println!(
                    "Verified only up to K={}: no bug in all {n} schedules with at most {} preemptions.",
                    k - 1,
                    k - 1
                ),
                None => println!("No preemption bound was finished."),
            }
            Ok(EXIT_STOPPED)
        }
        Deepening::Failed { counterexample, .. } => {
            let c = counterexample;
            if let Verdict::Error(e) = Verdict::of(&c.execution) {
                return Err(format!("internal error of swapfuzz, not a kernel bug: {e}"));
            }
            let pre = c.execution.preemptions();
            println!(
                "BUG after {} schedules ({secs:.2} s), with {pre} preemption(s). Reproducer:\n",
                c.executions
            );
            print!("{}", text::print(&l.program, Some(&c.schedule), None));
            println!();
            show(&l.program, &c.schedule, &a.model, &a.layout)?;
            Ok(EXIT_BUG)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_fits_80_columns() {
        let p = DeepeningProgress {
            k: 3,
            max_preemptions: 3,
            executions_at_k: 62_201,
            executions: 80_884,
            completed: vec![3, 317, 18_366],
            elapsed: Duration::from_millis(2800),
            estimate_at_k: Some(710_014),
        };
        let line = progress_line(&p);
        assert_eq!(
            line,
            "K=3/3: 62,201 of ~710,014 schedules (9%, ~22.4 s left), 28,887/s, 2.8 s"
        );
        let big = DeepeningProgress {
            k: 10,
            max_preemptions: 10,
            executions_at_k: 1_234_567_890,
            executions: 1_299_999_999,
            estimate_at_k: Some(98_765_432_100),
            elapsed: Duration::from_secs(29_000),
            ..p
        };
        assert!(progress_line(&big).len() < 80, "{}", progress_line(&big));
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }
}

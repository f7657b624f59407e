//! `swapfuzz hunt`: the stand-alone search, with a live progress line; at the first bug it
//! writes the reproducer, prints the report and the interleaving, and exits 1.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use super::{EXIT_BUG, EXIT_CLEAN, ModelArgs};
use crate::fuzz::hunt::{HuntOptions, HuntResult, Progress, hunt};
use crate::fuzz::input::decode;

/// Arguments of `swapfuzz hunt`.
#[derive(clap::Args, Debug)]
pub struct HuntArgs {
    /// Search only the schedules of this scenario (a built-in name or a .scn file).
    scenario: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    time: u64,
    /// Seed of the search (the same seed searches the same way).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the reproducer.
    #[arg(long, default_value = "hunt-out")]
    out: PathBuf,
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Runs `swapfuzz hunt`.
pub fn run(a: &HuntArgs) -> Result<u8, String> {
    let cfg = a.model.config(false);
    let program = match &a.scenario {
        None => None,
        Some(name) => {
            let l = super::input::load(name)?;
            if l.program.cpus.len() < 2 {
                return Err(format!("{name}: a race needs at least two CPUs"));
            }
            Some(l.program)
        }
    };
    let opts = HuntOptions {
        program,
        variant: cfg.variant,
        rcu_spinlocks: cfg.rcu_spinlocks,
        preemptible: cfg.preemptible,
        time: Duration::from_secs(a.time),
        seed: a.seed,
        max_executions: None,
    };
    eprintln!(
        "swapfuzz hunt: {} for up to {} s, seed {}",
        a.model.flags(),
        a.time,
        a.seed
    );
    let mut progress = |p: &Progress| {
        let secs = p.elapsed.as_secs_f64().max(1e-9);
        eprint!(
            "\r#{:<9} {:>7.0} exec/s  {:>5.1} s  corpus {:<5}",
            p.executions,
            p.executions as f64 / secs,
            secs,
            p.corpus
        );
        let _ = std::io::stderr().flush();
    };
    let result = hunt(&opts, &mut progress);
    eprintln!();
    match result {
        HuntResult::Clean {
            executions,
            elapsed,
        } => {
            println!(
                "No bug in {executions} executions ({:.1} s).",
                elapsed.as_secs_f64()
            );
            Ok(EXIT_CLEAN)
        }
        HuntResult::Error { message, input, .. } => {
            let path = write_reproducer(&a.out, "error", &input)?;
            Err(format!(
                "internal error of swapfuzz (not a kernel bug): {message}; input saved in {}",
                path.display()
            ))
        }
        HuntResult::Found {
            input,
            executions,
            elapsed,
            ..
        } => {
            let path = write_reproducer(&a.out, "crash", &input)?;
            println!(
                "Found a bug after {executions} executions ({:.1} s). Reproducer: {}\n",
                elapsed.as_secs_f64(),
                path.display()
            );
            let d = decode(&input);
            let code = super::replay::show(&d.program, &d.schedule, a.model.config(true))?;
            println!(
                "\nReproduce with: swapfuzz replay {} {}",
                path.display(),
                a.model.flags()
            );
            println!(
                "Check the patch: swapfuzz replay {} --variant fixed",
                path.display()
            );
            Ok(if code == EXIT_BUG { EXIT_BUG } else { code })
        }
    }
}

fn write_reproducer(dir: &std::path::Path, kind: &str, input: &[u8]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{kind}-{:016x}", fnv(input)));
    std::fs::write(&path, input).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

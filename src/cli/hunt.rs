//! `swapfuzz hunt`: the stand-alone search, with a live progress line; at the first bug it
//! prints the report and the interleaving, then writes the reproducer (atomically, named after
//! its contents' hash), and exits 1. A reproducer that cannot be written is printed in hex,
//! with the error, and the exit status is still 1: a bug found is never thrown away.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{EXIT_CLEAN, LayoutArgs, ModelArgs};
use crate::fuzz::hunt::{HuntOptions, HuntResult, Progress, hunt};
use crate::fuzz::input::decode;
use crate::output_file;

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
    #[command(flatten)]
    layout: LayoutArgs,
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
            let message = format!("internal error of swapfuzz (not a kernel bug): {message}");
            match write_reproducer(&a.out, "error", &input) {
                Ok(path) => Err(format!("{message}; input saved in {}", path.display())),
                Err(e) => {
                    print_unsaved(&input);
                    Err(format!("{message}; the input was not saved: {e}"))
                }
            }
        }
        HuntResult::Found {
            input,
            executions,
            elapsed,
            ..
        } => {
            println!(
                "Found a bug after {executions} executions ({:.1} s).\n",
                elapsed.as_secs_f64()
            );
            let d = decode(&input);
            // Shown first, saved whatever showing gave: the input is the evidence.
            let shown = super::replay::show(
                &d.program,
                &d.schedule,
                a.model.config(true),
                a.layout.width(),
            );
            println!();
            match write_reproducer(&a.out, "crash", &input) {
                Ok(path) => {
                    println!("Reproducer: {}", path.display());
                    println!(
                        "Reproduce with: swapfuzz replay {} {}",
                        path.display(),
                        a.model.flags()
                    );
                    println!(
                        "Check the patch: swapfuzz replay {} --variant fixed",
                        path.display()
                    );
                }
                Err(e) => {
                    print_unsaved(&input);
                    eprintln!("swapfuzz: error: the reproducer was not saved: {e}");
                }
            }
            shown
        }
    }
}

/// Prints an input that could not be saved, so that it is not lost.
fn print_unsaved(input: &[u8]) {
    println!(
        "Reproducer NOT SAVED. Its bytes (hex; save them with: echo HEX | xxd -r -p > crash.bin):\n{}",
        output_file::hex(input)
    );
}

/// Writes `input` as `dir/<kind>-<hash>`, atomically; an existing file of that name with the
/// same contents is fine, one with other contents is not replaced.
fn write_reproducer(dir: &Path, kind: &str, input: &[u8]) -> Result<PathBuf, String> {
    output_file::create_dir(dir)?;
    let path = dir.join(format!("{kind}-{:016x}", fnv(input)));
    output_file::write(&path, input, false)?;
    Ok(path)
}

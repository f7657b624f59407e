//! `swapfuzz minimize FILE [-o OUT]`: the smallest reproducer with the same bug signature.

use std::path::PathBuf;

use super::replay::{read_reproducer, show};
use super::{EXIT_BUG, ModelArgs};
use crate::fuzz::input::{decode, encode};
use crate::triage::minimize::{MinimizeLimits, minimize};
use crate::triage::report::signature;

/// Arguments of `swapfuzz minimize`.
#[derive(clap::Args, Debug)]
pub struct MinimizeArgs {
    /// The reproducer to minimise.
    file: PathBuf,
    /// Where to write the minimised reproducer (default: FILE.min).
    #[arg(short = 'o', long)]
    out: Option<PathBuf>,
    /// Most preemptions searched per candidate program.
    #[arg(long, default_value_t = 3)]
    preemptions: usize,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs `swapfuzz minimize`.
pub fn run(a: &MinimizeArgs) -> Result<u8, String> {
    let data = read_reproducer(&a.file)?;
    let d = decode(&data);
    let limits = MinimizeLimits {
        max_preemptions: a.preemptions,
        ..MinimizeLimits::default()
    };
    let m = minimize(&d.program, &d.schedule, a.model.config(false), limits)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.min", a.file.display())));
    std::fs::write(&out, encode(&m.program, &m.schedule))
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("signature: {}", signature(&m.bug));
    println!("before: {}", m.before);
    println!("after:  {}", m.after);
    println!("({} candidate programs searched)", m.candidates);
    println!("minimised reproducer: {}\n", out.display());
    show(&m.program, &m.schedule, a.model.config(true))?;
    Ok(EXIT_BUG)
}

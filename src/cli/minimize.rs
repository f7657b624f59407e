//! `swapfuzz minimize FILE [-o OUT]`: the smallest reproducer with the same bug signature.
//! The result is printed first, then written atomically ([`crate::output_file`]): an existing
//! OUT with other contents (FILE itself, with `-o FILE`) is replaced only with `--force`.

use std::path::PathBuf;

use super::replay::show;
use super::{EXIT_BUG, LayoutArgs, ModelArgs};
use crate::output_file::{self, Written};
use crate::program::bytes::encode;
use crate::program::file::load_file;
use crate::triage::minimize::{MinimizeLimits, minimize};
use crate::triage::report::signature;

/// Arguments of `swapfuzz minimize`.
#[derive(clap::Args, Debug)]
pub struct MinimizeArgs {
    /// The reproducer (or scenario file) to minimise.
    file: PathBuf,
    /// Where to write the minimised reproducer (default: FILE.min).
    #[arg(short = 'o', long)]
    out: Option<PathBuf>,
    /// Replace OUT if it exists with other contents.
    #[arg(long)]
    force: bool,
    /// Most preemptions searched per candidate program.
    #[arg(long, default_value_t = 3)]
    preemptions: usize,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    layout: LayoutArgs,
}

/// Runs `swapfuzz minimize`.
pub fn run(a: &MinimizeArgs) -> Result<u8, String> {
    let input = load_file(&a.file, super::input::how())?;
    let limits = MinimizeLimits {
        max_preemptions: a.preemptions,
        ..MinimizeLimits::default()
    };
    let m = minimize(
        &input.program,
        &input.schedule,
        a.model.config(false)?,
        limits,
    )?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.min", a.file.display())));
    println!("signature: {}", signature(&m.bug));
    println!("before: {}", m.before);
    println!("after:  {}", m.after);
    println!("({} candidate programs searched)\n", m.candidates);
    show(&m.program, &m.schedule, &a.model, &a.layout)?;
    let bytes = encode(&m.program, &m.schedule);
    match output_file::write(&out, &bytes, a.force) {
        Ok(w) => {
            let note = if w == Written::Unchanged {
                " (already there, unchanged)"
            } else {
                ""
            };
            println!("\nminimised reproducer: {}{note}", out.display());
            Ok(EXIT_BUG)
        }
        Err(e) => {
            println!(
                "\nminimised reproducer NOT SAVED; its bytes (hex; `xxd -r -p` writes them back):\n{}",
                output_file::hex(&bytes)
            );
            Err(e)
        }
    }
}

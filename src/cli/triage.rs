//! `swapfuzz triage DIR`: every crash file of DIR run under every model configuration, grouped
//! by bug signature, with the smallest reproducer of each group. Exit status: 2 if swapfuzz
//! failed on a file (or could not write `--out`), else 3 if a crash file does not reproduce,
//! else 1 if there are bugs, else 0.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{EXIT_BUG, EXIT_CLEAN, EXIT_ERROR, EXIT_NO_REPRO};
use crate::output_file;
use crate::program::bytes::encode;
use crate::program::file::load_file;
use crate::triage::dedup::{config_name, triage_dir_as};
use crate::triage::minimize::{MinimizeLimits, minimize};

/// Arguments of `swapfuzz triage`.
#[derive(clap::Args, Debug)]
pub struct TriageArgs {
    /// A directory of crash files (libFuzzer artifacts, hunt outputs).
    dir: PathBuf,
    /// Write one minimised reproducer per signature into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the table as JSON (for CI).
    #[arg(long)]
    json: bool,
    /// Replace files of --out that exist with other contents.
    #[arg(long)]
    force: bool,
}

/// Runs `swapfuzz triage`.
pub fn run(a: &TriageArgs) -> Result<u8, String> {
    let how = super::input::how();
    let t = triage_dir_as(&a.dir, how)?;
    if a.json {
        println!("{}", t.to_json());
    } else {
        let w = t
            .groups
            .iter()
            .map(|g| g.signature.len())
            .max()
            .unwrap_or(9)
            .max(9);
        // The reproducer column as wide as its longest path, so that "fails on" lines up.
        let r = t
            .groups
            .iter()
            .map(|g| g.smallest.display().to_string().chars().count())
            .max()
            .unwrap_or(19)
            .max(19);
        println!(
            "{:<w$} {:>5}  {:<r$} fails on",
            "signature", "count", "smallest reproducer"
        );
        for g in &t.groups {
            let fails: Vec<String> = g.fails_on.iter().map(|&(v, r)| config_name(v, r)).collect();
            println!(
                "{:<w$} {:>5}  {:<r$} {}",
                g.signature,
                g.files.len(),
                g.smallest.display().to_string(),
                fails.join(", ")
            );
            println!("    {}", g.title);
        }
        for (p, why) in t.corrupt.iter().chain(&t.skipped) {
            println!("skipped {}: {why}", p.display());
        }
        for p in &t.no_repro {
            println!(
                "DOES NOT REPRODUCE: {} (a crash file that no longer fails is a bug of swapfuzz: please report it; exit status 3)",
                p.display()
            );
        }
        for (p, e) in &t.errors {
            println!("INTERNAL ERROR on {}: {e}", p.display());
        }
    }
    let mut unsaved = 0;
    if let Some(out) = &a.out {
        output_file::create_dir(out)?;
        let mut taken = BTreeSet::new();
        for g in &t.groups {
            let input = load_file(&g.smallest, how)?;
            let (patches, rcu_spinlocks) = g.fails_on[0];
            let cfg = crate::check::config::model(patches).rcu_spinlocks(rcu_spinlocks);
            let m = minimize(
                &input.program,
                &input.schedule,
                cfg,
                MinimizeLimits::default(),
            )?;
            let path = out.join(crate::triage::dedup::file_name(&g.signature, &mut taken));
            let bytes = encode(&m.program, &m.schedule);
            match output_file::write(&path, &bytes, a.force) {
                Ok(_) if !a.json => println!(
                    "minimised {} -> {} ({})",
                    g.signature,
                    path.display(),
                    m.after
                ),
                Ok(_) => {}
                Err(e) => {
                    unsaved += 1;
                    eprintln!("swapfuzz: error: {e}");
                    eprintln!(
                        "minimised {} NOT SAVED; its bytes (hex; `xxd -r -p` writes them back):\n{}",
                        g.signature,
                        output_file::hex(&bytes)
                    );
                }
            }
        }
    }
    Ok(if !t.errors.is_empty() || unsaved > 0 {
        EXIT_ERROR
    } else if !t.no_repro.is_empty() {
        EXIT_NO_REPRO
    } else if t.groups.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_BUG
    })
}

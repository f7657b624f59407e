//! `swapfuzz triage DIR`: every crash file of DIR run under every model configuration, grouped
//! by bug signature, with the smallest reproducer of each group.

use std::path::PathBuf;

use super::{EXIT_BUG, EXIT_CLEAN, EXIT_ERROR};
use crate::fuzz::input::{decode, encode};
use crate::model::ModelConfig;
use crate::triage::dedup::{config_name, triage_dir};
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
}

fn file_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs `swapfuzz triage`.
pub fn run(a: &TriageArgs) -> Result<u8, String> {
    let t = triage_dir(&a.dir)?;
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
        println!(
            "{:<w$} {:>5}  {:<40} fails on",
            "signature", "count", "smallest reproducer"
        );
        for g in &t.groups {
            let fails: Vec<String> = g.fails_on.iter().map(|&(v, r)| config_name(v, r)).collect();
            println!(
                "{:<w$} {:>5}  {:<40} {}",
                g.signature,
                g.files.len(),
                g.smallest.display(),
                fails.join(", ")
            );
            println!("    {}", g.title);
        }
        for (p, why) in &t.corrupt {
            println!("skipped {}: {why}", p.display());
        }
        for p in &t.no_repro {
            println!(
                "DOES NOT REPRODUCE: {} (a crash file that no longer fails is a bug of swapfuzz: please report it)",
                p.display()
            );
        }
        for (p, e) in &t.errors {
            println!("INTERNAL ERROR on {}: {e}", p.display());
        }
    }
    if let Some(out) = &a.out {
        std::fs::create_dir_all(out)
            .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        for g in &t.groups {
            let data = std::fs::read(&g.smallest)
                .map_err(|e| format!("cannot read {}: {e}", g.smallest.display()))?;
            let d = decode(&data);
            let (variant, rcu_spinlocks) = g.fails_on[0];
            let cfg = ModelConfig {
                variant,
                rcu_spinlocks,
                preemptible: true,
                record: false,
                all_points: false,
            };
            let m = minimize(&d.program, &d.schedule, cfg, MinimizeLimits::default())?;
            let path = out.join(format!("{}.bin", file_name(&g.signature)));
            std::fs::write(&path, encode(&m.program, &m.schedule))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            if !a.json {
                println!(
                    "minimised {} -> {} ({})",
                    g.signature,
                    path.display(),
                    m.after
                );
            }
        }
    }
    Ok(if !t.errors.is_empty() {
        EXIT_ERROR
    } else if t.groups.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_BUG
    })
}

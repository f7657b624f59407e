//! Deduplication of crash files: each file is run under every model configuration, and files
//! are grouped by the [signature](super::report::signature) of their bug.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::engine::EngineConfig;
use crate::fuzz::input::decode;
use crate::model::harness::{Verdict, run_program};
use crate::model::{Bug, ModelConfig, Variant};

use super::report::signature;

/// The configurations every file is run under, in this order.
pub const CONFIGS: [(Variant, bool); 4] = [
    (Variant::Buggy, true),
    (Variant::Buggy, false),
    (Variant::Fixed, true),
    (Variant::Fixed, false),
];

/// `buggy/rcu-on`-style name of a configuration.
pub fn config_name(variant: Variant, rcu: bool) -> String {
    format!("{}/rcu-{}", variant.name(), if rcu { "on" } else { "off" })
}

/// What one file showed.
#[derive(Clone, Debug)]
pub enum FileVerdict {
    /// Unreadable or empty: skipped.
    Corrupt(String),
    /// No configuration shows a bug: the file does not reproduce (a bug of swapfuzz if it was
    /// a crash file).
    NoRepro,
    /// swapfuzz itself failed on it.
    Error(String),
    /// A bug: its signature, the first bug, and the configurations that show a bug.
    Bug {
        /// Signature (of the first failing configuration).
        signature: String,
        /// That bug.
        bug: Box<Bug>,
        /// Every configuration that fails.
        fails_on: Vec<(Variant, bool)>,
    },
}

/// A group of files with one signature.
#[derive(Clone, Debug)]
pub struct Group {
    /// The signature.
    pub signature: String,
    /// The bug's title (of the smallest file).
    pub title: String,
    /// Files, sorted.
    pub files: Vec<PathBuf>,
    /// The smallest file (by bytes).
    pub smallest: PathBuf,
    /// Configurations that failed, over all files.
    pub fails_on: Vec<(Variant, bool)>,
}

/// The triage of a directory.
#[derive(Clone, Debug, Default)]
pub struct Triage {
    /// Groups, sorted by signature.
    pub groups: Vec<Group>,
    /// Corrupt files with the reason.
    pub corrupt: Vec<(PathBuf, String)>,
    /// Files that do not reproduce.
    pub no_repro: Vec<PathBuf>,
    /// Files on which swapfuzz failed.
    pub errors: Vec<(PathBuf, String)>,
}

/// Runs one file under every configuration.
pub fn classify(path: &Path) -> FileVerdict {
    let data = match std::fs::read(path) {
        Ok(d) if d.is_empty() => return FileVerdict::Corrupt("empty file".into()),
        Ok(d) => d,
        Err(e) => return FileVerdict::Corrupt(format!("unreadable: {e}")),
    };
    let d = decode(&data);
    let mut first: Option<Box<Bug>> = None;
    let mut fails_on = Vec::new();
    for (variant, rcu) in CONFIGS {
        let cfg = ModelConfig {
            variant,
            rcu_spinlocks: rcu,
            preemptible: true,
            record: false,
            all_points: false,
        };
        match run_program(&d.program, cfg, &d.schedule, &EngineConfig::default()).0 {
            Verdict::Clean => {}
            Verdict::Bug(b, _) => {
                fails_on.push((variant, rcu));
                first.get_or_insert(b);
            }
            Verdict::Error(e) => return FileVerdict::Error(e),
        }
    }
    match first {
        None => FileVerdict::NoRepro,
        Some(bug) => FileVerdict::Bug {
            signature: signature(&bug),
            bug,
            fails_on,
        },
    }
}

/// Classifies every regular file of `dir` (sorted by name) and groups the bugs.
pub fn triage_dir(dir: &Path) -> Result<Triage, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut t = Triage::default();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for p in paths {
        match classify(&p) {
            FileVerdict::Corrupt(why) => t.corrupt.push((p, why)),
            FileVerdict::NoRepro => t.no_repro.push(p),
            FileVerdict::Error(e) => t.errors.push((p, e)),
            FileVerdict::Bug {
                signature,
                bug,
                fails_on,
            } => {
                let len = |q: &Path| std::fs::metadata(q).map(|m| m.len()).unwrap_or(u64::MAX);
                let g = groups.entry(signature.clone()).or_insert_with(|| Group {
                    signature,
                    title: bug.title(),
                    files: Vec::new(),
                    smallest: p.clone(),
                    fails_on: Vec::new(),
                });
                if len(&p) < len(&g.smallest) {
                    g.smallest = p.clone();
                    g.title = bug.title();
                }
                g.files.push(p);
                for c in fails_on {
                    if !g.fails_on.contains(&c) {
                        g.fails_on.push(c);
                    }
                }
            }
        }
    }
    t.groups = groups.into_values().collect();
    Ok(t)
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl Triage {
    /// The triage as a JSON document (for CI).
    pub fn to_json(&self) -> String {
        let paths = |v: &[PathBuf]| {
            let items: Vec<String> = v
                .iter()
                .map(|p| json_str(&p.display().to_string()))
                .collect();
            format!("[{}]", items.join(","))
        };
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let fails: Vec<String> = g
                    .fails_on
                    .iter()
                    .map(|&(v, r)| json_str(&config_name(v, r)))
                    .collect();
                format!(
                    "{{\"signature\":{},\"title\":{},\"count\":{},\"smallest\":{},\"fails_on\":[{}],\"files\":{}}}",
                    json_str(&g.signature),
                    json_str(&g.title),
                    g.files.len(),
                    json_str(&g.smallest.display().to_string()),
                    fails.join(","),
                    paths(&g.files)
                )
            })
            .collect();
        let pairs = |v: &[(PathBuf, String)]| {
            let items: Vec<String> = v
                .iter()
                .map(|(p, w)| {
                    format!(
                        "{{\"file\":{},\"reason\":{}}}",
                        json_str(&p.display().to_string()),
                        json_str(w)
                    )
                })
                .collect();
            format!("[{}]", items.join(","))
        };
        format!(
            "{{\"groups\":[{}],\"corrupt\":{},\"does_not_reproduce\":{},\"internal_errors\":{}}}",
            groups.join(","),
            pairs(&self.corrupt),
            paths(&self.no_repro),
            pairs(&self.errors)
        )
    }
}

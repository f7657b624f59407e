//! Deduplication of crash files: each file is run under every model configuration, and files
//! are grouped by the [signature] of their bug.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::check::run::{Verdict, run_program};
use crate::check::steps::run_segments;
use crate::engine::EngineConfig;
use crate::model::patches::REGISTRY;
use crate::model::{Bug, ModelConfig, PatchSet};
use crate::program::Program;
use crate::program::file::{self, As, Kind};

use super::report::{signature, title};

/// The configurations every file is run under, in this order: plain v6.8, then each patch of
/// the registry on the kernel it is judged on ([`PatchSet::for_patch`]), each with spinlocks as
/// RCU readers on and off.
pub fn configs() -> Vec<(PatchSet, bool)> {
    let mut kernels = vec![PatchSet::base()];
    for p in REGISTRY {
        let k = PatchSet::for_patch(p);
        if !kernels.contains(&k) {
            kernels.push(k);
        }
    }
    kernels
        .into_iter()
        .flat_map(|k| [(k, true), (k, false)])
        .collect()
}

/// `v6.8/rcu-on`, `82b1c07a0af6/rcu-off`-style name of a configuration: the patches joined by
/// `+`, or `v6.8` for none.
pub fn config_name(patches: PatchSet, rcu: bool) -> String {
    let names = patches.names();
    let kernel = if names.is_empty() {
        "v6.8".to_string()
    } else {
        names.join("+")
    };
    format!("{kernel}/rcu-{}", if rcu { "on" } else { "off" })
}

/// What one file showed.
#[derive(Clone, Debug)]
pub enum FileVerdict {
    /// Unreadable, empty, too large, or (read as a scenario) not parsing: skipped.
    Corrupt(String),
    /// Not a crash file (a directory, a special file, a text file): skipped, deliberately.
    Skipped(String),
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
        fails_on: Vec<(PatchSet, bool)>,
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
    pub fails_on: Vec<(PatchSet, bool)>,
}

/// The triage of a directory.
#[derive(Clone, Debug, Default)]
pub struct Triage {
    /// Groups, sorted by signature.
    pub groups: Vec<Group>,
    /// Corrupt files with the reason.
    pub corrupt: Vec<(PathBuf, String)>,
    /// Entries that are not crash files (directories, special files, text), with the reason.
    pub skipped: Vec<(PathBuf, String)>,
    /// Files that do not reproduce.
    pub no_repro: Vec<PathBuf>,
    /// Files on which swapfuzz failed.
    pub errors: Vec<(PathBuf, String)>,
}

/// What the entry `path` of a crash directory is, run under every configuration when it is a
/// crash file. Hidden files (`.name`) are skipped. With [`As::Auto`], crash files are the files
/// [`mod@file`] reads as raw bytes; scenario and other text files are skipped
/// (`As::Scenario` runs them as scenarios).
pub fn classify_file(path: &Path, how: As) -> FileVerdict {
    if path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    {
        return FileVerdict::Skipped(
            "a hidden file (such as the temporary file of an interrupted write)".into(),
        );
    }
    match std::fs::metadata(path) {
        Err(e) => return FileVerdict::Corrupt(format!("unreadable: {e}")),
        Ok(m) if m.is_dir() => {
            return FileVerdict::Skipped(
                "a directory: triage does not descend into subdirectories (triage it on its own)"
                    .into(),
            );
        }
        Ok(m) if !m.is_file() => {
            return FileVerdict::Skipped("not a regular file".into());
        }
        Ok(_) => {}
    }
    let data = match file::read(path) {
        Ok(d) => d,
        Err(e) => return FileVerdict::Corrupt(e),
    };
    let text = "a text file, not a crash file (pass --as scenario to triage scenario files, \
                --as bytes if it is a raw fuzz input)";
    let input = file::from_data(path, &data, how);
    // A scenario that names its bug (`expect:`, as hunt writes them) is a reproducer.
    if let Ok(i) = &input
        && let Some(s) = &i.scenario
        && let Some(steps) = &s.steps
    {
        return if s.expect.is_some() || how == As::Scenario {
            classify_with(&i.program, |cfg| run_segments(&i.program, cfg, steps).0)
        } else {
            FileVerdict::Skipped(text.into())
        };
    }
    match input {
        Ok(i)
            if i.kind == Kind::Bytes
                || how == As::Scenario
                || i.scenario.as_ref().is_some_and(|s| s.expect.is_some()) =>
        {
            classify(&i.program, &i.schedule)
        }
        Ok(_) => FileVerdict::Skipped(text.into()),
        Err(_) if how == As::Auto => FileVerdict::Skipped(text.into()),
        Err(e) => FileVerdict::Corrupt(e),
    }
}

/// Runs a program and schedule under every configuration.
pub fn classify(program: &Program, schedule: &[u8]) -> FileVerdict {
    classify_with(program, |cfg| {
        run_program(program, cfg, schedule, &EngineConfig::default()).0
    })
}

/// Runs `run` under every configuration.
fn classify_with(_program: &Program, run: impl Fn(ModelConfig) -> Verdict) -> FileVerdict {
    let mut first: Option<Box<Bug>> = None;
    let mut fails_on = Vec::new();
    for (patches, rcu) in configs() {
        let cfg = crate::check::config::model(patches).rcu_spinlocks(rcu);
        match run(cfg) {
            Verdict::Clean => {}
            Verdict::Bug(b, _) => {
                fails_on.push((patches, rcu));
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

/// The file name of a signature: its letters, digits, `-` and `_`, other characters as `_`;
/// cut, with a hash of the whole signature, when long. `taken` holds the names already given
/// in this run: a name two signatures map to gets `-2`, `-3`, ... (in signature order).
pub fn file_name(signature: &str, taken: &mut BTreeSet<String>) -> String {
    let mut stem: String = signature
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.len() > 160 {
        let hash = signature.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        stem = format!("{}-{hash:016x}", &stem[..140]);
    }
    let mut name = format!("{stem}.bin");
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{stem}-{n}.bin");
        n += 1;
    }
    name
}

/// Classifies every entry of `dir` (sorted by name), files read by the rule of
/// [`mod@file`], and groups the bugs.
pub fn triage_dir(dir: &Path) -> Result<Triage, String> {
    triage_dir_as(dir, As::Auto)
}

/// [`triage_dir`], with the files read as `how` says.
pub fn triage_dir_as(dir: &Path, how: As) -> Result<Triage, String> {
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(format!(
            "{} is not a directory: triage takes a directory of crash files (replay runs one)",
            dir.display()
        ));
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    let mut t = Triage::default();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for p in paths {
        match classify_file(&p, how) {
            FileVerdict::Corrupt(why) => t.corrupt.push((p, why)),
            FileVerdict::Skipped(why) => t.skipped.push((p, why)),
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
                    title: title(&bug),
                    files: Vec::new(),
                    smallest: p.clone(),
                    fails_on: Vec::new(),
                });
                if len(&p) < len(&g.smallest) {
                    g.smallest = p.clone();
                    g.title = title(&bug);
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
            "{{\"groups\":[{}],\"corrupt\":{},\"skipped\":{},\"does_not_reproduce\":{},\"internal_errors\":{}}}",
            groups.join(","),
            pairs(&self.corrupt),
            pairs(&self.skipped),
            paths(&self.no_repro),
            pairs(&self.errors)
        )
    }
}

#[cfg(test)]
mod file_name_tests {
    use super::*;

    #[test]
    fn signatures_get_distinct_file_names() {
        let mut taken = BTreeSet::new();
        assert_eq!(file_name("a:b", &mut taken), "a_b.bin");
        assert_eq!(file_name("a/b", &mut taken), "a_b-2.bin");
        assert_eq!(file_name("a>b", &mut taken), "a_b-3.bin");
        let long = "x".repeat(300);
        let n = file_name(&long, &mut taken);
        assert!(n.len() < 200 && n.ends_with(".bin"), "{n}");
        assert_ne!(n, file_name(&format!("{long}y"), &mut taken));
    }
}

//! Scenario files: a program for the model (set-up, then each CPU's operations) and optionally
//! its schedule bytes, as short commented text that a kernel developer writes without reading
//! Rust. The format is documented in `scenarios/README.md`; in short:
//!
//! ```text
//! # Huang Ying's shmem race: truncate vs swapoff.   <- the description (top comment block)
//! name: shmem-truncate
//! setup:                        # run first, one after another
//!   swapon
//!   shmem-write file=0 index=0
//!   shmem-writepage file=0 index=0
//! cpu0:                         # then cpu0: .. cpu3: run concurrently
//!   shmem-truncate file=0
//! cpu1:
//!   swapoff dev=0
//! schedule: ff ff 00            # optional: the scheduler's bytes, hex
//! ```
//!
//! [`parse`] reads it, [`print()`] writes it, [`load`] finds a file or a built-in scenario
//! ([`builtin`]: the files of `scenarios/`, which are the programs of [`crate::program::seeds`]).
//!
//! ```
//! use swapfuzz::program::text as scenario;
//! let s = scenario::parse("setup: swapon\ncpu0: swapoff dev=0\ncpu1:\n  exit mm=0\n").unwrap();
//! assert_eq!(s.program.cpus.len(), 2);
//! assert_eq!(scenario::parse(&scenario::print(&s.program, None, None)).unwrap(), s);
//! let e = scenario::parse("cpu0:\n  swapof dev=0\n").unwrap_err();
//! assert!(e.to_string().starts_with("line 2, column 3: unknown operation \"swapof\""));
//! ```

mod parse;
mod print;

mod op;

pub use op::{format_op, parse_op};
pub use parse::parse;
pub use print::{print, print_scenario};

use crate::program::Program;
use crate::program::ops::normalize_op;

/// A parsed scenario file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scenario {
    /// The `name:` line, if any.
    pub name: Option<String>,
    /// The comment block at the top of the file, one entry a line, without the `# `.
    pub description: Vec<String>,
    /// The set-up and the CPUs' operations.
    pub program: Program,
    /// The `schedule:` bytes, if the file has that section with hex bytes.
    pub schedule: Option<Vec<u8>>,
    /// The `schedule:` steps, if the file states its schedule the way commit messages do
    /// (`cpu0 until after __swap_entry_free`, `cpu1`, `cpu0`): see [`crate::check::steps`].
    pub steps: Option<Vec<crate::model::events::Segment>>,
    /// The `expect:` line: the signature of the bug this program reproduces. A reproducer
    /// that carries it survives changes of the model's scheduling points: when the schedule
    /// bytes no longer give that bug, swapfuzz searches the program's schedules for it
    /// (`triage::reproduce`) instead of calling the file clean.
    pub expect: Option<String>,
}

/// Why scenario text does not parse: the line, the column and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// 1-based line number; 0 when the error is about the whole file (no CPU section).
    pub line: usize,
    /// 1-based column (in characters) of the word the error is about; 0 with `line` 0.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

/// `program` with every operation in canonical form ([`normalize_op`]): the program that
/// `parse(&print(program, ..))` gives back. The model runs it exactly as `program`.
pub fn normalize(program: &Program) -> Program {
    let ops = |list: &[crate::program::Op]| list.iter().map(normalize_op).collect();
    Program {
        setup: ops(&program.setup),
        cpus: program.cpus.iter().map(|c| ops(c)).collect(),
    }
}

/// The built-in scenarios: name and file text (`scenarios/NAME.scn`, embedded).
const BUILTIN: [(&str, &str); 8] = [
    (
        "shmem-truncate",
        include_str!("../../../scenarios/shmem-truncate.scn"),
    ),
    ("thp-exit", include_str!("../../../scenarios/thp-exit.scn")),
    ("zap-4k", include_str!("../../../scenarios/zap-4k.scn")),
    (
        "mincore-swapoff",
        include_str!("../../../scenarios/mincore-swapoff.scn"),
    ),
    (
        "shmem-swapin-swapoff",
        include_str!("../../../scenarios/shmem-swapin-swapoff.scn"),
    ),
    (
        "willneed-swapoff",
        include_str!("../../../scenarios/willneed-swapoff.scn"),
    ),
    (
        "do-swap-page-sync-swapoff",
        include_str!("../../../scenarios/do-swap-page-sync-swapoff.scn"),
    ),
    (
        "skip-swapcache-aba",
        include_str!("../../../scenarios/skip-swapcache-aba.scn"),
    ),
];

/// The first line of the top comment block of `text`.
fn summary(text: &'static str) -> &'static str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .and_then(|l| l.strip_prefix('#'))
        .map(str::trim)
        .unwrap_or("")
}

/// The built-in scenarios (the files of `scenarios/`): name, one-line summary (the first
/// comment line), file text.
pub fn builtin() -> Vec<(&'static str, &'static str, String)> {
    BUILTIN
        .iter()
        .map(|&(name, text)| (name, summary(text), text.to_string()))
        .collect()
}

/// A scenario by file path or built-in name: an existing file is read (as
/// [`crate::program::file::read`] reads: regular files of at most 1 MiB) and parsed (errors
/// prefixed with its path; a file without a `name:` line is named after its stem), otherwise
/// the built-in of that name; otherwise an error listing the built-in names.
pub fn load(name_or_path: &str) -> Result<Scenario, String> {
    let path = std::path::Path::new(name_or_path);
    if path.exists() {
        let data = crate::program::file::read(path)?;
        let mut s = crate::program::file::parse_scenario(&data)
            .map_err(|e| format!("{name_or_path}: {e}"))?;
        if s.name.is_none() {
            s.name = path.file_stem().map(|n| n.to_string_lossy().into_owned());
        }
        return Ok(s);
    }
    if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        return parse(text).map_err(|e| format!("built-in scenario {name}: {e}"));
    }
    let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
    Err(format!(
        "\"{name_or_path}\" is neither a file nor a built-in scenario; the built-ins are: {}",
        names.join(", ")
    ))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod parse_tests;

#[cfg(test)]
#[path = "roundtrip_tests.rs"]
mod roundtrip_tests;

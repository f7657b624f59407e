//! What a command was given as its program: a scenario (text, the format of
//! `scenarios/README.md`) or a fuzz input (raw bytes, the format of [`crate::program::bytes`]).
//! This module is the one place that decides which, and the one place that reads input files.
//!
//! # Reading
//!
//! Only regular files are read: a FIFO, a device (`/dev/zero`), a socket or a directory is an
//! error at once, before anything blocks. A file larger than [`MAX_INPUT_BYTES`] is an error (a
//! reproducer is a few hundred bytes), and so is an empty one.
//!
//! # The rule
//!
//! 1. `--as scenario` or `--as bytes` ([`As`]) decides when given.
//! 2. A name that is not a file is a built-in scenario (or an error listing the built-ins).
//! 3. A `*.scn` file is a scenario.
//! 4. A file named the way the tools name raw inputs — libFuzzer's artifacts `crash-`, `leak-`,
//!    `timeout-`, `oom-`, `slow-unit-` followed by hex, hunt's `crash-`/`error-<hex>`,
//!    ClusterFuzz's `clusterfuzz-testcase-*`, and `*.bin` (the corpus, triage's outputs) — is
//!    raw bytes, unless it is text that parses as a scenario.
//! 5. Any other file: text is a scenario, anything else raw bytes. Text means no ASCII control
//!    character other than tab, line feed, form feed and carriage return (a UTF-8 byte-order
//!    mark at the start is allowed and ignored).
//!
//! A file read as a scenario that does not parse is an error naming the line and column; it is
//! never run as bytes. Every reproducer swapfuzz writes with [`crate::program::bytes::encode`] has a
//! control byte (the CPU count, 0..=2) at offset 1, so it is never mistaken for text; a raw fuzz
//! input that happens to be printable and is not named like one needs `--as bytes`, which the
//! error message says.

use std::io::Read;
use std::path::Path;

use crate::program::Program;
use crate::program::bytes::decode;
use crate::program::text::{self, Scenario};

/// The largest input file read, in bytes.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;

/// How to read an input file: decided by the rule of the module docs, or forced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum As {
    /// The rule of the module docs.
    #[default]
    Auto,
    /// A scenario, whatever the file's name or contents.
    Scenario,
    /// Raw bytes in the fuzz input format, whatever the file's name or contents.
    Bytes,
}

/// What an input turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A built-in scenario, by name.
    BuiltIn,
    /// A scenario file.
    Scenario,
    /// Raw bytes in the fuzz input format.
    Bytes,
}

/// A loaded input.
#[derive(Clone, Debug)]
pub struct Input {
    /// The program.
    pub program: Program,
    /// The schedule bytes (empty: the fallback schedule).
    pub schedule: Vec<u8>,
    /// What the input was.
    pub kind: Kind,
    /// The parsed scenario, for a scenario (built-in or file).
    pub scenario: Option<Scenario>,
}

impl Input {
    fn from_bytes(data: &[u8]) -> Input {
        let d = decode(data);
        Input {
            program: d.program,
            schedule: d.schedule,
            kind: Kind::Bytes,
            scenario: None,
        }
    }

    fn from_scenario(s: Scenario, kind: Kind) -> Input {
        Input {
            program: s.program.clone(),
            schedule: s.schedule.clone().unwrap_or_default(),
            kind,
            scenario: Some(s),
        }
    }
}

/// Loads `arg`: a file (see the module docs) or, when no such file exists, a built-in scenario.
pub fn load(arg: &str, how: As) -> Result<Input, String> {
    let path = Path::new(arg);
    let exists = std::fs::symlink_metadata(path).is_ok();
    if !exists && how != As::Bytes && !arg.contains('/') && path.extension().is_none() {
        let s = text::load(arg)?;
        return Ok(Input::from_scenario(s, Kind::BuiltIn));
    }
    load_file(path, how)
}

/// Loads the file `path` (see the module docs).
pub fn load_file(path: &Path, how: As) -> Result<Input, String> {
    from_data(path, &read(path)?, how)
}

/// The input in `data`, the contents of the file `path` (see the module docs).
pub fn from_data(path: &Path, data: &[u8], how: As) -> Result<Input, String> {
    let shown = path.display();
    let as_scenario = |why: &str| -> Result<Input, String> {
        let mut s = parse_scenario(data).map_err(|e| format!("{shown}: {e}{why}"))?;
        if s.name.is_none() {
            s.name = path.file_stem().map(|n| n.to_string_lossy().into_owned());
        }
        Ok(Input::from_scenario(s, Kind::Scenario))
    };
    match how {
        As::Bytes => return Ok(Input::from_bytes(data)),
        As::Scenario => return as_scenario(""),
        As::Auto => {}
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".scn") {
        return as_scenario("");
    }
    if is_raw_input_name(&name) {
        // A valid scenario is never random bytes: one under such a name is still a scenario.
        if is_text(data)
            && let Ok(i) = as_scenario("")
        {
            return Ok(i);
        }
        return Ok(Input::from_bytes(data));
    }
    if is_text(data) {
        return as_scenario(
            " (read as a scenario because the file is text; if it is a raw fuzz input, \
             pass --as bytes)",
        );
    }
    Ok(Input::from_bytes(data))
}

/// Parses scenario file contents: UTF-8 (an invalid byte is an error with its line and
/// column), a leading byte-order mark ignored.
pub fn parse_scenario(data: &[u8]) -> Result<Scenario, text::ScenarioError> {
    let text = std::str::from_utf8(data).map_err(|e| {
        let good = &data[..e.valid_up_to()];
        let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
        text::ScenarioError {
            line: good.iter().filter(|&&b| b == b'\n').count() + 1,
            column,
            message: "not UTF-8 text: a scenario file is UTF-8".into(),
        }
    })?;
    text::parse(text)
}

/// Whether `data` is text: no ASCII control character other than tab, line feed, form feed
/// and carriage return, after an optional UTF-8 byte-order mark. Bytes from 0x80 up are
/// allowed (a scenario in another encoding is text, and gets an error about UTF-8).
pub fn is_text(data: &[u8]) -> bool {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    data.iter()
        .all(|&b| matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r') || (b >= 0x20 && b != 0x7f))
}

/// Whether a file name is one the tools give raw inputs: libFuzzer's and hunt's
/// `<kind>-<hex>` artifacts, ClusterFuzz testcases, and `*.bin`.
pub fn is_raw_input_name(name: &str) -> bool {
    const ARTIFACTS: [&str; 6] = [
        "crash-",
        "leak-",
        "timeout-",
        "oom-",
        "slow-unit-",
        "error-",
    ];
    let hex_tail = |p: &str| {
        name.strip_prefix(p)
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    ARTIFACTS.iter().any(|p| hex_tail(p))
        || name.starts_with("clusterfuzz-testcase-")
        || name.ends_with(".bin")
}

/// Reads an input file: a regular file, not empty, at most [`MAX_INPUT_BYTES`]; never blocks
/// on a FIFO nor reads a device.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    refuse_special(path, &meta)?;
    let file = open_nonblocking(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    // The path may have been replaced between the two looks: check what was opened.
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    refuse_special(path, &meta)?;
    let too_big = || {
        format!(
            "{shown} is larger than {MAX_INPUT_BYTES} bytes: not a reproducer or a scenario \
             (those are a few hundred bytes)"
        )
    };
    if meta.len() > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    let mut data = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if data.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    if data.is_empty() {
        return Err(format!("{shown} is empty: not a reproducer or a scenario"));
    }
    Ok(data)
}

/// An error unless `meta` is a regular file's.
fn refuse_special(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    let what = if t.is_dir() {
        "a directory"
    } else {
        special_kind(&t)
    };
    Err(format!(
        "{} is {what}, not a regular file: give a reproducer or a scenario file",
        path.display()
    ))
}

#[cfg(unix)]
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// Opens for reading without blocking (a FIFO's open would wait for a writer).
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    o.open(path)
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;

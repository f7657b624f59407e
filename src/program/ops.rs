//! One operation as scenario text (`swapout mm=0 pte=1`): the table of operations and their
//! named arguments, parsing, printing, and the canonical form of an [`Op`].

use crate::model::Op;
use crate::model::program::{FILE_PAGES, NR_FILES};
use crate::model::types::MAX_SWAPFILES;

/// Most small pages of one `mmap pages=N` process: the harness maps `1 + pages % 4`.
pub const MMAP_MAX_PAGES: u8 = 4;

/// A named argument of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    Dev,
    Pages,
    Huge,
    Mm,
    Pte,
    Offset,
    Write,
    File,
    Index,
}

impl Arg {
    fn key(self) -> &'static str {
        match self {
            Arg::Dev => "dev",
            Arg::Pages => "pages",
            Arg::Huge => "huge",
            Arg::Mm => "mm",
            Arg::Pte => "pte",
            Arg::Offset => "offset",
            Arg::Write => "write",
            Arg::File => "file",
            Arg::Index => "index",
        }
    }

    fn is_flag(self) -> bool {
        matches!(self, Arg::Huge | Arg::Write)
    }

    /// The accepted values, inclusive.
    fn range(self) -> (u32, u32) {
        match self {
            Arg::Dev => (0, MAX_SWAPFILES as u32 - 1),
            Arg::Pages => (1, MMAP_MAX_PAGES as u32),
            Arg::File => (0, NR_FILES as u32 - 1),
            Arg::Index => (0, FILE_PAGES as u32 - 1),
            Arg::Mm | Arg::Pte | Arg::Offset => (0, u8::MAX as u32),
            Arg::Huge | Arg::Write => (0, 1),
        }
    }

    /// What the argument means, for error messages.
    fn meaning(self) -> String {
        match self {
            Arg::Dev => format!("the swap device, by type; the model has {MAX_SWAPFILES}"),
            Arg::Pages => "small anon pages to map".into(),
            Arg::Huge => "one cluster-size large folio instead of small pages".into(),
            Arg::Mm => "the Nth live process in creation order, wrapping".into(),
            Arg::Pte => "the PTE index in that process, wrapping at its size".into(),
            Arg::Offset => "the Nth swap-cache folio of the device, wrapping".into(),
            Arg::Write => "a write fault instead of a read fault".into(),
            Arg::File => format!("the tmpfs file, the model has {NR_FILES}"),
            Arg::Index => format!("the page index in the file, {FILE_PAGES} pages each"),
        }
    }

    /// `dev=0..=1`, or `write` for a flag.
    fn usage(self) -> String {
        if self.is_flag() {
            return self.key().to_string();
        }
        let (lo, hi) = self.range();
        format!("{}={lo}..={hi}", self.key())
    }
}

/// An operation kind: its name and its arguments, in [`Op`]'s declaration order.
struct Spec {
    name: &'static str,
    args: &'static [Arg],
}

const fn spec(name: &'static str, args: &'static [Arg]) -> Spec {
    Spec { name, args }
}

const SPECS: [Spec; 12] = [
    spec("swapon", &[]),
    spec("swapoff", &[Arg::Dev]),
    spec("mmap", &[Arg::Pages, Arg::Huge]),
    spec("fork", &[Arg::Mm]),
    spec("swapout", &[Arg::Mm, Arg::Pte]),
    spec("reclaim", &[Arg::Dev, Arg::Offset]),
    spec("swapin", &[Arg::Mm, Arg::Pte, Arg::Write]),
    spec("zap", &[Arg::Mm, Arg::Pte]),
    spec("exit", &[Arg::Mm]),
    spec("shmem-write", &[Arg::File, Arg::Index]),
    spec("shmem-writepage", &[Arg::File, Arg::Index]),
    spec("shmem-truncate", &[Arg::File]),
];

/// The names of every operation, in [`Op`]'s declaration order.
pub fn op_names() -> Vec<&'static str> {
    SPECS.iter().map(|s| s.name).collect()
}

impl Spec {
    /// `swapin mm=0..=255 pte=0..=255 [write]`.
    fn usage(&self) -> String {
        let mut s = self.name.to_string();
        for a in self.args {
            if self.name == "mmap" && *a == Arg::Huge {
                s.push_str(" | mmap huge");
            } else if a.is_flag() {
                s.push_str(&format!(" [{}]", a.key()));
            } else {
                s.push_str(&format!(" {}", a.usage()));
            }
        }
        s
    }
}

/// The edit distance of two short words, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// ` (did you mean "x"?)` when one candidate is close to `word`.
fn suggestion<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    candidates
        .map(|c| (distance(word, c), c))
        .filter(|&(d, c)| d <= 2 && d < c.len())
        .min()
        .map(|(_, c)| format!(" (did you mean \"{c}\"?)"))
        .unwrap_or_default()
}

/// Parses one operation, `name key=value … flag …`. The error says what was expected.
pub fn parse_op(text: &str) -> Result<Op, String> {
    let mut words = text.split_whitespace();
    let Some(name) = words.next() else {
        return Err("empty operation".into());
    };
    let Some(kind) = SPECS.iter().position(|s| s.name == name) else {
        return Err(format!(
            "unknown operation \"{name}\"{}; expected one of: {}",
            suggestion(name, SPECS.iter().map(|s| s.name)),
            SPECS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        ));
    };
    let spec = &SPECS[kind];
    let mut values: [Option<u8>; 3] = [None; 3];
    for word in words {
        let (key, value) = match word.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (word, None),
        };
        let Some(slot) = spec.args.iter().position(|a| a.key() == key) else {
            let expected = if spec.args.is_empty() {
                format!("; {name} takes no arguments")
            } else {
                let hint = if key.parse::<u32>().is_ok() {
                    "; arguments are named, e.g. "
                } else {
                    "; usage: "
                };
                let close = suggestion(key, spec.args.iter().map(|a| a.key()));
                format!("{close}{hint}{}", spec.usage())
            };
            return Err(format!("{name}: unexpected argument \"{word}\"{expected}"));
        };
        let arg = spec.args[slot];
        if values[slot].is_some() {
            return Err(format!("{name}: argument {key} given twice"));
        }
        values[slot] = Some(match (arg.is_flag(), value) {
            (true, None) => 1,
            (true, Some(_)) => {
                return Err(format!(
                    "{name}: \"{key}\" is a flag, written alone without =value"
                ));
            }
            (false, None) => {
                return Err(format!(
                    "{name}: argument \"{key}\" needs a value: {} ({})",
                    arg.usage(),
                    arg.meaning()
                ));
            }
            (false, Some(v)) => number(name, arg, v)?,
        });
    }
    build(kind, spec, values)
}

/// The value of `arg` written `v`, range-checked.
fn number(name: &str, arg: Arg, v: &str) -> Result<u8, String> {
    let key = arg.key();
    let (lo, hi) = arg.range();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{name}: {key}={v} is not a number; expected {}",
            arg.usage()
        ));
    }
    let n: u64 = v.parse().unwrap_or(u64::MAX);
    if n < lo as u64 || n > hi as u64 {
        return Err(format!(
            "{name}: {key}={v} is out of range; expected {} ({})",
            arg.usage(),
            arg.meaning()
        ));
    }
    Ok(n as u8)
}

/// The operation of kind `kind` from the argument values (flags are 0 or 1).
fn build(kind: usize, spec: &Spec, v: [Option<u8>; 3]) -> Result<Op, String> {
    let name = spec.name;
    if kind == 2 {
        return match (v[0], v[1]) {
            (Some(pages), None) => Ok(Op::Mmap {
                pages: pages - 1,
                huge: false,
            }),
            (None, Some(_)) => Ok(Op::Mmap {
                pages: 0,
                huge: true,
            }),
            (Some(_), Some(_)) => Err(format!(
                "mmap: give pages=N or huge, not both (a huge folio is one cluster); usage: {}",
                spec.usage()
            )),
            (None, None) => Err(format!("mmap: missing argument; usage: {}", spec.usage())),
        };
    }
    let mut req = [0u8; 3];
    for (i, arg) in spec.args.iter().enumerate() {
        req[i] = match v[i] {
            Some(x) => x,
            None if arg.is_flag() => 0,
            None => {
                return Err(format!(
                    "{name}: missing argument {} ({}); usage: {}",
                    arg.usage(),
                    arg.meaning(),
                    spec.usage()
                ));
            }
        };
    }
    let [a, b, c] = req;
    // The same field mapping as the fuzz input format (flags here are 0 or 1).
    Ok(crate::program::bytes::op_of(kind as u8, a, b, c))
}

/// `op` in its canonical form: the fields that the harness takes modulo a fixed number
/// (`dev`, `file`, `index`, `pages`; `pages` of a huge `mmap`, which it ignores, is 0) reduced.
/// The harness runs both forms identically; scenario text writes only canonical operations.
pub fn normalize_op(op: &Op) -> Op {
    let dev = |d: u8| d % MAX_SWAPFILES as u8;
    let file = |f: u8| f % NR_FILES as u8;
    let index = |i: u8| i % FILE_PAGES as u8;
    match *op {
        Op::Swapoff { dev: d } => Op::Swapoff { dev: dev(d) },
        Op::Mmap { huge: true, .. } => Op::Mmap {
            pages: 0,
            huge: true,
        },
        Op::Mmap { pages, huge: false } => Op::Mmap {
            pages: pages % MMAP_MAX_PAGES,
            huge: false,
        },
        Op::Reclaim { dev: d, offset } => Op::Reclaim {
            dev: dev(d),
            offset,
        },
        Op::ShmemWrite { file: f, index: i } => Op::ShmemWrite {
            file: file(f),
            index: index(i),
        },
        Op::ShmemWritepage { file: f, index: i } => Op::ShmemWritepage {
            file: file(f),
            index: index(i),
        },
        Op::ShmemTruncate { file: f } => Op::ShmemTruncate { file: file(f) },
        other => other,
    }
}

/// `op` as scenario text, e.g. `swapin mm=1 pte=0 write` (of its canonical form).
pub fn format_op(op: &Op) -> String {
    match normalize_op(op) {
        Op::Swapon => "swapon".into(),
        Op::Swapoff { dev } => format!("swapoff dev={dev}"),
        Op::Mmap { huge: true, .. } => "mmap huge".into(),
        Op::Mmap { pages, .. } => format!("mmap pages={}", pages + 1),
        Op::Fork { mm } => format!("fork mm={mm}"),
        Op::SwapOut { mm, pte } => format!("swapout mm={mm} pte={pte}"),
        Op::Reclaim { dev, offset } => format!("reclaim dev={dev} offset={offset}"),
        Op::SwapIn { mm, pte, write } => {
            format!(
                "swapin mm={mm} pte={pte}{}",
                if write { " write" } else { "" }
            )
        }
        Op::Zap { mm, pte } => format!("zap mm={mm} pte={pte}"),
        Op::Exit { mm } => format!("exit mm={mm}"),
        Op::ShmemWrite { file, index } => format!("shmem-write file={file} index={index}"),
        Op::ShmemWritepage { file, index } => {
            format!("shmem-writepage file={file} index={index}")
        }
        Op::ShmemTruncate { file } => format!("shmem-truncate file={file}"),
    }
}

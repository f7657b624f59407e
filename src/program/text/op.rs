//! One operation as scenario text (`swapout mm=0 pte=1`): parsing and printing, both read
//! from the table of operation kinds ([`crate::program::ops::KINDS`]).

use crate::program::Op;
use crate::program::ops::{Arg, KINDS, Kind, normalize_op, op_bytes, op_names, op_of};

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
    let Some(kind) = KINDS.iter().position(|s| s.name == name) else {
        return Err(format!(
            "unknown operation \"{name}\"{}; expected one of: {}",
            suggestion(name, KINDS.iter().map(|s| s.name)),
            op_names().join(", ")
        ));
    };
    let spec = &KINDS[kind];
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
    build(kind, values)
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

/// The operation of kind number `kind` from the argument values (flags are 0 or 1).
fn build(kind: usize, v: [Option<u8>; 3]) -> Result<Op, String> {
    let spec = &KINDS[kind];
    let name = spec.name;
    if spec.alternatives {
        let given = v
            .iter()
            .take(spec.args.len())
            .filter(|x| x.is_some())
            .count();
        if given > 1 {
            let (value, flag) = alternatives(spec);
            return Err(format!(
                "{name}: give {}=N or {}, not both (a huge folio is one cluster); usage: {}",
                value.key(),
                flag.key(),
                spec.usage()
            ));
        }
        if given == 0 {
            return Err(format!("{name}: missing argument; usage: {}", spec.usage()));
        }
    }
    let mut f = [0u8; 3];
    for (i, arg) in spec.args.iter().enumerate() {
        f[i] = match v[i] {
            Some(x) => x - arg.base(),
            None if arg.is_flag() || spec.alternatives => 0,
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
    Ok(op_of(kind as u8, f[0], f[1], f[2]))
}

/// The value argument and the flag of a kind whose arguments are alternatives.
fn alternatives(spec: &Kind) -> (Arg, Arg) {
    let value = spec.args.iter().find(|a| !a.is_flag());
    let flag = spec.args.iter().find(|a| a.is_flag());
    (
        *value.expect("alternatives have a value argument"),
        *flag.expect("alternatives have a flag"),
    )
}

/// `op` as scenario text, e.g. `swapin mm=1 pte=0 write` (of its canonical form).
pub fn format_op(op: &Op) -> String {
    let (k, f) = op_bytes(&normalize_op(op));
    let kind = &KINDS[k as usize];
    let flag_set = kind.args.iter().zip(f).any(|(a, v)| a.is_flag() && v != 0);
    let mut s = kind.name.to_string();
    for (arg, v) in kind.args.iter().zip(f) {
        if arg.is_flag() {
            if v != 0 {
                s.push_str(&format!(" {}", arg.key()));
            }
        } else if !(kind.alternatives && flag_set) {
            s.push_str(&format!(" {}={}", arg.key(), v + arg.base()));
        }
    }
    s
}

impl std::fmt::Display for Op {
    /// The scenario text of the operation ([`format_op`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_op(self))
    }
}

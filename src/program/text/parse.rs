//! Scenario text → [`Scenario`]: a line-oriented reader; every error names its line and the
//! column of the word it is about.

use super::op::parse_op;
use super::{Scenario, ScenarioError};
use crate::model::events::Segment;
use crate::program::{MAX_CPUS, MAX_OPS};
use crate::program::{Op, Program};

/// The section being read; sections come in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Start,
    Name,
    Setup,
    Cpu(usize),
    Expect,
    Schedule,
}

impl Section {
    fn rank(self) -> u8 {
        match self {
            Section::Start => 0,
            Section::Name => 1,
            Section::Setup => 2,
            Section::Cpu(_) => 3,
            Section::Expect => 4,
            Section::Schedule => 5,
        }
    }

    fn header(self) -> String {
        match self {
            Section::Start => "the start".into(),
            Section::Name => "name:".into(),
            Section::Setup => "setup:".into(),
            Section::Cpu(n) => format!("cpu{n}:"),
            Section::Expect => "expect:".into(),
            Section::Schedule => "schedule:".into(),
        }
    }
}

/// The sections a header may name, for error messages.
fn headers() -> String {
    format!(
        "name:, setup:, cpu0: to cpu{}:, expect:, schedule:",
        MAX_CPUS - 1
    )
}

/// Whether `name` is a valid scenario name: one word of letters, digits, `-`, `_`, `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// An error and the text it is about: a slice of the line being read, which gives the column.
struct Fault<'a> {
    at: &'a str,
    message: String,
}

/// Tags an error message with the slice `at` it is about.
fn at<'a>(at: &'a str) -> impl FnOnce(String) -> Fault<'a> {
    move |message| Fault { at, message }
}

/// The 1-based column (in characters) where `inner`, a slice of `line`, starts.
fn column(line: &str, inner: &str) -> usize {
    let off = (inner.as_ptr() as usize)
        .saturating_sub(line.as_ptr() as usize)
        .min(line.len());
    line.get(..off).map_or(off, |s| s.chars().count()) + 1
}

#[derive(Default)]
struct Reader {
    name: Option<String>,
    setup: Vec<Op>,
    cpus: Vec<Vec<Op>>,
    schedule: Option<Vec<u8>>,
    expect: Option<String>,
    steps: Vec<Segment>,
    section: Option<Section>,
}

/// `line` without its comment: a `#` at the start or after whitespace begins one (a `#` inside
/// a word is part of it, as in `__swap_entry_free#2`, the second call).
fn strip_comment(line: &str) -> &str {
    let mut prev_blank = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_blank {
            return &line[..i];
        }
        prev_blank = c.is_whitespace();
    }
    line
}

/// Parses scenario text (the format of `scenarios/README.md`). A leading UTF-8 byte-order mark
/// is ignored.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = Reader::default();
    let mut description = Vec::new();
    let mut in_description = true;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if in_description {
            if let Some(c) = trimmed.strip_prefix('#') {
                description.push(c.strip_prefix(' ').unwrap_or(c).trim_end().to_string());
                continue;
            }
            if trimmed.is_empty() && description.is_empty() {
                continue;
            }
            in_description = false;
        }
        let code = strip_comment(raw).trim();
        if !code.is_empty() {
            r.line(code).map_err(|f| ScenarioError {
                line: i + 1,
                column: column(raw, f.at),
                message: f.message,
            })?;
        }
    }
    if r.cpus.is_empty() {
        return Err(ScenarioError {
            line: 0,
            column: 0,
            message: format!(
                "no cpu sections: a scenario needs at least one CPU (cpu0:, up to cpu{}:), \
                 each with the operations it runs concurrently with the others",
                MAX_CPUS - 1
            ),
        });
    }
    Ok(Scenario {
        name: r.name,
        description,
        program: Program {
            setup: r.setup,
            cpus: r.cpus,
        },
        schedule: if r.steps.is_empty() { r.schedule } else { None },
        steps: (!r.steps.is_empty()).then_some(r.steps),
        expect: r.expect,
    })
}

impl Reader {
    fn current(&self) -> Section {
        self.section.unwrap_or(Section::Start)
    }

    /// One line, comments and surrounding blanks removed, not empty.
    fn line<'a>(&mut self, code: &'a str) -> Result<(), Fault<'a>> {
        match code.split_once(':') {
            Some((head, rest)) => self.header(head.trim(), rest.trim()),
            None => self.content(code),
        }
    }

    fn header<'a>(&mut self, head: &'a str, rest: &'a str) -> Result<(), Fault<'a>> {
        self.section_header(head, rest).map_err(at(head))?;
        if matches!(self.current(), Section::Name | Section::Expect) || rest.is_empty() {
            Ok(())
        } else {
            self.content(rest)
        }
    }

    /// Enters the section `head` names (`rest`: the text after the colon, for `name:` and
    /// `expect:`).
    fn section_header(&mut self, head: &str, rest: &str) -> Result<(), String> {
        let next = match head {
            "name" => Section::Name,
            "setup" => Section::Setup,
            "schedule" => Section::Schedule,
            "expect" => Section::Expect,
            h => match h.strip_prefix("cpu") {
                Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    match n.parse() {
                        Ok(n) if n < MAX_CPUS => Section::Cpu(n),
                        _ => {
                            return Err(format!(
                                "{head}: the model has at most {MAX_CPUS} CPUs, cpu0: to cpu{}:",
                                MAX_CPUS - 1
                            ));
                        }
                    }
                }
                _ => {
                    let hint = if crate::program::ops::op_names()
                        .contains(&h.split(' ').next().unwrap_or(""))
                    {
                        " (operation arguments are written key=value, e.g. swapoff dev=0)"
                    } else {
                        ""
                    };
                    return Err(format!(
                        "unknown section \"{h}:\"{hint}; expected one of: {}",
                        headers()
                    ));
                }
            },
        };
        let cur = self.current();
        if next.rank() < cur.rank() {
            return Err(format!(
                "{} must come before {}; the order is: {}",
                next.header(),
                cur.header(),
                headers()
            ));
        }
        if next.rank() == cur.rank() && !matches!(next, Section::Cpu(_)) {
            return Err(format!("a second {} section", next.header()));
        }
        match next {
            Section::Cpu(n) if n != self.cpus.len() => {
                return Err(format!(
                    "cpu sections must come in order from cpu0:; expected cpu{}:, found cpu{n}:",
                    self.cpus.len()
                ));
            }
            Section::Cpu(_) => self.cpus.push(Vec::new()),
            Section::Name => {
                if !valid_name(rest) {
                    return Err(format!(
                        "name: expects one word of letters, digits, '-', '_', '.' \
                         (e.g. name: my-race), found \"{rest}\""
                    ));
                }
                self.name = Some(rest.to_string());
            }
            Section::Expect => {
                if rest.is_empty() || rest.contains(char::is_whitespace) {
                    return Err(format!(
                        "expect: takes the signature of the bug this program reproduces, one word as \
                         swapfuzz prints it (e.g. expect: null-deref:swap_page_trans_huge_swapped:\
                         si->swap_map[roffset]:shmem_truncate_range), found \"{rest}\""
                    ));
                }
                self.expect = Some(rest.to_string());
            }
            Section::Schedule => self.schedule = Some(Vec::new()),
            Section::Setup | Section::Start => {}
        }
        self.section = Some(next);
        Ok(())
    }

    /// Operations (`;`-separated) or schedule bytes, in the current section.
    fn content<'a>(&mut self, code: &'a str) -> Result<(), Fault<'a>> {
        let cur = self.current();
        let ops = match cur {
            Section::Start | Section::Name | Section::Expect => {
                return Err(Fault {
                    at: code,
                    message: format!(
                        "\"{code}\" is outside any section; expected a section header first \
                         (setup: or cpu0:)"
                    ),
                });
            }
            Section::Schedule if code.starts_with("cpu") => return self.segments(code),
            Section::Schedule => return self.hex(code),
            Section::Setup => &mut self.setup,
            Section::Cpu(n) => &mut self.cpus[n],
        };
        for part in code.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            ops.push(parse_op(part).map_err(at(part))?);
            if ops.len() > MAX_OPS {
                return Err(Fault {
                    at: part,
                    message: format!(
                        "too many operations in {}: the model runs at most {MAX_OPS} (MAX_OPS)",
                        cur.header()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Schedule steps as a commit message states them: `cpu0 until after __swap_entry_free`,
    /// `cpu1`, … (`;`-separated or one a line).
    fn segments<'a>(&mut self, code: &'a str) -> Result<(), Fault<'a>> {
        if self.schedule.as_ref().is_some_and(|b| !b.is_empty()) {
            return Err(Fault {
                at: code,
                message: "a schedule is either hex bytes or steps (cpu0 until after …), not both"
                    .into(),
            });
        }
        for part in code.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let seg =
                Segment::parse(part, MAX_CPUS).map_err(|message| Fault { at: part, message })?;
            self.steps.push(seg);
        }
        Ok(())
    }

    /// Schedule bytes: hex, two digits a byte, in whitespace-separated groups.
    fn hex<'a>(&mut self, code: &'a str) -> Result<(), Fault<'a>> {
        if !self.steps.is_empty() {
            return Err(Fault {
                at: code,
                message: "a schedule is either hex bytes or steps (cpu0 until after …), not both"
                    .into(),
            });
        }
        let out = self.schedule.get_or_insert_with(Vec::new);
        for word in code.split_whitespace() {
            let bad = |why: &str| Fault {
                at: word,
                message: format!(
                    "bad schedule bytes \"{word}\": {why}; expected hex bytes like \"ff 00 3a\""
                ),
            };
            if !word.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("not hex"));
            }
            if word.len() % 2 == 1 {
                return Err(bad("an odd number of hex digits"));
            }
            for pair in word.as_bytes().chunks(2) {
                let s = std::str::from_utf8(pair).map_err(|_| bad("not hex"))?;
                out.push(u8::from_str_radix(s, 16).map_err(|_| bad("not hex"))?);
            }
        }
        Ok(())
    }
}

//! Scenario text → [`Scenario`]: a line-oriented reader; every error names its line.

use super::ops::parse_op;
use super::{Scenario, ScenarioError};
use crate::model::program::{MAX_CPUS, MAX_OPS};
use crate::model::{Op, Program};

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

#[derive(Default)]
struct Reader {
    name: Option<String>,
    setup: Vec<Op>,
    cpus: Vec<Vec<Op>>,
    schedule: Option<Vec<u8>>,
    expect: Option<String>,
    section: Option<Section>,
}

/// Parses scenario text (the format of `scenarios/README.md`).
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
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
        let code = raw.split('#').next().unwrap_or_default().trim();
        if !code.is_empty() {
            r.line(code).map_err(|message| ScenarioError {
                line: i + 1,
                message,
            })?;
        }
    }
    if r.cpus.is_empty() {
        return Err(ScenarioError {
            line: 0,
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
        schedule: r.schedule,
        expect: r.expect,
    })
}

impl Reader {
    fn current(&self) -> Section {
        self.section.unwrap_or(Section::Start)
    }

    /// One line, comments and surrounding blanks removed, not empty.
    fn line(&mut self, code: &str) -> Result<(), String> {
        match code.split_once(':') {
            Some((head, rest)) => self.header(head.trim(), rest.trim()),
            None => self.content(code),
        }
    }

    fn header(&mut self, head: &str, rest: &str) -> Result<(), String> {
        let next = match head {
            "name" => Section::Name,
            "setup" => Section::Setup,
            "schedule" => Section::Schedule,
            "expect" => Section::Expect,
            h => match h.strip_prefix("cpu") {
                Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    Section::Cpu(n.parse().unwrap_or(usize::MAX))
                }
                _ => {
                    let hint =
                        if super::ops::op_names().contains(&h.split(' ').next().unwrap_or("")) {
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
            Section::Cpu(n) if n >= MAX_CPUS => {
                return Err(format!(
                    "cpu{n}: the model has at most {MAX_CPUS} CPUs, cpu0: to cpu{}:",
                    MAX_CPUS - 1
                ));
            }
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
                self.section = Some(next);
                return Ok(());
            }
            Section::Expect => {
                if rest.is_empty() || rest.contains(char::is_whitespace) {
                    return Err(format!(
                        "expect: takes the signature of the bug this program reproduces, one                          word as swapfuzz prints it (e.g. expect:                          null-deref:swap_page_trans_huge_swapped:si->swap_map[roffset]:                         shmem_truncate_range), found \"{rest}\""
                    ));
                }
                self.expect = Some(rest.to_string());
                self.section = Some(next);
                return Ok(());
            }
            Section::Schedule => self.schedule = Some(Vec::new()),
            Section::Setup | Section::Start => {}
        }
        self.section = Some(next);
        if rest.is_empty() {
            Ok(())
        } else {
            self.content(rest)
        }
    }

    /// Operations (`;`-separated) or schedule bytes, in the current section.
    fn content(&mut self, code: &str) -> Result<(), String> {
        let cur = self.current();
        let ops = match cur {
            Section::Start | Section::Name | Section::Expect => {
                return Err(format!(
                    "\"{code}\" is outside any section; expected a section header first \
                     (setup: or cpu0:)"
                ));
            }
            Section::Schedule => return self.hex(code),
            Section::Setup => &mut self.setup,
            Section::Cpu(n) => &mut self.cpus[n],
        };
        for part in code.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            ops.push(parse_op(part)?);
            if ops.len() > MAX_OPS {
                return Err(format!(
                    "too many operations in {}: the model runs at most {MAX_OPS} (MAX_OPS)",
                    cur.header()
                ));
            }
        }
        Ok(())
    }

    /// Schedule bytes: hex, two digits a byte, in whitespace-separated groups.
    fn hex(&mut self, code: &str) -> Result<(), String> {
        let out = self.schedule.get_or_insert_with(Vec::new);
        for word in code.split_whitespace() {
            let bad = |why: &str| {
                format!(
                    "bad schedule bytes \"{word}\": {why}; expected hex bytes like \"ff 00 3a\""
                )
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

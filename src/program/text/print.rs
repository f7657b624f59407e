//! [`Program`] → scenario text: the inverse of [`super::parse`].

use super::Scenario;
use super::op::format_op;
use super::parse::valid_name;
use crate::program::{Op, Program};

/// Schedule bytes per line.
const HEX_PER_LINE: usize = 32;

/// `program` (and the schedule bytes and name, if given) as scenario text.
///
/// `parse(&print(p, s, n))` gives back `normalize(p)` (equal to `p` for every program written
/// by hand or taken from the seeds), `s`, and `n`, for any program within the format's limits
/// (1..=`MAX_CPUS` CPUs, at most `MAX_OPS` operations per list). A name that is not one word of
/// letters, digits, `-`, `_`, `.` is written with its other characters replaced by `-`.
pub fn print(program: &Program, schedule: Option<&[u8]>, name: Option<&str>) -> String {
    print_scenario(&Scenario {
        name: name.map(str::to_string),
        description: Vec::new(),
        program: program.clone(),
        schedule: schedule.map(<[u8]>::to_vec),
        steps: None,
        expect: None,
    })
}

/// A whole [`Scenario`] as text, its description as the comment block at the top:
/// `parse(&print_scenario(s))` gives back `s` (with its program normalized).
pub fn print_scenario(s: &Scenario) -> String {
    let mut out = String::new();
    for line in &s.description {
        let line = line.replace(['\n', '\r'], " ");
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str(&format!("# {line}\n"));
        }
    }
    if !s.description.is_empty() {
        out.push('\n');
    }
    if let Some(name) = &s.name {
        let name = if valid_name(name) {
            name.clone()
        } else if name.is_empty() {
            "-".to_string()
        } else {
            name.chars()
                .map(|c| if valid_name(&c.to_string()) { c } else { '-' })
                .collect()
        };
        out.push_str(&format!("name: {name}\n"));
    }
    let section = |out: &mut String, header: &str, ops: &[Op]| {
        out.push_str(header);
        out.push_str(":\n");
        for op in ops {
            out.push_str("  ");
            out.push_str(&format_op(op));
            out.push('\n');
        }
    };
    if !s.program.setup.is_empty() {
        section(&mut out, "setup", &s.program.setup);
    }
    for (n, ops) in s.program.cpus.iter().enumerate() {
        section(&mut out, &format!("cpu{n}"), ops);
    }
    if let Some(sig) = &s.expect {
        out.push_str(&format!(
            "# the bug this program reproduces; if the schedule below stops giving it (the\n\
             # model changed), swapfuzz searches this program's schedules for it\nexpect: {sig}\n"
        ));
    }
    if let Some(steps) = &s.steps {
        out.push_str(
            "# each CPU runs alone until the point named, or until it blocks or finishes\nschedule:\n",
        );
        for step in steps {
            out.push_str(&format!("  {step}\n"));
        }
    } else if let Some(bytes) = &s.schedule {
        out.push_str(&format!(
            "# {} schedule bytes: the scheduler's decisions, in order\nschedule:\n",
            bytes.len()
        ));
        for chunk in bytes.chunks(HEX_PER_LINE) {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!("  {}\n", hex.join(" ")));
        }
    }
    out
}

impl std::fmt::Display for Program {
    /// The program as scenario text ([`print()`], without schedule or name).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&print(self, None, None))
    }
}

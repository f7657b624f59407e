//! What the subcommands accept as a program: a scenario (a built-in name or a `.scn` text
//! file) or a reproducer (a libFuzzer crash file or a hunt output, in the fuzz input format).

use std::path::Path;

use crate::fuzz::input::decode;
use crate::model::Program;
use crate::scenario;

/// A loaded program, with its schedule if it has one.
#[derive(Debug)]
pub struct Loaded {
    /// The program.
    pub program: Program,
    /// The schedule bytes (empty: the fallback schedule).
    pub schedule: Vec<u8>,
    /// The signature the program must reproduce (a scenario's `expect:` line).
    pub expect: Option<String>,
}

/// Loads `arg`: a scenario if it names a built-in, ends in `.scn`, or is a text file that parses
/// as a scenario; otherwise a reproducer file (raw bytes; empty is an error).
pub fn load(arg: &str) -> Result<Loaded, String> {
    let path = Path::new(arg);
    if !path.exists() && (arg.contains('/') || path.extension().is_some()) {
        return Err(format!("cannot read {arg}: no such file"));
    }
    let text_scenario = path.is_file()
        && (arg.ends_with(".scn")
            || std::fs::read(path)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .is_some_and(|t| scenario::parse(&t).is_ok()));
    if !path.exists() || text_scenario {
        let s = scenario::load(arg)?;
        return Ok(Loaded {
            program: s.program,
            schedule: s.schedule.unwrap_or_default(),
            expect: s.expect,
        });
    }
    let data = super::replay::read_reproducer(path)?;
    let d = decode(&data);
    Ok(Loaded {
        program: d.program,
        schedule: d.schedule,
        expect: None,
    })
}

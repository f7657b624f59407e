//! `swapfuzz hunt`: the stand-alone search, with a live progress line. At the first bug it
//! minimises the find (fewest CPUs, operations, preemptions; `--no-minimize` skips that),
//! prints the program, the interleaving and the report, then writes the reproducers
//! atomically, named after a hash of the raw find and the settings: `crash-<id>.scn`, the
//! minimised scenario with its expected signature, and `crash-<id>`, the raw find. It prints
//! the commands that replay them and exits 1. A reproducer that cannot be written is printed
//! (the scenario as text, the raw find in hex) with the error, and the exit status is still 1:
//! a bug found is never thrown away.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{EXIT_CLEAN, LayoutArgs, ModelArgs};
use crate::fuzz::hunt::{HuntOptions, HuntResult, Progress, hunt_jobs_sharing};
use crate::output_file;
use crate::program::bytes::decode;
use crate::program::text::print_scenario;
use crate::triage::minimize::{MinimizeLimits, minimize_for_reading};
use crate::triage::report::signature;
use crate::triage::reproduce::as_scenario;

/// Arguments of `swapfuzz hunt`.
#[derive(clap::Args, Debug)]
pub struct HuntArgs {
    /// Search only the schedules of this scenario (a built-in name or a .scn file).
    scenario: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    time: u64,
    /// Give up after this many executions (each worker, with --jobs), or at --time, whichever
    /// comes first.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    executions: Option<u64>,
    /// Seed of the search (the same seed searches the same way).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the reproducer.
    #[arg(long, default_value = "hunt-out")]
    out: PathBuf,
    /// Print and save the find as the search made it, without minimising it first.
    #[arg(long)]
    no_minimize: bool,
    /// Run this many workers in parallel, worker i with seed --seed + i, sharing what they keep
    /// every --share-every executions; the first find stops them all. The result depends on
    /// the seed only, not on timing (with --executions, not --time, as the budget).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: u64,
    /// With --jobs: the workers exchange the inputs they kept every this many executions
    /// (each worker's), at fixed points, so each worker's search stays deterministic; 0: never
    /// (independent workers).
    #[arg(long, default_value_t = crate::fuzz::hunt::SHARE_EVERY)]
    share_every: u64,
    /// A corpus directory in libFuzzer's format: its inputs run first, and every input the
    /// search keeps is added to it (the same files `cargo fuzz run kernel DIR` reads).
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Print the result as one JSON object on stdout (no minimisation, no report; the raw
    /// reproducer is still saved in --out).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    layout: LayoutArgs,
}

/// `s` as a JSON string.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `--json`: the result as one JSON object.
fn print_json(a: &HuntArgs, result: &HuntResult) -> Result<u8, String> {
    let common = format!(
        "\"seed\":{},\"jobs\":{},\"share_every\":{},\"model\":{}",
        a.seed,
        a.jobs,
        a.share_every,
        json_string(&a.model.flags())
    );
    match result {
        HuntResult::Clean {
            executions,
            elapsed,
        } => {
            println!(
                "{{\"result\":\"clean\",\"executions\":{executions},\"seconds\":{:.3},{common}}}",
                elapsed.as_secs_f64()
            );
            Ok(EXIT_CLEAN)
        }
        HuntResult::Found {
            input,
            executions,
            elapsed,
            bug,
        } => {
            let saved = write_reproducer(&a.out, "crash", input);
            let file = match &saved {
                Ok(p) => json_string(&p.display().to_string()),
                Err(_) => "null".into(),
            };
            println!(
                "{{\"result\":\"bug\",\"executions\":{executions},\"seconds\":{:.3},\"bug\":{},\"signature\":{},\"reproducer\":{file},\"input_hex\":{},{common}}}",
                elapsed.as_secs_f64(),
                json_string(&crate::triage::report::title(bug)),
                json_string(&signature(bug)),
                json_string(&output_file::hex(input)),
            );
            Ok(super::EXIT_BUG)
        }
        HuntResult::Error {
            message,
            input,
            executions,
        } => {
            println!(
                "{{\"result\":\"error\",\"executions\":{executions},\"message\":{},\"input_hex\":{},{common}}}",
                json_string(message),
                json_string(&output_file::hex(input)),
            );
            Err(format!(
                "internal error of swapfuzz (not a kernel bug): {message}"
            ))
        }
    }
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Runs `swapfuzz hunt`.
pub fn run(a: &HuntArgs) -> Result<u8, String> {
    let cfg = a.model.config(false)?;
    let program = match &a.scenario {
        None => None,
        Some(name) => {
            let l = super::input::load(name)?;
            if l.program.cpus.len() < 2 {
                return Err(format!("{name}: a race needs at least two CPUs"));
            }
            Some(l.program)
        }
    };
    let opts = HuntOptions {
        program,
        model: cfg,
        time: Duration::from_secs(a.time),
        seed: a.seed,
        max_executions: a.executions,
        corpus: a.corpus.clone(),
    };
    eprintln!(
        "swapfuzz hunt: {} for up to {} s, seed {}{}",
        a.model.flags(),
        a.time,
        a.seed,
        if a.jobs > 1 {
            format!(" (+ workers to {})", a.seed.wrapping_add(a.jobs - 1))
        } else {
            String::new()
        }
    );
    let progress = |p: &Progress| {
        let secs = p.elapsed.as_secs_f64().max(1e-9);
        eprint!(
            "\r#{:<9} {:>7.0} exec/s  {:>5.1} s  corpus {:<5}",
            p.executions,
            p.executions as f64 / secs,
            secs,
            p.corpus
        );
        let _ = std::io::stderr().flush();
    };
    let result = hunt_jobs_sharing(&opts, a.jobs as usize, a.share_every, Box::new(progress));
    eprintln!();
    if a.json {
        return print_json(a, &result);
    }
    match result {
        HuntResult::Clean {
            executions,
            elapsed,
        } => {
            println!(
                "No bug in {executions} executions ({:.1} s).",
                elapsed.as_secs_f64()
            );
            Ok(EXIT_CLEAN)
        }
        HuntResult::Error { message, input, .. } => {
            let message = format!("internal error of swapfuzz (not a kernel bug): {message}");
            match write_reproducer(&a.out, "error", &input) {
                Ok(path) => Err(format!("{message}; input saved in {}", path.display())),
                Err(e) => {
                    print_unsaved(&input);
                    Err(format!("{message}; the input was not saved: {e}"))
                }
            }
        }
        HuntResult::Found {
            input,
            executions,
            elapsed,
            ..
        } => {
            println!(
                "Found a bug after {executions} executions ({:.1} s).\n",
                elapsed.as_secs_f64()
            );
            if a.no_minimize {
                found_raw(a, &input)
            } else {
                found_minimised(a, &input)
            }
        }
    }
}

/// `--no-minimize`: prints the find as the search made it and saves it.
fn found_raw(a: &HuntArgs, input: &[u8]) -> Result<u8, String> {
    let d = decode(input);
    // Shown first, saved whatever showing gave: the input is the evidence.
    let shown = super::replay::show(&d.program, &d.schedule, &a.model, &a.layout);
    println!();
    match write_reproducer(&a.out, "crash", input) {
        Ok(path) => {
            println!("Reproducer: {}", path.display());
            print_commands(a, &path, false);
        }
        Err(e) => {
            print_unsaved(input);
            eprintln!("swapfuzz: error: the reproducer was not saved: {e}");
        }
    }
    shown
}

/// The default: minimises the find ([`minimize`]), prints the minimised program, interleaving
/// and report, and saves both: `crash-<id>.scn` (the minimised scenario, with its `expect:`
/// signature) and `crash-<id>` (the raw find, libFuzzer's format).
fn found_minimised(a: &HuntArgs, input: &[u8]) -> Result<u8, String> {
    let d = decode(input);
    eprintln!("swapfuzz hunt: minimising (fewest CPUs, operations, preemptions) ...");
    let t = Instant::now();
    let m = match minimize_for_reading(
        &d.program,
        &d.schedule,
        a.model.config(false)?,
        MinimizeLimits::default(),
    ) {
        Ok(m) => m,
        Err(e) => {
            eprintln!(
                "swapfuzz: the find could not be minimised ({e}); printing it as found (a bug of \
                 swapfuzz: please report it with the reproducer)"
            );
            return found_raw(a, input);
        }
    };
    let (b, f) = (m.before, m.after);
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    println!(
        "Minimised to {}, {}, {}\n  (from {}, {}, {}; {} candidate programs, {:.1} s).\n",
        plural(f.cpus, "CPU"),
        plural(f.ops, "operation"),
        plural(f.preemptions, "preemption"),
        plural(b.cpus, "CPU"),
        plural(b.ops, "operation"),
        plural(b.preemptions, "preemption"),
        m.candidates,
        t.elapsed().as_secs_f64()
    );
    let shown = super::replay::show(&m.program, &m.schedule, &a.model, &a.layout);
    println!();
    // Named after the find and the settings it was minimised under: the same find minimised
    // under other settings is another scenario, not a clash.
    let id = format!(
        "{:016x}",
        fnv(&[input, b"\0", a.model.flags().as_bytes()].concat())
    );
    let raw = write_named(&a.out, &format!("crash-{id}"), input);
    // The schedule in steps ("cpu0 until after __swap_entry_free") when they give the same bug
    // (they survive changes of the model's scheduling points), else as bytes; and expect:.
    let name = format!("crash-{id}");
    let mut scenario = as_scenario(&m.program, &m.schedule, a.model.config(false)?, Some(&name));
    scenario.description = vec![
        format!(
            "Found by swapfuzz hunt --seed {} ({}), minimised from crash-{id}:",
            a.seed,
            a.model.flags()
        ),
        format!("{} -> {}.", m.before, m.after),
    ];
    scenario.expect = Some(signature(&m.bug));
    let text = print_scenario(&scenario);
    let scn = write_named(&a.out, &format!("crash-{id}.scn"), text.as_bytes());
    match (&scn, &raw) {
        (Ok(scn), Ok(raw)) => {
            println!(
                "Reproducer: {} (minimised; the raw find: {})",
                scn.display(),
                raw.display()
            );
            print_commands(a, scn, true);
        }
        _ => {
            if let Err(e) = &scn {
                println!(
                    "Minimised reproducer NOT SAVED. As a scenario file (save it as crash.scn):\n{text}"
                );
                eprintln!("swapfuzz: error: the minimised reproducer was not saved: {e}");
            }
            if let Err(e) = &raw {
                print_unsaved(input);
                eprintln!("swapfuzz: error: the raw reproducer was not saved: {e}");
            }
            if let Ok(p) = scn.as_ref().or(raw.as_ref()) {
                println!("Reproducer: {}", p.display());
                print_commands(a, p, scn.is_ok());
            }
        }
    }
    shown
}

/// Prints the commands that replay `path` on the kernel it was found on and on the fixed one,
/// in a form that runs as given ([`self_command`]). A scenario (which carries its `expect:`
/// signature) is also checked on every schedule of the fixed kernel with `verify`.
fn print_commands(a: &HuntArgs, path: &Path, scenario: bool) {
    let me = self_command();
    let file = shell_quote(&path.display().to_string());
    let fixed = a.model.fixed();
    println!(
        "Replay it:            {me} replay {file} {}",
        a.model.flags()
    );
    println!("On the fixed kernel:  {me} replay {file} {}", fixed.flags());
    if scenario {
        println!(
            "Every schedule (<= 2 preemptions) of the fixed kernel:\n                      \
             {me} verify {file} {} --preemptions 2",
            fixed.flags()
        );
    }
}

/// How to run this very swapfuzz from the current directory: `swapfuzz` when that name on PATH
/// is this program; `cargo run --release --` (or `cargo run --` for a debug build) when this is
/// the build of a cargo project the current directory is in (the README's way); else this
/// program's absolute path.
fn self_command() -> String {
    let Ok(exe) = std::env::current_exe().and_then(|e| e.canonicalize()) else {
        return "swapfuzz".into();
    };
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("swapfuzz"))
            .find(|p| p.is_file())
    });
    if on_path.and_then(|p| p.canonicalize().ok()).as_ref() == Some(&exe) {
        return "swapfuzz".into();
    }
    let profile = exe.parent();
    let target = profile.and_then(Path::parent);
    let project = target.and_then(Path::parent);
    if let (Some(profile), Some(target), Some(project)) = (profile, target, project)
        && target.file_name().is_some_and(|n| n == "target")
        && project.join("Cargo.toml").is_file()
        && std::env::current_dir()
            .and_then(|d| d.canonicalize())
            .is_ok_and(|d| d.starts_with(project))
    {
        match profile.file_name().and_then(|n| n.to_str()) {
            Some("release") => return "cargo run --release --".into(),
            Some("debug") => return "cargo run --".into(),
            _ => {}
        }
    }
    shell_quote(&exe.display().to_string())
}

/// `s` quoted for a POSIX shell if it needs it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:=@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Prints an input that could not be saved, so that it is not lost.
fn print_unsaved(input: &[u8]) {
    println!(
        "Reproducer NOT SAVED. Its bytes (hex; save them with: echo HEX | xxd -r -p > crash.bin):\n{}",
        output_file::hex(input)
    );
}

/// Writes `input` as `dir/<kind>-<hash>`, atomically; an existing file of that name with the
/// same contents is fine, one with other contents is not replaced.
fn write_reproducer(dir: &Path, kind: &str, input: &[u8]) -> Result<PathBuf, String> {
    write_named(dir, &format!("{kind}-{:016x}", fnv(input)), input)
}

/// Writes `data` as `dir/name`, atomically, as [`write_reproducer`] does.
fn write_named(dir: &Path, name: &str, data: &[u8]) -> Result<PathBuf, String> {
    output_file::create_dir(dir)?;
    let path = dir.join(name);
    output_file::write(&path, data, false)?;
    Ok(path)
}

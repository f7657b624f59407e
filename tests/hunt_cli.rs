//! `swapfuzz hunt` as a kernel developer meets it first (issue "First contact"): with no flags
//! it prints the minimised find, a 2-CPU diagram that fits a commit message, writes a scenario
//! that replays, and prints commands that work as given; `--no-minimize` prints the raw find.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_swapfuzz");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// swapfuzz with `args`, run in `dir`: exit status, stdout, stderr.
fn swapfuzz_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    output(o)
}

fn output(o: std::process::Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `command` run by `sh -c` in `dir`.
fn sh_in(dir: &Path, command: &str) -> (i32, String, String) {
    let o = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .output()
        .unwrap();
    output(o)
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swapfuzz-hunt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The interleaving diagram of a command's output: from the `CPU0` header to the report.
fn diagram_of(out: &str) -> &str {
    out.split_once("Interleaving:\n\n")
        .and_then(|(_, t)| t.split_once("\n\n====="))
        .map(|(d, _)| d)
        .unwrap_or_else(|| panic!("no diagram in {out}"))
}

/// The `signature: …` line's value.
fn signature_of(out: &str) -> &str {
    out.lines()
        .find_map(|l| l.strip_prefix("signature: "))
        .unwrap_or_else(|| panic!("no signature in {out}"))
}

/// The command printed after `label` (e.g. `Replay it:`).
fn command_after<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label:?} line in {out}"))
}

/// The program section of a command's output (the program, its interleaving and report).
fn program_to_signature(out: &str) -> &str {
    let start = out.find("Program:").unwrap_or_else(|| panic!("{out}"));
    let end = out.find("\nsignature: ").unwrap_or_else(|| panic!("{out}"));
    &out[start..end]
}

#[test]
fn hunt_prints_a_minimised_two_cpu_diagram_in_75_columns_and_a_scenario_that_replays() {
    let d = scratch("default");
    let out_dir = d.join("out");
    // Run from the repository, as the README's `cargo run --release -- hunt` does.
    let (code, out, err) = swapfuzz_in(
        Path::new(REPO),
        &["hunt", "--out", out_dir.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("Minimised to 2 CPUs"), "{out}");
    assert!(out.contains(" (from "), "what it was minimised from: {out}");
    let diagram = diagram_of(&out);
    let header: Vec<&str> = diagram.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["CPU0", "CPU1"], "{diagram}");
    // Drawn as commit messages draw races: the first CPU to act is CPU0.
    let first = diagram.lines().skip(2).find(|l| !l.is_empty()).unwrap();
    assert!(!first.starts_with(' '), "{diagram}");
    for line in diagram.lines() {
        assert!(
            line.chars().count() <= 75,
            "{} columns: {line:?}",
            line.len()
        );
    }
    let sig = signature_of(&out);
    // Both files, the scenario carrying the signature.
    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let scn = names.iter().find(|n| n.ends_with(".scn")).expect("a .scn");
    let raw = scn.strip_suffix(".scn").unwrap();
    assert!(names.iter().any(|n| n == raw), "{names:?}");
    assert_eq!(names.len(), 2, "{names:?}");
    let scn = out_dir.join(scn);
    let text = std::fs::read_to_string(&scn).unwrap();
    assert!(text.contains(&format!("expect: {sig}\n")), "{text}");
    // The scenario replays the same bug, and so does the raw find.
    let (code, rout, rerr) = swapfuzz_in(&d, &["replay", scn.to_str().unwrap()]);
    assert_eq!(code, 1, "{rout}{rerr}");
    assert_eq!(signature_of(&rout), sig);
    assert!(!rout.contains("Note: the stored schedule"), "{rout}");
    let (code, rout, rerr) = swapfuzz_in(&d, &["replay", out_dir.join(raw).to_str().unwrap()]);
    assert_eq!(code, 1, "{rout}{rerr}");
    assert_eq!(signature_of(&rout), sig);
    // The printed commands: from the repository, `cargo run --release --` (a debug build of the
    // tests prints `cargo run --`). Not run through cargo here (that would rebuild): the rest of
    // each command is run with this build of swapfuzz in its place.
    let replay = command_after(&out, "Replay it:");
    let fixed = command_after(&out, "On the fixed kernel:");
    let verify = out
        .lines()
        .skip_while(|l| !l.starts_with("Every schedule"))
        .nth(1)
        .map(str::trim)
        .unwrap_or_else(|| panic!("no verify command in {out}"));
    let prefix = ["cargo run --release -- ", "cargo run -- "]
        .into_iter()
        .find(|p| replay.starts_with(p))
        .unwrap_or_else(|| panic!("{replay}"));
    let run = |cmd: &str| {
        let rest = cmd.strip_prefix(prefix).unwrap_or_else(|| panic!("{cmd}"));
        sh_in(Path::new(REPO), &format!("'{BIN}' {rest}"))
    };
    let (code, rout, rerr) = run(replay);
    assert_eq!(code, 1, "{replay}: {rout}{rerr}");
    assert_eq!(signature_of(&rout), sig);
    let (code, rout, rerr) = run(fixed);
    assert!(fixed.contains("--variant fixed"), "{fixed}");
    assert_eq!(code, 3, "{fixed}: {rout}{rerr}");
    assert!(rout.contains("DOES NOT REPRODUCE"), "{rout}");
    let (code, rout, rerr) = run(verify);
    assert_eq!(code, 0, "{verify}: {rout}{rerr}");
    assert!(rout.contains("VERIFIED"), "{rout}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn hunt_no_minimize_prints_the_raw_find_and_commands_that_work_as_given_outside_the_repository() {
    // Outside any cargo project `cargo run` cannot work: the command names this binary by its
    // absolute path (or `swapfuzz`, when that is this binary on PATH), and runs as printed.
    let d = scratch("raw");
    let (code, out, err) = swapfuzz_in(&d, &["hunt", "--no-minimize"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains("Minimised"), "{out}");
    let names: Vec<String> = std::fs::read_dir(d.join("hunt-out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "only the raw find: {names:?}");
    assert!(names[0].starts_with("crash-") && !names[0].contains('.'));
    let replay = command_after(&out, "Replay it:");
    let exe = replay.split_whitespace().next().unwrap();
    assert!(
        exe == "swapfuzz" || (Path::new(exe).is_absolute() && Path::new(exe).is_file()),
        "{replay}"
    );
    let (code, rout, rerr) = sh_in(&d, replay);
    assert_eq!(code, 1, "{replay}: {rout}{rerr}");
    // The raw program, exactly as the saved find replays it.
    assert_eq!(program_to_signature(&rout), program_to_signature(&out));
    assert_eq!(signature_of(&rout), signature_of(&out));
    let fixed = command_after(&out, "On the fixed kernel:");
    let (code, rout, rerr) = sh_in(&d, fixed);
    assert_eq!(code, 0, "{fixed}: {rout}{rerr}");
    assert!(rout.contains("No bug"), "{rout}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn width_is_checked_on_every_command_that_draws() {
    let crash = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/crashes/shmem-truncate-null-swap_map.bin"
    );
    let here = Path::new(REPO);
    for args in [
        vec!["replay", crash, "--width", "12"],
        vec!["verify", "shmem-truncate", "--width", "12"],
        vec!["minimize", crash, "--width", "12", "-o", "/nonexistent/x"],
        vec!["hunt", "--width", "12"],
    ] {
        let (code, _, err) = swapfuzz_in(here, &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("--width") && err.contains("40.."), "{err}");
    }
    let (code, out, _) = swapfuzz_in(
        here,
        &[
            "verify",
            "shmem-truncate",
            "--preemptions",
            "1",
            "--width",
            "60",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(diagram_of(&out).lines().all(|l| l.len() <= 60), "{out}");
}

/// `--executions N` stops a clean search at N executions (a benchmark's budget that does not
/// depend on the machine's speed); 0 is bad usage.
#[test]
fn executions_budget_stops_a_clean_hunt_at_that_count() {
    let d = scratch("executions");
    let (code, out, err) = swapfuzz_in(
        &d,
        &[
            "hunt",
            "--variant",
            "fixed",
            "--executions",
            "500",
            "--time",
            "600",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let n: u64 = out
        .split("No bug in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!((500..600).contains(&n), "{out}");
    let (code, _, err) = swapfuzz_in(&d, &["hunt", "--executions", "0"]);
    assert_eq!(code, 2, "{err}");
}

/// `s` without its `"seconds":…,` field (the one part of hunt's JSON that is timing).
fn without_seconds(s: &str) -> String {
    match s.split_once("\"seconds\":") {
        Some((a, b)) => format!("{a}{}", b.split_once(',').map_or("", |(_, r)| r)),
        None => s.to_string(),
    }
}

/// `--jobs 2`: the workers share what they keep at fixed executions (here every 64, several
/// exchanges before the find), so one seed gives the same find after the same executions twice
/// (`--json`); with `--corpus DIR` they grow the directory
/// in libFuzzer's format (one input per file), and the next search starts from it.
#[test]
fn parallel_hunt_sharing_finds_is_deterministic_and_grows_a_libfuzzer_corpus() {
    let d = scratch("jobs");
    let hunt = |extra: &[&str]| {
        let mut args = vec![
            "hunt",
            "--jobs",
            "2",
            "--seed",
            "3",
            "--executions",
            "100000",
            "--time",
            "600",
            "--json",
            "--share-every",
            "64",
        ];
        args.extend_from_slice(extra);
        swapfuzz_in(&d, &args)
    };
    let (code, first, err) = hunt(&[]);
    assert_eq!(code, 1, "{first}{err}");
    assert!(first.contains("\"result\":\"bug\""), "{first}");
    assert!(first.contains("\"jobs\":2,\"share_every\":64"), "{first}");
    let (code, second, err) = hunt(&[]);
    assert_eq!(code, 1, "{second}{err}");
    assert_eq!(without_seconds(&first), without_seconds(&second));

    let corpus = d.join("corpus");
    let (code, out, err) = hunt(&["--corpus", corpus.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    let files: Vec<_> = std::fs::read_dir(&corpus).unwrap().flatten().collect();
    assert!(!files.is_empty(), "the workers kept inputs in {corpus:?}");
    // Named by a hash of their bytes, as the search wrote them; the fixed kernel runs them all
    // first (its budget covers them, per worker) and stays clean.
    for f in &files {
        let name = f.file_name().into_string().unwrap();
        assert!(
            name.len() == 16 && name.chars().all(|c| c.is_ascii_hexdigit()),
            "{name}"
        );
    }
    let budget = (files.len() + 10).to_string();
    let (code, out, err) = swapfuzz_in(
        &d,
        &[
            "hunt",
            "--variant",
            "fixed",
            "--jobs",
            "2",
            "--corpus",
            corpus.to_str().unwrap(),
            "--executions",
            &budget,
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"result\":\"clean\""), "{out}");
}

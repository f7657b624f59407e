//! The command line's exit status and messages: 0 no bug, 1 bug, 2 bad usage or input; and
//! byte-identical output when the same reproducer is replayed in new processes.

use std::process::Command;

mod common;
use common::swapfuzz;

const CRASH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/corpus/crashes/shmem-truncate-null-swap_map.bin"
);

#[test]
fn replay_a_crash_on_buggy_then_on_fixed() {
    // The wide layout, when the width allows it.
    let (code, out, _) = swapfuzz(&["replay", CRASH, "--width", "120"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CPU0") && out.contains("CPU1"));
    assert!(out.contains("swap_page_trans_huge_swapped <-- NULL dereference of si->swap_map"));
    assert!(out.contains("BUG: kernel NULL pointer dereference"));
    // The default: a commit message's 75 columns, the fatal line wrapped at a space.
    let (code, out, _) = swapfuzz(&["replay", CRASH]);
    assert_eq!(code, 1, "{out}");
    let diagram = diagram_of(&out);
    assert!(diagram.lines().all(|l| l.len() <= 75), "{diagram}");
    assert!(
        diagram.contains("swap_page_trans_huge_swapped <-- NULL dereference of\n"),
        "{diagram}"
    );
    let (code, out, _) = swapfuzz(&["replay", CRASH, "--variant", "fixed"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No bug"));
}

/// The interleaving diagram of a command's output: from the `CPU0` header to the report.
fn diagram_of(out: &str) -> &str {
    out.split_once("Interleaving:\n\n")
        .and_then(|(_, t)| t.split_once("\n\n====="))
        .map(|(d, _)| d)
        .unwrap_or_else(|| panic!("no diagram in {out}"))
}

#[test]
fn replay_is_byte_identical_across_processes() {
    let first = swapfuzz(&["replay", CRASH]);
    for _ in 0..3 {
        assert_eq!(swapfuzz(&["replay", CRASH]), first);
    }
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let (code, _, err) = swapfuzz(&["replay", "/nonexistent/crash"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent/crash"), "{err}");
    let empty = std::env::temp_dir().join(format!("swapfuzz-empty-{}", std::process::id()));
    std::fs::write(&empty, b"").unwrap();
    let (code, _, err) = swapfuzz(&["replay", empty.to_str().unwrap()]);
    std::fs::remove_file(&empty).unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("is empty"), "{err}");
    let (code, _, err) = swapfuzz(&["hunt", "--variant", "patched"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'patched'"), "{err}");
    let (code, _, _) = swapfuzz(&["frobnicate"]);
    assert_eq!(code, 2);
    let (code, out, _) = swapfuzz(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("hunt") && out.contains("replay"));
}

#[test]
fn verify_the_shmem_scenario_on_both_variants() {
    let (code, out, _) = swapfuzz(&["verify", "shmem-truncate", "--preemptions", "1"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("with 1 preemption(s)"), "{out}");
    let (code, out, _) = swapfuzz(&[
        "verify",
        "shmem-truncate",
        "--preemptions",
        "2",
        "--variant",
        "fixed",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERIFIED: no bug in all"), "{out}");
}

/// A budget stops `verify` with exit 3 (neither verified nor a bug), saying at which bound and
/// how far; piped stderr gets no progress line.
#[test]
fn verify_stopped_by_a_budget_says_where_and_exits_3() {
    // K = 3 of shmem-truncate on Fixed takes about 14 s: 0.3 s cannot finish it.
    let (code, out, err) = swapfuzz(&[
        "verify",
        "shmem-truncate",
        "--variant",
        "fixed",
        "--preemptions",
        "3",
        "--time",
        "0.3",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("INCONCLUSIVE: stopped by the time budget (--time 0.3) at K="),
        "{out}"
    );
    assert!(out.contains(" schedules of K="), "{out}");
    assert!(!out.contains("VERIFIED"), "{out}");
    assert_eq!(err, "");
    let (code, out, err) = swapfuzz(&[
        "verify",
        "shmem-truncate",
        "--variant",
        "fixed",
        "--max-executions",
        "100",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(
            "stopped by the execution budget (--max-executions 100) at K=1, 100 schedules of K=1 done"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "Verified only up to K=0: no bug in all 3 schedules with at most 0 preemptions."
        ),
        "{out}"
    );
    assert_eq!(err, "");
    let (code, _, err) = swapfuzz(&["verify", "shmem-truncate", "--time", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("positive number of seconds"), "{err}");
}

#[test]
fn scenario_errors_name_the_line() {
    let f = std::env::temp_dir().join(format!("swapfuzz-bad-{}.scn", std::process::id()));
    std::fs::write(&f, "setup:\n  swapon\ncpu0:\n  swapof dev=0\n").unwrap();
    let (code, _, err) = swapfuzz(&["replay", f.to_str().unwrap()]);
    std::fs::remove_file(&f).unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("line 4") && err.contains("swapof"), "{err}");
    let (code, _, err) = swapfuzz(&["verify", "no-such-scenario"]);
    assert_eq!(code, 2);
    assert!(err.contains("shmem-truncate"), "{err}");
}

#[test]
fn show_prints_a_reproducer_as_a_scenario_that_replays_the_same() {
    let (code, text, _) = swapfuzz(&["show", CRASH]);
    assert_eq!(code, 0);
    assert!(
        text.contains("cpu0:") && text.contains("schedule:"),
        "{text}"
    );
    let f = std::env::temp_dir().join(format!("swapfuzz-show-{}.scn", std::process::id()));
    std::fs::write(&f, &text).unwrap();
    let (a, out_a, _) = swapfuzz(&["replay", f.to_str().unwrap()]);
    std::fs::remove_file(&f).unwrap();
    let (b, out_b, _) = swapfuzz(&["replay", CRASH]);
    assert_eq!((a, b), (1, 1));
    let tail = |s: &str| s.split_once("Program:").map(|(_, t)| t.to_string());
    assert_eq!(tail(&out_a), tail(&out_b));
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("swapfuzz-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// swapfuzz with `args`, killed after `secs` seconds: `None` if it had to be killed.
fn swapfuzz_within(secs: u64, args: &[&str]) -> Option<(i32, String, String)> {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_swapfuzz"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    Some((
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ))
}

/// The shmem race as a hand-written scenario, with one typo on line 8.
const TYPO_RACE: &str = "setup:\n  swapon\n  shmem-write file=0 index=0\n  \
    shmem-writepage file=0 index=0\ncpu0:\n  shmem-truncate file=0\ncpu1:\n  swapof dev=0\n";

#[test]
fn a_typo_in_a_hand_written_scenario_is_an_error_never_fuzz_bytes() {
    let d = scratch("typo");
    for name in ["race.txt", "race"] {
        let f = d.join(name);
        std::fs::write(&f, TYPO_RACE).unwrap();
        let f = f.to_str().unwrap();
        for args in [
            vec!["replay", f],
            vec!["verify", f, "--preemptions", "1"],
            vec!["hunt", f, "--time", "1"],
            vec!["show", f],
            vec!["minimize", f],
        ] {
            let (code, out, err) = swapfuzz(&args);
            assert_eq!(code, 2, "{args:?}\n{out}{err}");
            assert!(
                err.contains("line 8, column 3") && err.contains("unknown operation \"swapof\""),
                "{args:?}: {err}"
            );
            assert!(err.contains("--as bytes"), "{err}");
            assert!(
                !out.contains("No bug") && !out.contains("VERIFIED"),
                "{out}"
            );
        }
    }
    // The fixed scenario runs, and --as bytes is the escape hatch for printable fuzz inputs.
    let f = d.join("race.txt");
    std::fs::write(&f, TYPO_RACE.replace("swapof", "swapoff")).unwrap();
    let (code, out, _) = swapfuzz(&["verify", f.to_str().unwrap(), "--preemptions", "1"]);
    assert_eq!(code, 1, "{out}");
    let (code, out, err) = swapfuzz(&["replay", "--as", "bytes", f.to_str().unwrap()]);
    assert!(code == 0 || code == 1, "{out}{err}");
    // Any other text file is a scenario that does not parse.
    let (code, _, err) = swapfuzz(&["replay", "/proc/self/status"]);
    assert_eq!(code, 2);
    assert!(err.contains("line 1, column 1"), "{err}");
    // --as scenario reads a reproducer as text: not UTF-8.
    let (code, _, err) = swapfuzz(&["replay", "--as", "scenario", CRASH]);
    assert_eq!(code, 2);
    assert!(err.contains("not UTF-8"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_byte_order_mark_is_invisible_to_the_parser() {
    let d = scratch("bom");
    let f = d.join("race.scn");
    // The text after the mark, what the error says, and what it must not say.
    for (text, says, not) in [
        (TYPO_RACE, "line 8, column 3", "\u{feff}"),
        ("frob:\ncpu0:\n  swapon\n", "\"frob:\"", "\u{feff}"),
        (
            "cpu0:\n  swapon\ncpu18446744073709551616:\n",
            "cpu18446744073709551616:",
            "18446744073709551615",
        ),
    ] {
        std::fs::write(&f, format!("\u{feff}{text}")).unwrap();
        let (code, _, err) = swapfuzz(&["show", f.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(err.contains(says) && !err.contains(not), "{err}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn fifos_devices_and_directories_are_refused_at_once() {
    let d = scratch("special");
    let fifo = d.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fifo = fifo.to_str().unwrap();
    for args in [
        vec!["replay", fifo],
        vec!["verify", fifo],
        vec!["minimize", fifo],
        vec!["show", fifo],
        vec!["replay", "/dev/zero"],
        vec!["replay", "--as", "bytes", "/dev/urandom"],
        vec!["show", d.to_str().unwrap()],
    ] {
        let (code, _, err) = swapfuzz_within(10, &args).expect("refused at once, not blocked");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
    let big = d.join("big.bin");
    std::fs::write(&big, vec![1u8; 2 << 20]).unwrap();
    let (code, _, err) = swapfuzz(&["replay", big.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("larger than"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Checks the output of a hunt whose reproducer could not be written: the report, the
/// interleaving and the bytes are printed, and the status still says "bug found".
fn assert_bug_printed_not_saved(code: i32, out: &str, err: &str) {
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("Found a bug") && out.contains("signature:"),
        "{out}"
    );
    assert!(out.contains("CPU0") && out.contains("Call Trace:"), "{out}");
    let hex = out
        .split_once("Reproducer NOT SAVED")
        .and_then(|(_, t)| t.lines().nth(1))
        .unwrap_or_else(|| panic!("no bytes in {out}"));
    assert!(
        hex.len() > 20 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hex}"
    );
    assert!(err.contains("not saved"), "{err}");
}

#[test]
fn hunt_prints_the_bug_even_when_the_reproducer_cannot_be_written() {
    let d = scratch("hunt-out");
    let file = d.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let (code, out, err) = swapfuzz(&["hunt", "--time", "60", "--out", file.to_str().unwrap()]);
    assert_bug_printed_not_saved(code, &out, &err);
    assert!(err.contains("is not a directory"), "{err}");
    // A read-only directory (root writes anyway: then the reproducer is simply saved).
    let ro = d.join("ro");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let root = std::fs::write(ro.join("probe"), b"").is_ok();
    let (code, out, err) = swapfuzz(&["hunt", "--time", "60", "--out", ro.to_str().unwrap()]);
    if root {
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("Reproducer: "), "{out}");
    } else {
        assert_bug_printed_not_saved(code, &out, &err);
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn minimize_never_clobbers_a_different_file_without_force() {
    let d = scratch("minimize");
    let f = d.join("crash.bin");
    // The committed reproducer with unused schedule bytes: minimize drops them.
    let mut original = std::fs::read(CRASH).unwrap();
    original.extend([0xff; 4]);
    std::fs::write(&f, &original).unwrap();
    let fs = f.to_str().unwrap();
    // -o FILE itself: refused, the only copy intact, the result printed.
    let (code, out, err) = swapfuzz(&["minimize", fs, "-o", fs]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert!(
        out.contains("NOT SAVED") && out.contains("signature:"),
        "{out}"
    );
    assert_eq!(std::fs::read(&f).unwrap(), original);
    // The default FILE.min, when it holds something else: refused too.
    let min = d.join("crash.bin.min");
    std::fs::write(&min, b"precious").unwrap();
    let (code, _, err) = swapfuzz(&["minimize", fs]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&min).unwrap(), b"precious");
    // --force replaces, atomically: no temporary file is left.
    let (code, out, err) = swapfuzz(&["minimize", fs, "--force"]);
    assert_eq!(code, 1, "{out}{err}");
    let minimised = std::fs::read(&min).unwrap();
    assert_ne!(minimised, b"precious");
    // The same result again: identical contents, nothing to refuse.
    let (code, out, err) = swapfuzz(&["minimize", fs]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("unchanged"), "{out}");
    let (code, out, err) = swapfuzz(&["minimize", fs, "-o", fs, "--force"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(std::fs::read(&f).unwrap(), minimised);
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["crash.bin", "crash.bin.min"]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn triage_exits_3_on_a_crash_file_that_does_not_reproduce_and_skips_non_crash_files() {
    let d = scratch("triage");
    let crashes = d.join("crashes");
    std::fs::create_dir(&crashes).unwrap();
    std::fs::copy(CRASH, crashes.join("crash-0bbac2cc")).unwrap();
    std::fs::write(crashes.join("README"), "crashes from the nightly run\n").unwrap();
    std::fs::write(crashes.join("race.scn"), "cpu0:\n  swapon\n").unwrap();
    std::fs::create_dir(crashes.join("older")).unwrap();
    std::fs::write(crashes.join(".crash-0bbac2cc.tmp-1-0"), [0u8]).unwrap();
    let c = crashes.to_str().unwrap();
    let (code, out, err) = swapfuzz(&["triage", c]);
    assert_eq!(code, 1, "{out}{err}");
    for name in ["README", "race.scn", "older", ".crash-0bbac2cc.tmp"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("skipped ") && l.contains(name)),
            "{name}: {out}"
        );
    }
    // A crash file that runs clean: exit 3, in the table and in the JSON.
    std::fs::write(crashes.join("crash-00"), [0u8]).unwrap();
    let (code, out, _) = swapfuzz(&["triage", c]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("DOES NOT REPRODUCE"), "{out}");
    let (code, out, _) = swapfuzz(&["triage", c, "--json"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("\"does_not_reproduce\":[\""), "{out}");
    std::fs::remove_file(crashes.join("crash-00")).unwrap();
    // --out: an existing different file is kept unless --force.
    let out_dir = d.join("triaged");
    let (code, out, err) = swapfuzz(&["triage", c, "--out", out_dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    let written: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert_eq!(written.len(), 1);
    let path = written[0].as_ref().unwrap().path();
    let good = std::fs::read(&path).unwrap();
    let (code, _, _) = swapfuzz(&["triage", c, "--out", out_dir.to_str().unwrap()]);
    assert_eq!(code, 1, "identical contents are fine");
    std::fs::write(&path, b"other").unwrap();
    let (code, out, err) = swapfuzz(&["triage", c, "--out", out_dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("already exists") && err.contains("NOT SAVED"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"other");
    let (code, _, _) = swapfuzz(&["triage", c, "--out", out_dir.to_str().unwrap(), "--force"]);
    assert_eq!(code, 1);
    assert_eq!(std::fs::read(&path).unwrap(), good);
    // A file is not a directory to triage.
    let (code, _, err) = swapfuzz(&["triage", CRASH]);
    assert_eq!(code, 2);
    assert!(err.contains("not a directory"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// No line of shuttle's or of a Rust panic reaches the user: a detected kernel bug is a result,
/// not a crash of swapfuzz (issue: first contact).
#[test]
fn hunt_minimize_and_triage_print_no_panic_lines() {
    let d = scratch("quiet");
    let out = d.join("out");
    let (code, so, se) = swapfuzz(&["hunt", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{so}{se}");
    let min = d.join("min.bin");
    let (code2, so2, se2) = swapfuzz(&["minimize", CRASH, "-o", min.to_str().unwrap()]);
    assert_eq!(code2, 1, "{so2}{se2}");
    let tri = d.join("tri");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/crashes");
    let (_, so3, se3) = swapfuzz(&["triage", dir, "--out", tri.to_str().unwrap()]);
    for text in [so, se, so2, se2, so3, se3] {
        for noise in [
            "panicked",
            "serializing schedule",
            "NotSet",
            "RUST_BACKTRACE",
        ] {
            assert!(!text.contains(noise), "{noise:?} in:\n{text}");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// `bench --strategies` runs only the strategies named (issue: first contact: `--strategies
/// hunt` ran all four).
#[test]
fn bench_runs_only_the_strategies_named() {
    let args = [
        "bench",
        "--seeds",
        "1",
        "--budget",
        "5",
        "--executions",
        "0",
    ];
    let (code, out, err) = swapfuzz(&[&args[..], &["--strategies", "hunt"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("swapfuzz hunt"), "{out}");
    for other in ["RandomScheduler", "PctScheduler"] {
        assert!(!out.contains(other), "{other} ran:\n{out}");
    }
    let (code, out, err) = swapfuzz(&[&args[..], &["--strategies", "pct2,hunt,pct2"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.matches("PctScheduler(depth 2)").count(), 1, "{out}");
    assert!(
        out.contains("swapfuzz hunt") && !out.contains("depth 3"),
        "{out}"
    );
    assert!(!out.contains("RandomScheduler"), "{out}");
    let (code, _, err) = swapfuzz(&["bench", "--strategies", "dfs"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown strategy"), "{err}");
}

/// Output piped into a reader that stops early (`swapfuzz ... | head -1`) ends swapfuzz quietly,
/// as other Unix commands, never with a panic in `println!`.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_swapfuzz"))
        .args(["verify", "shmem-truncate", "--variant", "buggy"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the report (the search takes a while).
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        o.status.signal() == Some(libc::SIGPIPE) || o.status.code() == Some(1),
        "{:?} {err}",
        o.status
    );
}

//! The command line's exit status and messages: 0 no bug, 1 bug, 2 bad usage or input; and
//! byte-identical output when the same reproducer is replayed in new processes.

use std::process::Command;

fn swapfuzz(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_swapfuzz"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const CRASH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/corpus/crashes/shmem-truncate-null-swap_map.bin"
);

#[test]
fn replay_a_crash_on_buggy_then_on_fixed() {
    let (code, out, _) = swapfuzz(&["replay", CRASH]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CPU0") && out.contains("CPU1"));
    assert!(out.contains("swap_page_trans_huge_swapped <-- NULL dereference of si->swap_map"));
    assert!(out.contains("BUG: kernel NULL pointer dereference"));
    let (code, out, _) = swapfuzz(&["replay", CRASH, "--variant", "fixed"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No bug"));
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

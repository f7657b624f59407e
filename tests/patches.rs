//! The patch registry's verdicts: every example and revert patch gets the verdict argued in its
//! file, the upstream fix closes the race, and v6.8 itself does not. Each registered patch is
//! picked up from the registry, with no edit here.
//!
//! The default tier proves every built-in scenario but thp-exit (its K = 2 takes 10 to 16 s a
//! kernel even reduced and cached: the thp-exit rows of `swapfuzz check-patch NAME`) at K = 2,
//! where relevant to the patch, and hunts for 3 s; the `--ignored` tier runs
//! `swapfuzz check-patch` as a user does, with every scenario and the crash corpus (about
//! two minutes per closing patch).

mod common;

use std::time::Duration;

use common::swapfuzz;
use swapfuzz::check::config;
use swapfuzz::fuzz::patch_check::{Outcome, PatchCheck, Verdict};
use swapfuzz::model::PatchSet;
use swapfuzz::model::patches::{Argued, Kind, Patch, REGISTRY};
use swapfuzz::program::text;

/// The verdict on `kernel` from the built-in scenarios but thp-exit at K = 2 and a 3 s hunt.
fn verdict(kernel: PatchSet) -> Verdict {
    let mut check = PatchCheck::new(config::model(kernel));
    for (name, _, src) in text::builtin() {
        if name != "thp-exit" {
            check = check.scenario(name, text::parse(&src).unwrap().program);
        }
    }
    check.time = Duration::from_secs(120);
    check.hunt_time = Duration::from_secs(3);
    let report = check.run();
    for r in &report.rows {
        // An optional K = 3 row that the budget stops is reported as `Partial`, never as
        // `Stopped`: a stopped row here would leave the verdict unargued.
        assert!(
            !matches!(r.outcome, Outcome::Error(_) | Outcome::Stopped),
            "{}: {r:?}",
            kernel.name()
        );
    }
    report.verdict()
}

/// Every patch with an argued verdict: the examples and the reverts.
fn argued() -> impl Iterator<Item = (&'static Patch, Argued)> {
    REGISTRY.iter().filter_map(|p| Some((p, p.argued()?)))
}

#[test]
fn every_example_and_revert_gets_its_argued_verdict() {
    let mut seen = (0, 0);
    for (p, argued) in argued() {
        let kernel = PatchSet::for_patch(p);
        match (argued, verdict(kernel)) {
            (Argued::Closes, Verdict::Closed) => seen.0 += 1,
            (Argued::DoesNotClose { bug_in }, Verdict::NotClosed(f)) => {
                assert!(bug_in.contains(&f.bug.func), "{}: {:?}", p.name, f.bug);
                let replaced = p.replaces();
                assert!(
                    f.bug.stack.iter().any(|f| replaced.contains(f)),
                    "{}: the bug is not in a replaced function: {:?}",
                    p.name,
                    f.bug
                );
                seen.1 += 1;
            }
            (argued, got) => panic!("{}: argued {argued:?}, got {got:?}", p.name),
        }
    }
    // At least one correct alternative and two wrong fixes ship with swapfuzz.
    let examples = |closes| {
        REGISTRY
            .iter()
            .filter(|p| matches!(p.kind, Kind::Example(a) if (a == Argued::Closes) == closes))
            .count()
    };
    assert!(examples(true) >= 1 && examples(false) >= 2);
    assert!(seen.0 >= 1 && seen.1 >= 2, "{seen:?}");
}

#[test]
fn the_upstream_fix_closes_the_race_and_v6_8_does_not() {
    assert_eq!(verdict(PatchSet::fixed()), Verdict::Closed);
    match verdict(PatchSet::base()) {
        Verdict::NotClosed(f) => {
            assert!(f.bug.stack.contains(&"free_swap_and_cache"), "{:?}", f.bug)
        }
        v => panic!("v6.8: {v:?}"),
    }
}

#[test]
fn the_same_patch_gives_the_same_verdict() {
    let wrong = PatchSet::for_patch(Patch::by_name("wrong-rcu").unwrap());
    assert_eq!(verdict(wrong), verdict(wrong));
}

#[test]
fn patches_lists_every_patch() {
    let (code, out, _) = swapfuzz(&["patches"]);
    assert_eq!(code, 0);
    for p in REGISTRY {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{} ", p.name)))
            .unwrap_or_else(|| panic!("{} missing:\n{out}", p.name));
        for f in p.replaces() {
            assert!(line.contains(&format!("{f}()")), "{line}");
        }
        assert!(line.ends_with(p.subject), "{line}");
    }
}

#[test]
fn bad_patch_names_and_conflicts_are_usage_errors() {
    let (code, _, err) = swapfuzz(&["check-patch", "no-such-patch"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such patch"), "{err}");
    let args: Vec<&str> = "replay shmem-truncate --variant fixed --patch wrong-rcu"
        .split(' ')
        .collect();
    let (code, _, err) = swapfuzz(&args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("both replace free_swap_and_cache()"), "{err}");
}

/// `swapfuzz check-patch NAME` as a user runs it: exit status and verdict line.
fn check_patch(name: &str) -> (i32, String) {
    let (code, out, err) = swapfuzz(&["check-patch", name, "--time", "120"]);
    assert!(err.is_empty() || code != 2, "{err}");
    (code, out)
}

#[test]
#[ignore = "two minutes per closing patch: cargo test --test patches -- --ignored"]
fn check_patch_on_every_registered_kernel() {
    let (code, out) = check_patch("fixed");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\nCLOSED: "), "{out}");
    let (code, out) = check_patch("buggy");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("\nNOT CLOSED: "), "{out}");
    assert!(out.contains("\nschedule:\n"), "the reproducer: {out}");
    for (p, argued) in argued() {
        let (code, out) = check_patch(p.name);
        match argued {
            Argued::Closes => assert_eq!(code, 0, "{}: {out}", p.name),
            Argued::DoesNotClose { bug_in } => {
                assert_eq!(code, 1, "{}: {out}", p.name);
                let verdict = out.lines().find(|l| l.starts_with("NOT CLOSED: ")).unwrap();
                assert!(
                    bug_in.iter().any(|f| verdict.contains(f)),
                    "{}: {out}",
                    p.name
                );
            }
        }
    }
}

//! `swapfuzz verify`'s reduction switches: the reduced run (`--reduction`) says how many
//! equivalence classes it covered, the default runs the same schedules as before, and `--preemptions all` runs
//! without a bound (here stopped by its time budget: exit 3).

mod common;

use common::swapfuzz;

#[test]
fn reduced_and_unreduced_verify_agree_and_say_what_they_covered() {
    let (code, out, _) = swapfuzz(&[
        "verify",
        "shmem-truncate",
        "--variant",
        "fixed",
        "--preemptions",
        "1",
        "--reduction",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("VERIFIED: no bug in all 319 schedules run, which cover every schedule with at most 1 preemptions"),
        "{out}"
    );
    assert!(
        out.contains("(sleep-set reduction: 310 equivalence classes covered"),
        "{out}"
    );
    let (code, out, _) = swapfuzz(&[
        "verify",
        "shmem-truncate",
        "--variant",
        "fixed",
        "--preemptions",
        "1",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("VERIFIED: no bug in all 319 schedules with at most 1 preemptions"),
        "{out}"
    );
    assert!(!out.contains("equivalence classes"), "{out}");
}

#[test]
fn without_a_bound_a_budget_stops_verify() {
    let (code, out, _) = swapfuzz(&[
        "verify",
        "zap-4k",
        "--variant",
        "fixed",
        "--preemptions",
        "all",
        "--time",
        "0.5",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("--preemptions all"), "{out}");
    assert!(out.contains("without a preemption bound"), "{out}");
    let (code, _, err) = swapfuzz(&["verify", "zap-4k", "--preemptions", "many"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("expected a number of preemptions or `all`"),
        "{err}"
    );
}

/// `--cache-states` says what it merged, still finds the race on v6.8, and with
/// `--preemptions all --reduction` proves zap-4k and shmem-truncate on the fixed kernel:
/// complete proofs (issue 16's goal), while the same complete search finds the race on v6.8.
#[test]
fn state_caching_proves_the_seed_race_without_a_bound_and_still_finds_it() {
    for scenario in ["zap-4k", "shmem-truncate"] {
        let (code, out, _) = swapfuzz(&[
            "verify",
            scenario,
            "--variant",
            "fixed",
            "--preemptions",
            "all",
            "--reduction",
            "--cache-states",
        ]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("--cache-states"), "{out}");
        assert!(
            out.contains("which cover every schedule with no preemption bound up to the order of independent steps and states explored before"),
            "{out}"
        );
        assert!(out.contains("(state caching: "), "{out}");
        assert!(out.contains("every schedule of this program"), "{out}");
    }
    // The cache alone at K = 2, and with the reduction and no bound.
    for flags in [&["2"][..], &["all", "--reduction"][..]] {
        let mut args = vec!["verify", "shmem-truncate", "--variant", "buggy"];
        args.extend(["--cache-states", "--preemptions"]);
        args.extend(flags);
        let (code, out, _) = swapfuzz(&args);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("BUG after"), "{out}");
    }
}

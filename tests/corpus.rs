//! Replays every file of `corpus/`: the seed inputs of every fuzz target (`corpus/seeds/`) and
//! minimised crash reproducers (`corpus/crashes/`), all in the `swapfuzz::program::bytes` format,
//! on every fuzz target of the patch registry (`swapfuzz::fuzz::oracle::targets()`). The
//! reproducers of the swapoff race catalogue are in `corpus/crashes/revert-ID/`: each crashes the
//! fixed kernel with that revert patch (v6.8 itself has the fix).
//!
//! Set `SWAPFUZZ_BLESS=1` to rewrite the seed files from `program::seeds::all()`.

use std::fs;
use std::path::{Path, PathBuf};

use swapfuzz::check::run::Verdict;
use swapfuzz::fuzz::oracle::{Target, targets, verdict};
use swapfuzz::model::{ModelConfig, PatchSet, Program};
use swapfuzz::program::bytes::encode;
use swapfuzz::program::seeds;

/// v6.8 itself: crashes on every reproducer.
fn is_buggy(t: &Target) -> bool {
    t.patches == PatchSet::base()
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "md"))
        .collect();
    v.sort();
    v
}

#[test]
fn seed_files_are_the_encoded_seed_programs() {
    let bless = std::env::var_os("SWAPFUZZ_BLESS").is_some();
    let dir = corpus().join("seeds");
    for (name, program) in seeds::all() {
        let path = dir.join(format!("{name}.bin"));
        let want = encode(&program, &[]);
        if bless {
            fs::create_dir_all(&dir).unwrap();
            fs::write(&path, &want).unwrap();
        }
        let have = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(have, want, "{} is stale (SWAPFUZZ_BLESS=1)", path.display());
    }
}

/// On every fuzz target: never an error; clean on the shipped ones (expected clean), and on
/// the others clean or a kernel bug.
#[test]
fn seed_inputs_are_clean_on_shipped_targets_and_never_an_error() {
    let seeds = files(&corpus().join("seeds"));
    assert!(!seeds.is_empty(), "no seed inputs");
    for path in seeds {
        let data = fs::read(&path).unwrap();
        for t in targets() {
            let v = verdict(&data, t.patches, t.rcu_spinlocks);
            assert!(
                !matches!(v, Verdict::Error(_)),
                "{} on {}: {v:?}",
                path.display(),
                t.name
            );
            if t.ship {
                assert_eq!(v, Verdict::Clean, "{} on {}", path.display(), t.name);
            }
        }
    }
}

/// The crash reproducers: `corpus/crashes/NAME.scn` (program, the signature it must give, and
/// its schedule) and `NAME.bin`, the same in the fuzz input format for libFuzzer
/// (`scripts/fuzz-check`).
fn crash_scenarios() -> Vec<(PathBuf, swapfuzz::program::text::Scenario)> {
    let v: Vec<_> = files(&corpus().join("crashes"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .map(|p| {
            let text = fs::read_to_string(&p).unwrap();
            let s = swapfuzz::program::text::parse(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, s)
        })
        .collect();
    assert!(!v.is_empty(), "no crash reproducers");
    v
}

/// Each reproducer gives its `expect:` signature on Buggy, twice alike, with its own schedule;
/// if a model change moved the scheduling points, the test finds the schedule again and says
/// so (`SWAPFUZZ_BLESS=1` writes it back). It is never silently clean. On Fixed, no schedule
/// with up to 3 preemptions gives the bug. The `.bin` copy, on every fuzz target: a bug on
/// v6.8, clean on the shipped targets, never an error.
#[test]
fn crash_reproducers_fail_buggy_with_their_signature_and_pass_fixed() {
    use swapfuzz::check::steps::run_segments;
    use swapfuzz::engine::decisions_to_bytes;
    use swapfuzz::fuzz::oracle::config;
    use swapfuzz::triage::minimize::MinimizeLimits;
    use swapfuzz::triage::report::signature;
    use swapfuzz::triage::reproduce::{Reproduction, reproduce, segments_for};
    let bless = std::env::var_os("SWAPFUZZ_BLESS").is_some();
    let mut names = Vec::new();
    for (path, mut s) in crash_scenarios() {
        let name = path.display().to_string();
        let expect = s
            .expect
            .clone()
            .unwrap_or_else(|| panic!("{name}: no expect: line"));
        let buggy = config(PatchSet::base(), true);
        if let Some(steps) = &s.steps {
            // Stated in steps: they must give the bug as they are (they do not depend on where
            // the model's scheduling points are), and the .bin holds their decisions as bytes.
            let (v, exec) = run_segments(&s.program, buggy, steps);
            let got = v.bug().map(signature).unwrap_or_else(|| format!("{v:?}"));
            assert_eq!(
                got, expect,
                "{name}: the steps no longer give the expected bug"
            );
            s.schedule = Some(decisions_to_bytes(&exec.decisions));
        } else if bless
            && let Some(steps) =
                segments_for(&s.program, buggy, s.schedule.as_deref().unwrap_or_default())
        {
            eprintln!("{name}: schedule stated in steps");
            let mut t = s.clone();
            t.steps = Some(steps);
            t.schedule = None;
            fs::write(&path, swapfuzz::program::text::print_scenario(&t)).unwrap();
        }
        let schedule = s.schedule.clone().unwrap_or_default();
        match reproduce(
            &s.program,
            &schedule,
            buggy,
            &expect,
            MinimizeLimits::default(),
        ) {
            Reproduction::Stored => {}
            Reproduction::Rederived { got, schedule, .. } if bless => {
                eprintln!("{name}: schedule re-derived (it gave {got})");
                s.schedule = Some(schedule);
                fs::write(&path, swapfuzz::program::text::print_scenario(&s)).unwrap();
            }
            other => panic!(
                "{name}: the stored schedule no longer gives {expect}: {other:?}\n\
                 (Rederived: the model's scheduling points moved; SWAPFUZZ_BLESS=1 rewrites the \
                 schedule. Lost: the model no longer has this bug — investigate before deleting)"
            ),
        }
        let schedule = s.schedule.clone().unwrap_or_default();
        let have = deterministic_lost_on_fixed_and_bin(
            &name, &path, &s.program, &schedule, buggy, &expect, bless,
        );
        // On every fuzz target: v6.8 (`buggy`, `buggy_no_rcu`) has the bug, the shipped targets
        // are clean, the other local ones (wrong example fixes) may have it; never an error.
        for t in targets() {
            let v = verdict(&have, t.patches, t.rcu_spinlocks);
            assert!(
                !matches!(v, Verdict::Error(_)),
                "{name} on {}: {v:?}",
                t.name
            );
            if is_buggy(&t) {
                assert!(v.bug().is_some(), "{name} on {}: {v:?}", t.name);
            } else if t.ship {
                assert_eq!(v, Verdict::Clean, "{name} on {}", t.name);
            }
        }
        names.push(path.with_extension(""));
    }
    // Every .bin has its .scn.
    for p in files(&corpus().join("crashes")) {
        assert!(
            names.contains(&p.with_extension("")),
            "{}: a crash file without its scenario (NAME.scn with expect:)",
            p.display()
        );
    }
}

/// The catalogue's reproducers, `corpus/crashes/PATCH/NAME.scn` (and `NAME.bin`), where PATCH is
/// a revert patch of the registry (v6.8 has every one of those fixes, so a reproducer of a
/// reverted race crashes only the kernel with the revert): each gives its `expect:` signature on
/// `PatchSet::for_patch(PATCH)`, twice alike, with its stated steps; on the fixed kernel no
/// schedule with up to 3 preemptions gives it. The `.bin` copy, on every fuzz target: a bug on
/// the PATCH target (spinlocks RCU readers, as `hunt` found it), clean on the shipped targets,
/// never an error. Every revert patch has a reproducer.
#[test]
fn revert_reproducers_fail_with_their_revert_and_pass_fixed() {
    use swapfuzz::check::steps::run_segments;
    use swapfuzz::engine::decisions_to_bytes;
    use swapfuzz::fuzz::oracle::config;
    use swapfuzz::model::patches::{Kind, Patch, REGISTRY};
    use swapfuzz::triage::report::signature;
    let bless = std::env::var_os("SWAPFUZZ_BLESS").is_some();
    let root = corpus().join("crashes");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut covered = Vec::new();
    for dir in dirs {
        let patch_name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let patch = Patch::by_name(&patch_name)
            .unwrap_or_else(|| panic!("{}: not a patch of the registry", dir.display()));
        assert!(
            matches!(patch.kind, Kind::Revert(_)),
            "{}: not a revert patch",
            dir.display()
        );
        let kernel = config(PatchSet::for_patch(patch), true);
        let scns: Vec<PathBuf> = files(&dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "scn"))
            .collect();
        assert!(!scns.is_empty(), "{}: no reproducer", dir.display());
        for path in &scns {
            let name = path.display().to_string();
            let text = fs::read_to_string(path).unwrap();
            let s = swapfuzz::program::text::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let expect = s
                .expect
                .clone()
                .unwrap_or_else(|| panic!("{name}: no expect: line"));
            let steps = s
                .steps
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: the schedule is stated in steps"));
            let (v, exec) = run_segments(&s.program, kernel, steps);
            let got = v.bug().map(signature).unwrap_or_else(|| format!("{v:?}"));
            assert_eq!(
                got, expect,
                "{name}: the steps no longer give the expected bug"
            );
            let schedule = decisions_to_bytes(&exec.decisions);
            let have = deterministic_lost_on_fixed_and_bin(
                &name, path, &s.program, &schedule, kernel, &expect, bless,
            );
            for t in targets() {
                let v = verdict(&have, t.patches, t.rcu_spinlocks);
                assert!(
                    !matches!(v, Verdict::Error(_)),
                    "{name} on {}: {v:?}",
                    t.name
                );
                if t.name == patch_name {
                    assert!(v.bug().is_some(), "{name} on {}: {v:?}", t.name);
                } else if t.ship {
                    assert_eq!(v, Verdict::Clean, "{name} on {}", t.name);
                }
            }
        }
        // Every .bin has its .scn.
        for p in files(&dir) {
            assert!(
                scns.contains(&p.with_extension("scn")),
                "{}: a crash file without its scenario (NAME.scn with expect:)",
                p.display()
            );
        }
        covered.push(patch_name);
    }
    for p in REGISTRY
        .iter()
        .filter(|p| matches!(p.kind, Kind::Revert(_)))
    {
        assert!(
            covered.iter().any(|c| c == p.name),
            "{}: no reproducer in corpus/crashes/{}/",
            p.name,
            p.name
        );
    }
}

/// The checks every committed crash passes once its schedule gives `expect` on `kernel`: two
/// replays give the same outcome, no schedule with up to 3 preemptions gives it on the fixed
/// kernel, and `path`'s `.bin` (the libFuzzer copy: the same program and schedule in the fuzz
/// input format) is current (`bless` rewrites it). Returns the `.bin`'s bytes.
#[allow(clippy::too_many_arguments)]
fn deterministic_lost_on_fixed_and_bin(
    name: &str,
    path: &Path,
    program: &Program,
    schedule: &[u8],
    kernel: ModelConfig,
    expect: &str,
    bless: bool,
) -> Vec<u8> {
    use swapfuzz::fuzz::oracle::config;
    use swapfuzz::triage::minimize::MinimizeLimits;
    use swapfuzz::triage::reproduce::{Reproduction, outcome, reproduce};
    let runs: Vec<String> = (0..2).map(|_| outcome(program, schedule, kernel)).collect();
    assert_eq!(runs, [expect, expect], "{name}: not deterministic");
    let fixed = config(PatchSet::fixed(), true);
    assert!(
        matches!(
            reproduce(program, schedule, fixed, expect, MinimizeLimits::default()),
            Reproduction::Lost { .. }
        ),
        "{name}: the bug is reachable on Fixed"
    );
    let bin = path.with_extension("bin");
    let want = encode(program, schedule);
    if bless {
        fs::write(&bin, &want).unwrap();
    }
    let have = fs::read(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    assert_eq!(have, want, "{} is stale (SWAPFUZZ_BLESS=1)", bin.display());
    have
}

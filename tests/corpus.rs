//! Replays every file of `corpus/`: seed inputs per fuzz target (`corpus/<target>/`) and
//! minimised crash reproducers (`corpus/crashes/`), all in the `swapfuzz::fuzz::input` format.
//!
//! Set `SWAPFUZZ_BLESS=1` to rewrite the seed files from `model::seeds::all()`.

use std::fs;
use std::path::{Path, PathBuf};

use swapfuzz::fuzz::encode;
use swapfuzz::fuzz::oracle::verdict;
use swapfuzz::model::harness::Verdict;
use swapfuzz::model::{Variant, seeds};

/// The fuzz targets: directory name, variant, spinlocks are RCU readers.
const TARGETS: [(&str, Variant, bool); 4] = [
    ("buggy", Variant::Buggy, true),
    ("fixed", Variant::Fixed, true),
    ("buggy_no_rcu", Variant::Buggy, false),
    ("fixed_no_rcu", Variant::Fixed, false),
];

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
    for (target, ..) in TARGETS {
        let dir = corpus().join(target);
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
}

#[test]
fn seed_inputs_are_clean_on_fixed_and_never_an_error() {
    for (target, ..) in TARGETS {
        for path in files(&corpus().join(target)) {
            let data = fs::read(&path).unwrap();
            for (_, variant, rcu) in TARGETS {
                let v = verdict(&data, variant, rcu);
                assert!(
                    !matches!(v, Verdict::Error(_)),
                    "{} {variant:?} rcu={rcu}: {v:?}",
                    path.display()
                );
                if variant == Variant::Fixed {
                    assert_eq!(v, Verdict::Clean, "{} rcu={rcu}", path.display());
                }
            }
        }
    }
}

#[test]
fn crash_reproducers_fail_buggy_and_pass_fixed() {
    let crashes = files(&corpus().join("crashes"));
    assert!(!crashes.is_empty(), "no crash reproducers");
    for path in crashes {
        let data = fs::read(&path).unwrap();
        let name = path.display();
        let titles: Vec<(String, &str)> = (0..2)
            .map(|_| match verdict(&data, Variant::Buggy, true) {
                Verdict::Bug(bug, _) => (bug.title(), bug.func),
                other => panic!("{name}: expected a bug on buggy, got {other:?}"),
            })
            .collect();
        assert_eq!(titles[0], titles[1], "{name}: not deterministic");
        assert_eq!(
            verdict(&data, Variant::Fixed, true),
            Verdict::Clean,
            "{name}"
        );
    }
}

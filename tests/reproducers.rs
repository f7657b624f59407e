//! Reproducers that outlive a model change: a scenario's `expect:` line names its bug, and
//! `replay` finds the bug again when the stored schedule bytes no longer give it (the model's
//! scheduling points moved), or says it does not reproduce (exit 3) — never "no bug" silently.

use std::process::Command;

mod common;
use common::swapfuzz;

const ABA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/corpus/crashes/shmem-truncate-swapon-aba.scn"
);

const SIG: &str = "invariant-S3:swap_page_trans_huge_swapped:shmem_truncate_range";

/// The reproducer with its schedule replaced by bytes that preempt nowhere.
fn stale() -> tempfile_path::Path {
    let text = std::fs::read_to_string(ABA).unwrap();
    let at = text.find("schedule:").unwrap();
    tempfile_path::write(&format!("{}schedule: ff ff ff ff\n", &text[..at]))
}

#[test]
fn a_stale_schedule_is_found_again() {
    let f = stale();
    let (code, out, _) = swapfuzz(&["replay", f.as_str()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Note: the stored schedule now gives no bug"),
        "{out}"
    );
    assert!(out.contains(&format!("signature: {SIG}")), "{out}");
}

#[test]
fn an_expected_bug_that_does_not_reproduce_is_exit_3() {
    let (code, out, _) = swapfuzz(&["replay", ABA, "--variant", "fixed"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("DOES NOT REPRODUCE"), "{out}");
    let (code, out, _) = swapfuzz(&["replay", ABA]);
    assert_eq!(code, 1, "{out}");
    assert!(
        !out.contains("Note:"),
        "the stored schedule is current: {out}"
    );
}

/// A temporary file that is removed when dropped (no extra crate for two tests).
mod tempfile_path {
    pub struct Path(std::path::PathBuf);

    impl Path {
        pub fn as_str(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for Path {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    pub fn write(text: &str) -> Path {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "swapfuzz-test-{}-{}.scn",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&p, text).unwrap();
        Path(p)
    }
}

/// Triage counts a scenario that names its bug (`expect:`, as hunt writes them) as a crash file:
/// each reproducer of corpus/crashes is there as NAME.scn and as its libFuzzer copy NAME.bin.
/// The catalogue's reproducers, in one subdirectory per revert patch, are skipped (triage does
/// not descend) and are triaged one directory at a time.
#[test]
fn triage_reads_scenarios_with_expect_as_crash_files() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/crashes");
    let t = swapfuzz::triage::dedup::triage_dir(std::path::Path::new(dir)).unwrap();
    assert_eq!(t.groups.len(), 3, "{:?}", t.groups);
    for g in &t.groups {
        let exts: Vec<_> = g
            .files
            .iter()
            .map(|f| f.extension().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(exts, ["bin", "scn"], "{}", g.signature);
    }
    assert!(t.no_repro.is_empty(), "{t:?}");
    for (p, why) in &t.skipped {
        let name = p.file_name().unwrap().to_string_lossy();
        assert!(
            p.is_dir() && swapfuzz::model::patches::Patch::by_name(&name).is_some(),
            "{}: {why}",
            p.display()
        );
        let sub = swapfuzz::triage::dedup::triage_dir(p).unwrap();
        assert_eq!(sub.groups.len(), 1, "{}: {:?}", p.display(), sub.groups);
        assert!(
            sub.skipped.is_empty() && sub.no_repro.is_empty() && sub.errors.is_empty(),
            "{sub:?}"
        );
        let revert = swapfuzz::model::PatchSet::for_patch(
            swapfuzz::model::patches::Patch::by_name(&name).unwrap(),
        );
        assert!(
            sub.groups[0].fails_on.contains(&(revert, true)),
            "{}: fails on {:?}",
            p.display(),
            sub.groups[0].fails_on
        );
    }
}

/// triage's table: the "fails on" column lines up, whatever the reproducers' path lengths.
#[test]
fn triage_table_columns_line_up() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/crashes");
    let o = Command::new(env!("CARGO_BIN_EXE_swapfuzz"))
        .args(["triage", dir])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let header = out.lines().next().unwrap();
    let col = header.find("fails on").unwrap();
    let rows: Vec<&str> = out.lines().filter(|l| l.contains("v6.8/")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    for r in rows {
        assert_eq!(r.find("v6.8/"), Some(col), "{out}");
    }
}

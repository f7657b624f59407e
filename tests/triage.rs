//! Minimisation and deduplication on the committed reproducers.

use std::path::Path;

use swapfuzz::check::run::{Verdict, run_program};
use swapfuzz::engine::{EngineConfig, quiet_panics};
use swapfuzz::model::{ModelConfig, Op, PatchSet};
use swapfuzz::program::bytes::decode;
use swapfuzz::triage::dedup::triage_dir;
use swapfuzz::triage::minimize::{MinimizeLimits, minimize};
use swapfuzz::triage::report::signature;

fn crash(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/crashes")
            .join(name),
    )
    .unwrap()
}

#[test]
fn minimised_shmem_race_is_the_threads_diagram_with_one_preemption_of_cpu0() {
    quiet_panics();
    let d = decode(&crash("shmem-truncate-null-swap_map.bin"));
    let cfg = ModelConfig::default();
    let m = minimize(&d.program, &d.schedule, cfg, MinimizeLimits::default()).unwrap();
    assert_eq!(
        signature(&m.bug),
        "null-deref:swap_page_trans_huge_swapped:si->swap_map[roffset]:shmem_truncate_range"
    );
    assert_eq!((m.after.cpus, m.after.preemptions), (2, 1), "{}", m.after);
    assert!(m.after.ops <= 5, "{}", m.after);
    let truncate = m.program.cpus.iter().position(|c| {
        c.contains(&Op::ShmemTruncate { file: 0 })
            || c.iter().any(|o| matches!(o, Op::ShmemTruncate { .. }))
    });
    let swapoff = m
        .program
        .cpus
        .iter()
        .position(|c| c.iter().any(|o| matches!(o, Op::Swapoff { .. })));
    assert!(
        truncate.is_some() && swapoff.is_some() && truncate != swapoff,
        "{}",
        m.program
    );
    // The one preemption switches away from the truncating CPU (task ids: main 0, CPUn n+1),
    // after __swap_entry_free() and before the access in swap_page_trans_huge_swapped().
    let (v, exec) = run_program(
        &m.program,
        ModelConfig {
            record: true,
            ..cfg
        },
        &m.schedule,
        &EngineConfig::default(),
    );
    let pre: Vec<_> = exec.decisions.iter().filter(|d| d.preemption).collect();
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0].previous, Some(truncate.unwrap() + 1));
    let Verdict::Bug(_, events) = v else {
        panic!("no bug")
    };
    use swapfuzz::model::world::EventKind::*;
    let cpu0 = truncate.unwrap();
    let calls: Vec<&str> = events
        .iter()
        .filter(|e| e.cpu == cpu0)
        .filter_map(|e| match &e.kind {
            Call(c) => Some(*c),
            _ => None,
        })
        .collect();
    let free = calls
        .iter()
        .position(|c| *c == "__swap_entry_free")
        .unwrap();
    let spths = calls
        .iter()
        .position(|c| *c == "swap_page_trans_huge_swapped")
        .unwrap();
    assert!(free < spths);
    // Replaying the minimised bytes gives the same bug on Buggy and none on Fixed.
    let fixed = ModelConfig {
        patches: PatchSet::fixed(),
        ..cfg
    };
    assert_eq!(
        run_program(&m.program, fixed, &m.schedule, &EngineConfig::default()).0,
        Verdict::Clean
    );
}

#[test]
fn triage_groups_by_signature_and_reports_what_does_not_reproduce() {
    quiet_panics();
    let dir = std::env::temp_dir().join(format!("swapfuzz-triage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, data) in [
        ("a", crash("shmem-truncate-null-swap_map.bin")),
        ("b", crash("shmem-truncate-null-swap_map.bin")),
        ("c", crash("shmem-truncate-null-swap-cache.bin")),
        ("empty", Vec::new()),
        ("clean", vec![0u8; 8]),
    ] {
        std::fs::write(dir.join(name), data).unwrap();
    }
    let t = triage_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(t.groups.len(), 2, "{t:?}");
    let counts: Vec<usize> = t.groups.iter().map(|g| g.files.len()).collect();
    assert!(counts.contains(&2) && counts.contains(&1));
    for g in &t.groups {
        // The seed race: v6.8 fails, the fixed kernel does not (a wrong example fix may).
        assert!(g.fails_on.contains(&(PatchSet::base(), true)), "{g:?}");
        assert!(
            g.fails_on.iter().all(|&(v, _)| v != PatchSet::fixed()),
            "{g:?}"
        );
    }
    assert_eq!(t.corrupt.len(), 1);
    assert_eq!(t.no_repro.len(), 1);
    assert!(t.to_json().contains("\"count\":2"));
}

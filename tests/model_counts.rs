//! Sequential programs (one CPU, so one schedule) through every count transition of
//! `__swap_entry_free_locked()` and `__swap_duplicate()`: PTE counts, fork's extra count,
//! `SWAP_MAP_SHMEM`, `SWAP_HAS_CACHE` pins, the slots cache, whole-cluster frees, swapoff and
//! swapon again. The end-of-run invariants (C1 count conservation, C2 cache pins, C3
//! inuse_pages, L2) are the oracle: each program must finish clean on v6.8 and on the fixed kernel.

use swapfuzz::check::run::{Verdict, run_program};
use swapfuzz::engine::{EngineConfig, quiet_panics};
use swapfuzz::model::{ModelConfig, PatchSet, Program};
use swapfuzz::program::text as scenario;

/// Runs the program of scenario text `text` (a set-up and cpu0) with an idle cpu1 beside it:
/// it must finish clean on v6.8 and on the fixed kernel.
fn clean(text: &str) {
    quiet_panics();
    let p = program(text);
    for variant in [PatchSet::base(), PatchSet::fixed()] {
        let cfg = ModelConfig {
            patches: variant,
            rcu_spinlocks: true,
            preemptible: true,
            record: false,
            all_points: false,
        };
        let (v, _) = run_program(&p, cfg, &[0xff; 64], &EngineConfig::default());
        assert_eq!(v, Verdict::Clean, "{variant:?}\n{p}");
    }
}

/// The program of `text` and an empty cpu1.
fn program(text: &str) -> Program {
    let mut p = scenario::parse(text).unwrap().program;
    assert_eq!(p.cpus.len(), 1, "{text}");
    p.cpus.push(vec![]);
    p
}

#[test]
fn anon_swap_out_fork_swap_in_and_exit() {
    clean(
        "\
setup:
  swapon
  mmap pages=2
cpu0:
  swapout mm=0 pte=0
  fork mm=0
  swapin mm=0 pte=0
  reclaim dev=0 offset=0
  exit mm=1
  exit mm=0
",
    );
}

#[test]
fn write_fault_frees_the_swap_cache() {
    clean(
        "\
setup:
  swapon
  mmap pages=4
cpu0:
  swapout mm=0 pte=0
  swapout mm=0 pte=1
  reclaim dev=0 offset=0
  swapin mm=0 pte=0 write
  swapin mm=0 pte=1 write
  zap mm=0 pte=2
",
    );
}

#[test]
fn large_folio_whole_cluster_free() {
    clean(
        "\
setup:
  swapon
  mmap huge
cpu0:
  swapout mm=0 pte=0
  zap mm=0 pte=1
  zap mm=0 pte=2
  exit mm=0
",
    );
}

#[test]
fn shmem_write_writepage_truncate_and_slots_cache() {
    clean(
        "\
setup:
  swapon
cpu0:
  shmem-write file=0 index=0
  shmem-write file=0 index=1
  shmem-write file=0 index=2
  shmem-writepage file=0 index=0
  shmem-writepage file=0 index=1
  shmem-writepage file=0 index=2
  reclaim dev=0 offset=0
  shmem-truncate file=0
",
    );
}

#[test]
fn swapoff_brings_everything_back_and_swapon_reuses_the_slot() {
    clean(
        "\
setup:
  swapon
  mmap pages=3
  shmem-write file=1 index=3
cpu0:
  swapout mm=0 pte=0
  fork mm=0
  shmem-writepage file=1 index=3
  swapoff dev=0
  swapon
  swapout mm=0 pte=1
  swapoff dev=0
  swapoff dev=0
",
    );
}

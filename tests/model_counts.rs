//! Sequential programs (one CPU, so one schedule) through every count transition of
//! `__swap_entry_free_locked()` and `__swap_duplicate()`: PTE counts, fork's extra count,
//! `SWAP_MAP_SHMEM`, `SWAP_HAS_CACHE` pins, the slots cache, whole-cluster frees, swapoff and
//! swapon again. The end-of-run invariants (C1 count conservation, C2 cache pins, C3
//! inuse_pages, L2) are the oracle: each program must finish clean on both variants.

use swapfuzz::check::run::{Verdict, run_program};
use swapfuzz::engine::{EngineConfig, quiet_panics};
use swapfuzz::model::{ModelConfig, Op, PatchSet, Program};

fn clean(setup: Vec<Op>, cpu: Vec<Op>) {
    quiet_panics();
    let p = Program {
        setup,
        cpus: vec![cpu, vec![]],
    };
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

use Op::*;

#[test]
fn anon_swap_out_fork_swap_in_and_exit() {
    clean(
        vec![
            Swapon,
            Mmap {
                pages: 1,
                huge: false,
            },
        ],
        vec![
            SwapOut { mm: 0, pte: 0 },
            Fork { mm: 0 },
            SwapIn {
                mm: 0,
                pte: 0,
                write: false,
            },
            Reclaim { dev: 0, offset: 0 },
            Exit { mm: 1 },
            Exit { mm: 0 },
        ],
    );
}

#[test]
fn write_fault_frees_the_swap_cache() {
    clean(
        vec![
            Swapon,
            Mmap {
                pages: 3,
                huge: false,
            },
        ],
        vec![
            SwapOut { mm: 0, pte: 0 },
            SwapOut { mm: 0, pte: 1 },
            Reclaim { dev: 0, offset: 0 },
            SwapIn {
                mm: 0,
                pte: 0,
                write: true,
            },
            SwapIn {
                mm: 0,
                pte: 1,
                write: true,
            },
            Zap { mm: 0, pte: 2 },
        ],
    );
}

#[test]
fn large_folio_whole_cluster_free() {
    clean(
        vec![
            Swapon,
            Mmap {
                pages: 0,
                huge: true,
            },
        ],
        vec![
            SwapOut { mm: 0, pte: 0 },
            Zap { mm: 0, pte: 1 },
            Zap { mm: 0, pte: 2 },
            Exit { mm: 0 },
        ],
    );
}

#[test]
fn shmem_write_writepage_truncate_and_slots_cache() {
    clean(
        vec![Swapon],
        vec![
            ShmemWrite { file: 0, index: 0 },
            ShmemWrite { file: 0, index: 1 },
            ShmemWrite { file: 0, index: 2 },
            ShmemWritepage { file: 0, index: 0 },
            ShmemWritepage { file: 0, index: 1 },
            ShmemWritepage { file: 0, index: 2 },
            Reclaim { dev: 0, offset: 0 },
            ShmemTruncate { file: 0 },
        ],
    );
}

#[test]
fn swapoff_brings_everything_back_and_swapon_reuses_the_slot() {
    clean(
        vec![
            Swapon,
            Mmap {
                pages: 2,
                huge: false,
            },
            ShmemWrite { file: 1, index: 3 },
        ],
        vec![
            SwapOut { mm: 0, pte: 0 },
            Fork { mm: 0 },
            ShmemWritepage { file: 1, index: 3 },
            Swapoff { dev: 0 },
            Swapon,
            SwapOut { mm: 0, pte: 1 },
            Swapoff { dev: 0 },
            Swapoff { dev: 0 },
        ],
    );
}

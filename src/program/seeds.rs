//! The three scenarios of the LKML thread (docs/model.md#the-three-races) as fixed programs.

use super::{Op, Program};

/// (c) Huang Ying's shmem race: a tmpfs page is in swap (`SWAP_MAP_SHMEM`) and its folio still
/// in the swap cache; CPU0 truncates the file while CPU1 runs swapoff.
pub fn shmem_truncate() -> Program {
    Program {
        setup: vec![
            Op::Swapon,
            Op::ShmemWrite { file: 0, index: 0 },
            Op::ShmemWritepage { file: 0, index: 0 },
        ],
        cpus: vec![
            vec![Op::ShmemTruncate { file: 0 }],
            vec![Op::Swapoff { dev: 0 }],
        ],
    }
}

/// (b) Huang Ying's 4K case: one PTE of a process holds the entry, the folio is still in the
/// swap cache, unmapped; CPU0's process exits (`zap_pte_range()` under the PTL) while CPU1 runs
/// swapoff.
pub fn zap_4k() -> Program {
    Program {
        setup: vec![
            Op::Swapon,
            Op::Mmap {
                pages: 0,
                huge: false,
            },
            Op::SwapOut { mm: 0, pte: 0 },
        ],
        cpus: vec![vec![Op::Exit { mm: 0 }], vec![Op::Swapoff { dev: 0 }]],
    }
}

/// (a) David Hildenbrand's large folio: a cluster-size folio in the swap cache whose subpage 0
/// is referenced only by process 0 and subpage 1 only by process 1; both exit on CPU0 and CPU1
/// while CPU2 runs swapoff.
pub fn thp_exit() -> Program {
    Program {
        setup: vec![
            Op::Swapon,
            Op::Mmap {
                pages: 0,
                huge: true,
            },
            Op::SwapOut { mm: 0, pte: 0 },
            Op::Fork { mm: 0 },
            Op::Zap { mm: 0, pte: 1 },
            Op::Zap { mm: 0, pte: 2 },
            Op::Zap { mm: 0, pte: 3 },
            Op::Zap { mm: 1, pte: 0 },
            Op::Zap { mm: 1, pte: 2 },
            Op::Zap { mm: 1, pte: 3 },
        ],
        cpus: vec![
            vec![Op::Exit { mm: 0 }],
            vec![Op::Exit { mm: 1 }],
            vec![Op::Swapoff { dev: 0 }],
        ],
    }
}

/// Every seed scenario by its name.
pub fn all() -> Vec<(&'static str, Program)> {
    vec![
        ("shmem-truncate", shmem_truncate()),
        ("thp-exit", thp_exit()),
        ("zap-4k", zap_4k()),
    ]
}

//! The operations of a program as the kernel sees them: each [`Op`] is a system call or a piece
//! of kernel activity (reclaim, an exiting process) that drives the model's kernel paths, on
//! one CPU. Choosing an operation's operands (which live process `mm=M` names) is the test
//! harness's own bookkeeping, done in one step with no scheduling point
//! ([`Kernel::harness_step`]).

use super::context::{Kernel, Touch};
use super::program::*;
use super::types::*;
use super::world::GhostPage;
use super::{madvise, memory, mincore, shmem, swapfile, vmscan};

fn alive_mm(k: &Kernel, mm: u8) -> Option<MmId> {
    k.harness_footprint(|w, fp| {
        fp.read(Touch::Mms);
        let alive: Vec<MmId> = w.mms.ids().filter(|&m| w.mms[m].alive).collect();
        (!alive.is_empty()).then(|| alive[mm as usize % alive.len()])
    })
}

/// The tmpfs file `file=F` names (every program has `NR_FILES`).
fn file_of(file: u8) -> InodeId {
    InodeId(file as usize % NR_FILES)
}

fn pte_of(k: &Kernel, mm: MmId, pte: u8) -> usize {
    k.harness_footprint(|w, fp| {
        fp.read(Touch::Mms);
        pte as usize % w.mms[mm].ptes.len()
    })
}

/// Runs one operation on CPU `k`.
pub fn run_op(k: &Kernel, op: &Op) {
    // Ghost state of invariant S3 is per operation: each obtains its own `si`.
    k.harness_footprint(|w, fp| {
        fp.write(Touch::SiGen(k.cpu));
        w.ghost.si_gen[k.cpu] = None
    });
    // A non-preemptible kernel: the system call or kernel activity is one RCU read-side section
    // but for its sleeps ([`Kernel::wait_event`]); returning to user space ends it.
    if !k.cfg().preemptible {
        k.with_no_point(|w| {
            w.rcu.read_lock(k.cpu);
            w.cpus[k.cpu].kernel_rcu = true;
        });
    }
    run_op_body(k, op);
    if !k.cfg().preemptible {
        k.with(|w| {
            w.cpus[k.cpu].kernel_rcu = false;
            w.rcu.read_unlock(k.cpu);
            if w.rcu.nesting(k.cpu) == 0 {
                w.wake_gp();
            }
        });
    }
}

fn run_op_body(k: &Kernel, op: &Op) {
    match *op {
        Op::Swapon => {
            let _ = swapfile::swapoff::swapon(k, false);
        }
        Op::Swapoff { dev } => {
            swapfile::swapoff::swapoff(k, SwapType(dev as usize % MAX_SWAPFILES));
        }
        Op::Mmap { pages, huge } => {
            let _f = k.enter_helper("mmap");
            k.harness_step(|w| {
                if w.mms.len() >= MAX_MMS {
                    return;
                }
                let n = if huge {
                    SWAPFILE_CLUSTER as usize
                } else {
                    1 + pages as usize % 4
                };
                let mut ptes = Vec::new();
                let mut pages = Vec::new();
                let mut last = None;
                for idx in 0..n {
                    // A large folio is mapped by all n PTEs; small ones by one each.
                    let folio = match last {
                        Some(f) if huge => f,
                        _ => w.folios.push(Folio {
                            nr: if huge { SWAPFILE_CLUSTER } else { 1 },
                            ..Default::default()
                        }),
                    };
                    last = Some(folio);
                    ptes.push(Pte::Present(folio));
                    // Invariant D1: each page starts with contents of its own.
                    let data = w.ghost.fresh_data();
                    let nr = w.folios[folio].nr;
                    w.folios[folio].data[folio_page_index(nr, idx)] = data;
                    pages.push(GhostPage {
                        expected: data,
                        installed_by: None,
                    });
                }
                w.ghost.pages.push(pages);
                for p in &ptes {
                    if let Pte::Present(f) = p {
                        w.folios[*f].mapcount += 1;
                    }
                }
                w.mms.push(Mm {
                    mm_users: 1,
                    alive: true,
                    ptes,
                    on_mmlist: false,
                });
            });
        }
        Op::Fork { mm } => {
            let Some(mm) = alive_mm(k, mm) else { return };
            if k.harness_step(|w| w.mms.len() < MAX_MMS) {
                let _f = k.enter("fork");
                memory::fork(k, mm);
            }
        }
        Op::SwapOut { mm, pte } => {
            let Some(mm) = alive_mm(k, mm) else { return };
            let idx = pte_of(k, mm, pte);
            if let Pte::Present(folio) = k.with(|w| w.mms[mm].ptes[idx]) {
                vmscan::swap_out(k, folio);
            }
        }
        Op::Reclaim { dev, offset } => {
            let folio = k.harness_step(|w| {
                let cached: Vec<FolioId> = w
                    .folios
                    .ids()
                    .filter(|&f| {
                        let f = &w.folios[f];
                        f.swapcache && f.swap.type_ == SwapType(dev as usize % MAX_SWAPFILES)
                    })
                    .collect();
                (!cached.is_empty()).then(|| cached[offset as usize % cached.len()])
            });
            if let Some(folio) = folio {
                vmscan::reclaim(k, folio);
            }
        }
        Op::SwapIn { mm, pte, write } => {
            let Some(mm) = alive_mm(k, mm) else { return };
            let idx = pte_of(k, mm, pte);
            memory::do_swap_page(k, mm, idx, write);
        }
        Op::Zap { mm, pte } => {
            let Some(mm) = alive_mm(k, mm) else { return };
            let idx = pte_of(k, mm, pte);
            let _f = k.enter("madvise_dontneed");
            memory::zap_pte_range(k, mm, idx, idx + 1);
        }
        Op::Exit { mm } => {
            let Some(mm) = alive_mm(k, mm) else { return };
            let _f = k.enter("do_exit");
            k.harness_footprint(|w, fp| {
                fp.write(Touch::Mms);
                w.mms[mm].alive = false
            });
            memory::mmput(k, mm);
        }
        Op::ShmemWrite { file, index } => {
            shmem::shmem_write(k, file_of(file), index as usize % FILE_PAGES);
        }
        Op::ShmemWritepage { file, index } => {
            shmem::shmem_writepage(k, file_of(file), index as usize % FILE_PAGES);
        }
        Op::ShmemTruncate { file } => {
            let _f = k.enter("shmem_truncate_range");
            shmem::shmem_undo_range(k, file_of(file));
        }
        Op::Mincore { file, index } => {
            mincore::mincore(k, file_of(file), index as usize % FILE_PAGES);
        }
        Op::ShmemRead { file, index } => {
            shmem::shmem_file_read_iter(k, file_of(file), index as usize % FILE_PAGES);
        }
        Op::Willneed { mm, pte } => {
            let Some(mm) = alive_mm(k, mm) else { return };
            let idx = pte_of(k, mm, pte);
            madvise::madvise_willneed(k, mm, idx);
        }
        Op::SwaponSync => {
            let _ = swapfile::swapoff::swapon(k, true);
        }
        Op::Read { mm, pte } => {
            let Some(mm) = alive_mm(k, mm) else { return };
            let idx = pte_of(k, mm, pte);
            memory::user_read(k, mm, idx);
        }
        Op::Write { mm, pte } => {
            let Some(mm) = alive_mm(k, mm) else { return };
            let idx = pte_of(k, mm, pte);
            memory::user_write(k, mm, idx);
        }
    }
}

//! Runs a [`Program`] as one shuttle execution: the set-up on the set-up CPU, then one shuttle
//! thread per CPU, then the end-of-run invariants. A detected bug stops the execution with a
//! [`BugPanic`] carrying the bug and the recorded events; [`Verdict::of`] reads it back.

use super::context::{Kernel, Shared};
use super::program::*;
use super::types::*;
use super::world::{Bug, Event, ModelConfig, World};
use super::{memory, shmem, swapfile, vmscan};

pub use super::context::BugPanic;

/// The model's verdict on one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No bug.
    Clean,
    /// A kernel bug, with the events recorded up to it.
    Bug(Box<Bug>, Vec<Event>),
    /// swapfuzz itself failed (a panic of the model or the engine, a step-bound overrun): never
    /// a kernel bug.
    Error(String),
}

impl Verdict {
    /// Reads the verdict off a finished engine execution.
    pub fn of(exec: &crate::engine::Execution) -> Verdict {
        use crate::engine::Outcome;
        match &exec.outcome {
            Outcome::Pass => Verdict::Clean,
            Outcome::Panic(msg) => match exec
                .payload
                .as_ref()
                .and_then(|p| p.downcast_ref::<BugPanic>())
            {
                Some(b) => Verdict::Bug(b.bug.clone(), b.events.clone()),
                None => Verdict::Error(format!("swapfuzz model panicked: {msg}")),
            },
            Outcome::Deadlock(m) => Verdict::Error(format!(
                "shuttle deadlock outside the model's detection: {m}"
            )),
            Outcome::StepBound(n) => {
                Verdict::Error(format!("execution exceeded {n} scheduling points"))
            }
            Outcome::EngineError(m) => Verdict::Error(format!("engine error: {m}")),
        }
    }

    /// The bug, if any.
    pub fn bug(&self) -> Option<&Bug> {
        match self {
            Verdict::Bug(b, _) => Some(b),
            _ => None,
        }
    }
}

/// Runs `program` once under the schedule bytes `schedule`.
pub fn run_program(
    program: &Program,
    cfg: ModelConfig,
    schedule: &[u8],
    engine: &crate::engine::EngineConfig,
) -> (Verdict, crate::engine::Execution) {
    let p = program.clone();
    let exec = crate::engine::run_once(schedule, engine, move || execute(&p, cfg));
    (Verdict::of(&exec), exec)
}

/// Runs `program` inside the current shuttle execution (call it from a shuttle test closure).
pub fn execute(program: &Program, cfg: ModelConfig) {
    execute_then(program, cfg, |_| {});
}

/// [`execute`], then `end` on the final state of a run that found no bug.
pub fn execute_then(program: &Program, cfg: ModelConfig, end: impl FnOnce(&World)) {
    let nr = program.cpus.len();
    let mut world = World::new(cfg, nr);
    world.inodes = vec![
        ShmemInode {
            i_pages: vec![ShmemSlot::None; FILE_PAGES],
            ..Default::default()
        };
        NR_FILES
    ];
    let shared = Shared::new(world);
    let setup = Kernel::new(shared.clone(), nr);
    for op in &program.setup {
        run_op(&setup, op);
    }
    let handles: Vec<_> = program
        .cpus
        .iter()
        .enumerate()
        .map(|(cpu, ops)| {
            let shared = shared.clone();
            let ops = ops.clone();
            shuttle::thread::Builder::new()
                .name(format!("CPU{cpu}"))
                .spawn(move || {
                    let k = Kernel::new(shared, cpu);
                    for (i, op) in ops.iter().enumerate() {
                        if i > 0 {
                            // Back in user space, then the next system call: a CPU can always
                            // be preempted here, and on a non-preemptible kernel this is a
                            // quiescent state that another CPU's grace period may end on.
                            crate::engine::point();
                        }
                        run_op(&k, op);
                    }
                    k.harness_step(|w| {
                        w.cpus[cpu].done = true;
                        w.report_if_stuck(cpu);
                    });
                })
                .expect("spawn")
        })
        .collect();
    for h in handles {
        // A CPU that stops on a bug fails the whole execution before join returns.
        let _ = h.join();
    }
    let mut w = shared.borrow_mut();
    super::invariants::check_end(&mut w);
    if w.bug.is_some() {
        BugPanic::raise(&mut w);
    }
    end(&w);
}

fn alive_mm(k: &Kernel, mm: u8) -> Option<usize> {
    k.harness_step(|w| {
        let alive: Vec<usize> = (0..w.mms.len()).filter(|&m| w.mms[m].alive).collect();
        (!alive.is_empty()).then(|| alive[mm as usize % alive.len()])
    })
}

fn pte_of(k: &Kernel, mm: usize, pte: u8) -> usize {
    k.harness_step(|w| pte as usize % w.mms[mm].ptes.len())
}

/// Runs one operation on CPU `k`.
pub fn run_op(k: &Kernel, op: &Op) {
    // Ghost state of invariant S3 is per operation: each obtains its own `si`.
    k.harness_step(|w| w.cpus[k.cpu].si_gen = None);
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
            let _ = swapfile::swapoff::swapon(k);
        }
        Op::Swapoff { dev } => {
            swapfile::swapoff::swapoff(k, dev as usize % MAX_SWAPFILES);
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
                for i in 0..n {
                    if huge && i > 0 {
                        ptes.push(Pte::Present(w.folios.len() - 1));
                        continue;
                    }
                    w.folios.push(Folio {
                        nr: if huge { SWAPFILE_CLUSTER } else { 1 },
                        ..Default::default()
                    });
                    ptes.push(Pte::Present(w.folios.len() - 1));
                }
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
                let cached: Vec<usize> = (0..w.folios.len())
                    .filter(|&f| {
                        let f = &w.folios[f];
                        f.swapcache && f.swap.type_ == dev as usize % MAX_SWAPFILES
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
            k.harness_step(|w| w.mms[mm].alive = false);
            memory::mmput(k, mm);
        }
        Op::ShmemWrite { file, index } => {
            shmem::shmem_write(k, file as usize % NR_FILES, index as usize % FILE_PAGES);
        }
        Op::ShmemWritepage { file, index } => {
            shmem::shmem_writepage(k, file as usize % NR_FILES, index as usize % FILE_PAGES);
        }
        Op::ShmemTruncate { file } => {
            let _f = k.enter("shmem_truncate_range");
            shmem::shmem_undo_range(k, file as usize % NR_FILES);
        }
    }
}

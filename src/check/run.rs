//! Runs a [`Program`] as one shuttle execution: the set-up on the set-up CPU, then one shuttle
//! thread per CPU, each running its operations ([`crate::model::syscalls::run_op`]), then the
//! end-of-run invariants. A detected bug stops the execution with a [`BugPanic`] carrying the
//! bug and the recorded events; [`Verdict::of`] reads it back.

use crate::model::context::{Kernel, Shared, Touch};
use crate::model::program::*;
use crate::model::syscalls::run_op;
use crate::model::types::*;
use crate::model::world::{Bug, Event, ModelConfig, World};

pub use crate::model::context::BugPanic;

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
    world.inodes = Table::filled(
        ShmemInode {
            i_pages: vec![ShmemSlot::None; FILE_PAGES],
            ..Default::default()
        },
        NR_FILES,
    );
    let shared = Shared::new(world);
    if crate::engine::state::wanted() {
        // The explorer's state cache: the world, each CPU's observations in it, determines
        // what every CPU does next (`CpuState::observed`).
        let s = shared.clone();
        crate::engine::state::provide(move || s.state_digest());
    }
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
                            k.between_operations(i);
                            crate::engine::point();
                        }
                        run_op(&k, op);
                    }
                    // The CPU's last step: it marks itself done and checks for a deadlock
                    // (every other CPU done or waiting), then its thread finishes. Only the
                    // main task joins it, in steps that declare nothing.
                    k.harness_footprint(|w, fp| {
                        fp.write(Touch::Done(cpu));
                        for c in 0..w.nr_cpus {
                            fp.read(Touch::Done(c));
                            fp.read(Touch::Waiting(c));
                        }
                        crate::engine::finishes_quietly();
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
    crate::model::invariants::check_end(&mut w);
    if w.bug.is_some() {
        BugPanic::raise(&mut w);
    }
    end(&w);
}

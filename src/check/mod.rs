//! Running programs and classifying the result: the layer between the model (the kernel) and
//! the tools that search ([`crate::fuzz`]) or explain ([`crate::triage`]).
//!
//! * [`run`]: one execution of a [`Program`](crate::model::Program) under a schedule, and its
//!   [`Verdict`](run::Verdict) (clean, a kernel bug, or an error of swapfuzz itself);
//! * [`steps`]: schedules stated the way commit messages state them ("cpu0 until after
//!   `__swap_entry_free`, then cpu1"), their scheduler, and the statement of recorded schedule
//!   bytes in steps;
//! * [`config`]: the one constructor of the model's switches.
//!
//! ```
//! use swapfuzz::check::{config, run::{Verdict, run_program}};
//! use swapfuzz::engine::EngineConfig;
//! use swapfuzz::model::PatchSet;
//! use swapfuzz::program::seeds;
//!
//! // The seed race's program, with no preemption: CPU0 truncates before CPU1's swapoff.
//! let cfg = config::model(PatchSet::fixed());
//! let (v, _) = run_program(&seeds::shmem_truncate(), cfg, &[0xFF; 64], &EngineConfig::default());
//! assert_eq!(v, Verdict::Clean);
//! ```

pub mod config;
pub mod run;
pub mod steps;

#[cfg(test)]
mod cache_audit;

//! The model: Linux v6.8's swap code as Rust run under shuttle, one file per kernel file, with
//! the kernel's function names and steps in the kernel's order. Each CPU is a shuttle thread;
//! every access to shared kernel state is a scheduling point ([`context::Kernel::with`]).
//!
//! Kernel primitives (locks, percpu_ref, RCU, KASAN) live in [`kernel`]; [`syscalls`] turns each
//! operation of a [`program::Program`] into the kernel paths it drives; a detected bug is a
//! [`world::Bug`]. Running a whole program is the next layer up, `crate::check`; the model
//! imports nothing of the crate but [`crate::engine`].

pub mod context;
pub mod events;
pub mod handle;
pub mod invariants;
pub mod kernel;
pub mod madvise;
pub mod memory;
pub mod mincore;
pub mod page_io;
pub mod patches;
pub mod program;
pub mod shmem;
pub mod swap_slots;
pub mod swap_state;
pub mod swapfile;
pub mod syscalls;
pub mod types;
pub mod vmscan;
pub mod world;

pub use patches::PatchSet;
pub use program::{Op, Program};
pub use world::{Bug, BugKind, ModelConfig};

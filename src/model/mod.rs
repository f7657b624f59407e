//! The model: Linux v6.8's swap code as Rust run under shuttle, one file per kernel file, with
//! the kernel's function names and steps in the kernel's order. Each CPU is a shuttle thread;
//! every access to shared kernel state is a scheduling point ([`context::Kernel::with`]).
//!
//! Kernel primitives (locks, percpu_ref, RCU, KASAN) live in [`kernel`]; [`harness`] runs a
//! [`program::Program`] and returns the detected [`world::Bug`].

pub mod context;
pub mod harness;
pub mod invariants;
pub mod kernel;
pub mod memory;
pub mod program;
pub mod schedule;
pub mod shmem;
pub mod swap_slots;
pub mod swap_state;
pub mod swapfile;
pub mod types;
pub mod vmscan;
pub mod world;

pub use program::{Op, Program};
pub use world::{Bug, BugKind, ModelConfig, Variant};

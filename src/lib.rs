//! swapfuzz: fuzzes operation sequences and thread schedules against an executable model of the
//! Linux swap subsystem (v6.8), to decide whether a suspected race is real and whether a patch
//! closes it.
//!
//! Three parts, kept apart:
//! - [`engine`]: a shuttle scheduler driven by bytes, trace recording, replay, bounded
//!   exploration. Generic over any shuttle test; it knows nothing of swap.
//! - [`model`]: the kernel's swap code, one Rust file per kernel file, kernel names.
//! - triage: reports and interleaving diagrams.
#![deny(missing_docs)]

pub mod cli;
pub mod engine;
pub mod fuzz;
pub mod model;
pub mod scenario;
pub mod triage;

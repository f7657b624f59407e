//! swapfuzz: fuzzes operation sequences and thread schedules against an executable model of the
//! Linux swap subsystem (v6.8), to decide whether a suspected race is real and whether a patch
//! closes it.
//!
//! Three parts, kept apart:
//! - [`engine`]: a shuttle scheduler driven by bytes, trace recording, replay, bounded
//!   exploration. Generic over any shuttle test; it knows nothing of swap.
//! - [`model`]: the kernel's swap code, one Rust file per kernel file, kernel names.
//! - triage: reports and interleaving diagrams.
//!
//! [`input_file`] decides whether an input file is a scenario or raw fuzz bytes, and
//! [`output_file`] writes results without losing or clobbering files.
#![deny(missing_docs)]

pub mod cli;
pub mod engine;
pub mod fuzz;
pub mod input_file;
pub mod model;
pub mod output_file;
pub mod scenario;
pub mod triage;

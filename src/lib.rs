//! swapfuzz: fuzzes operation sequences and thread schedules against an executable model of the
//! Linux swap subsystem (v6.8), to decide whether a suspected race is real and whether a patch
//! closes it.
//!
//! Parts, each using only those below it:
//! - [`cli`]: the command line.
//! - [`fuzz`] (generator, `hunt`, the libFuzzer oracle) and [`triage`] (reports, diagrams,
//!   minimisation, dedup).
//! - [`program`]: what a workload is: operations and programs, their byte and text codecs, the
//!   seed programs, and which input files are text or bytes.
//! - [`model`]: the kernel's swap code, one Rust file per kernel file, kernel names.
//! - [`engine`]: a shuttle scheduler driven by bytes, trace recording, replay, bounded
//!   exploration. Generic over any shuttle test; it knows nothing of swap.
//!
//! [`output_file`] writes results without losing or clobbering files.
#![deny(missing_docs)]

pub mod cli;
pub mod engine;
pub mod fuzz;
pub mod model;
pub mod output_file;
pub mod program;
pub mod triage;

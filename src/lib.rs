//! swapfuzz: fuzzes operation sequences and thread schedules against an executable model of the
//! Linux swap subsystem (v6.8), to decide whether a suspected race is real and whether a patch
//! closes it.
//!
//! Layers, each importing only those below it (docs/architecture.md):
//! - [`cli`]: the command line: parses arguments, calls the library, prints;
//! - [`fuzz`] and [`triage`]: searching for bugs; explaining them (reports, diagrams,
//!   signatures, minimisation);
//! - [`program`] and [`check`]: what a workload is (operations and programs, their byte and
//!   text codecs, the seed programs, input file kinds); running a program under a schedule
//!   and classifying the result;
//! - [`model`]: the kernel's swap code, one Rust file per kernel file, kernel names;
//! - [`engine`]: a schedule fuzzer and bounded explorer for any shuttle test; it knows nothing
//!   of swap.
//!
//! [`suite`] is a benchmark of classic concurrency bugs as shuttle tests (above [`engine`]
//! only). [`output_file`] writes results without losing or clobbering files.
#![deny(missing_docs)]

pub mod check;
pub mod cli;
pub mod engine;
pub mod fuzz;
pub mod kernel_repro;
pub mod model;
pub mod output_file;
pub mod program;
pub mod suite;
pub mod triage;

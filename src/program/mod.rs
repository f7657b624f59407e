//! Programs: the one operation vocabulary. What a workload for the model is ([`Op`],
//! [`Program`], the limits of a program), the table of operation kinds every codec reads
//! ([`ops`]), the byte codec of fuzz inputs ([`bytes`]), the text codec of scenario files
//! ([`text`]), the seed programs ([`seeds`]), and the rule that decides whether an input file
//! is text or bytes ([`mod@file`]).

pub mod bytes;
pub mod file;
pub mod ops;
pub mod seeds;
pub mod text;

pub use crate::model::program::{FILE_PAGES, MAX_MMS, NR_FILES};
pub use crate::model::{Op, Program};

/// Most CPUs.
pub const MAX_CPUS: usize = 4;
/// Most operations per CPU, and in the set-up.
pub const MAX_OPS: usize = 12;

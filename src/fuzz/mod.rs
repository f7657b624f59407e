//! Fuzzing: the biased generator and mutator of programs and schedules ([`generate`]), the
//! stand-alone search ([`mod@hunt`]), the oracle that libFuzzer targets call ([`oracle`]), and
//! "does this patch close it?" in one run ([`patch_check`]).
//!
//! All of them read and write one input format, [`crate::program::bytes`]: a reproducer from
//! `swapfuzz hunt`, a crash file of libFuzzer and a file of `corpus/` are the same kind of bytes.

pub mod bench;
pub mod generate;
pub mod hunt;
pub mod hunt_classic;
pub mod mutator;
pub mod oracle;
pub mod patch_check;
pub mod rng;

pub use hunt::{HuntOptions, HuntResult, Progress, hunt, hunt_jobs};

//! Fuzzing: the input format (bytes → program + schedule), the stand-alone search ([`hunt`]),
//! and the oracle that libFuzzer targets call ([`oracle`]).
//!
//! One input format serves all of them ([`input`]): a reproducer from `swapfuzz hunt`, a crash
//! file of libFuzzer and a file of `corpus/` are the same kind of bytes.

pub mod bench;
pub mod generate;
pub mod hunt;
pub mod oracle;
pub mod rng;

pub use hunt::{HuntOptions, HuntResult, Progress, hunt};

//! Fuzzing: the input format (bytes → program + schedule), the stand-alone search ([`hunt`]),
//! and the oracle that libFuzzer targets call ([`oracle`]).

pub mod generate;
pub mod hunt;
pub mod input;
pub mod rng;

pub use hunt::{HuntOptions, HuntResult, Progress, hunt};
pub use input::{Decoded, decode, encode};

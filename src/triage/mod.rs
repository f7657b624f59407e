//! Triage: what a kernel developer reads. KASAN-shaped reports ([`report`]) and interleaving
//! diagrams in the CPU0 | CPU1 columns of kernel commit messages ([`diagram`]).

pub mod dedup;
pub mod diagram;
pub mod explain;
pub mod minimize;
pub mod report;
pub mod reproduce;

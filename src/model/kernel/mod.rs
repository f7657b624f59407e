//! Kernel primitives the mm model needs, kept apart from the mm files: locks, percpu_ref with
//! its completion, RCU, and KASAN-tracked allocations.
//!
//! Each primitive here is a plain state machine; blocking and scheduling points are added by
//! [`crate::model::context::Kernel`], which owns the shared state of one execution.

pub mod kasan;
pub mod lock;
pub mod percpu_ref;
pub mod rcu;

/// A CPU of the model (a shuttle task running one operation list), numbered from 0.
pub type Cpu = usize;

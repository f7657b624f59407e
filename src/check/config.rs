//! The one constructor of the model's switches ([`ModelConfig`]): a kernel (v6.8 plus a set of
//! patches) with the defaults of the real kernel (spinlocks are RCU readers, preemptible),
//! changed by name.
//!
//! ```
//! use swapfuzz::check::config;
//! use swapfuzz::model::PatchSet;
//! let c = config::model(PatchSet::base()).rcu_spinlocks(false);
//! assert!(!c.rcu_spinlocks && c.preemptible && !c.record);
//! ```

use crate::model::{ModelConfig, PatchSet};

/// `patches` on the default kernel: spinlocks are RCU readers, preemptible, not recording.
pub fn model(patches: PatchSet) -> ModelConfig {
    ModelConfig {
        patches,
        ..ModelConfig::default()
    }
}

/// Changing one switch by name: `config::model(PatchSet::fixed()).rcu_spinlocks(false)`.
impl ModelConfig {
    /// *Spinlocks are RCU readers* on or off.
    pub fn rcu_spinlocks(self, on: bool) -> Self {
        ModelConfig {
            rcu_spinlocks: on,
            ..self
        }
    }

    /// A preemptible kernel (on) or PREEMPT_NONE (off).
    pub fn preemptible(self, on: bool) -> Self {
        ModelConfig {
            preemptible: on,
            ..self
        }
    }

    /// Record events for reports and diagrams.
    pub fn record(self, on: bool) -> Self {
        ModelConfig { record: on, ..self }
    }

    /// A scheduling point before every step (the reference for the scheduling-point tests).
    pub fn all_points(self, on: bool) -> Self {
        ModelConfig {
            all_points: on,
            ..self
        }
    }
}

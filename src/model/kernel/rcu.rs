//! RCU read-side sections and `synchronize_rcu()`.
//!
//! Models the consolidated RCU flavour (v5.0+): a CPU is a reader while its nesting count is
//! above zero; `rcu_read_lock()`, and, when the model's *spinlocks are RCU readers* switch is on,
//! every spinlock held, raise it. A grace period that starts at a snapshot ends once each CPU that
//! was a reader then has been seen outside any read-side section.

use super::Cpu;

/// Per-CPU nesting and quiescent-state counters.
#[derive(Debug, Clone, Default)]
pub struct Rcu {
    nest: Vec<u32>,
    /// Times each CPU left its outermost read-side section.
    qs: Vec<u64>,
}

/// The readers a `synchronize_rcu()` must wait for: (cpu, quiescent count at the snapshot).
#[derive(Debug, Clone, Default)]
pub struct GracePeriod {
    waiting_for: Vec<(Cpu, u64)>,
}

impl GracePeriod {
    /// The CPUs of the snapshot: [`Rcu::gp_done`] reads their counters and no other CPU's.
    pub fn readers(&self) -> impl Iterator<Item = Cpu> + '_ {
        self.waiting_for.iter().map(|&(c, _)| c)
    }
}

/// The state digest hashes the nesting only: the counters matter only as compared with the
/// snapshots of pending grace periods, which `World`'s digest adds ([`Rcu::gp_progress`]).
impl std::hash::Hash for Rcu {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.nest.hash(h);
    }
}

/// The state digest hashes the CPUs waited for; whether each has passed a quiescent state since
/// the snapshot is hashed with the counters, by `World` ([`Rcu::gp_progress`]).
impl std::hash::Hash for GracePeriod {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        for (c, _) in &self.waiting_for {
            c.hash(h);
        }
        self.waiting_for.len().hash(h);
    }
}

impl Rcu {
    /// For each CPU of `gp`'s snapshot, whether it has left its outermost read-side section
    /// since: all the counters say about the future (they only grow, and every use compares a
    /// counter with a snapshot of the same counter).
    pub fn gp_progress<'a>(&'a self, gp: &'a GracePeriod) -> impl Iterator<Item = bool> + 'a {
        gp.waiting_for.iter().map(|&(c, q)| self.qs[c] > q)
    }

    /// State for `nr_cpus` CPUs, none of them a reader.
    pub fn new(nr_cpus: usize) -> Self {
        Rcu {
            nest: vec![0; nr_cpus],
            qs: vec![0; nr_cpus],
        }
    }

    /// `rcu_read_lock()` (or an implicit reader such as a spinlock).
    pub fn read_lock(&mut self, cpu: Cpu) {
        self.nest[cpu] += 1;
    }

    /// `rcu_read_unlock()`; false if `cpu` was not a reader.
    pub fn read_unlock(&mut self, cpu: Cpu) -> bool {
        if self.nest[cpu] == 0 {
            return false;
        }
        self.nest[cpu] -= 1;
        if self.nest[cpu] == 0 {
            self.qs[cpu] += 1;
        }
        true
    }

    /// Read-side nesting of `cpu`.
    pub fn nesting(&self, cpu: Cpu) -> u32 {
        self.nest[cpu]
    }

    /// Times `cpu` left its outermost read-side section.
    pub fn quiescent_states(&self, cpu: Cpu) -> u64 {
        self.qs[cpu]
    }

    /// Starts a grace period for `caller` (`synchronize_rcu()`'s snapshot).
    pub fn start_gp(&self, caller: Cpu) -> GracePeriod {
        GracePeriod {
            waiting_for: (0..self.nest.len())
                .filter(|&c| c != caller && self.nest[c] > 0)
                .map(|c| (c, self.qs[c]))
                .collect(),
        }
    }

    /// Whether every reader of the snapshot has passed a quiescent state.
    pub fn gp_done(&self, gp: &GracePeriod) -> bool {
        gp.waiting_for
            .iter()
            .all(|&(c, q)| self.nest[c] == 0 || self.qs[c] > q)
    }

    /// CPUs the grace period still waits for.
    pub fn gp_blockers(&self, gp: &GracePeriod) -> Vec<Cpu> {
        gp.waiting_for
            .iter()
            .filter(|&&(c, q)| !(self.nest[c] == 0 || self.qs[c] > q))
            .map(|&(c, _)| c)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(r: &Rcu, gp: &GracePeriod) -> u128 {
        crate::engine::state::digest_of(&(r, gp, r.gp_progress(gp).collect::<Vec<_>>()))
    }

    #[test]
    fn the_digest_keeps_a_grace_periods_progress_not_the_counts() {
        // CPU1 leaves three read-side sections in one run and one in another, then is a
        // reader when CPU2's grace period starts in both.
        let (mut a, mut b) = (Rcu::new(3), Rcu::new(3));
        for _ in 0..3 {
            a.read_lock(1);
            assert!(a.read_unlock(1));
        }
        b.read_lock(1);
        assert!(b.read_unlock(1));
        a.read_lock(1);
        b.read_lock(1);
        let (ga, gb) = (a.start_gp(2), b.start_gp(2));
        assert_ne!(ga.waiting_for, gb.waiting_for);
        assert_eq!(digest(&a, &ga), digest(&b, &gb));
        // CPU1 leaves its section in one run only: the grace period is done there, not here.
        assert!(a.read_unlock(1));
        assert_ne!(digest(&a, &ga), digest(&b, &gb));
        assert!(a.gp_done(&ga) && !b.gp_done(&gb));
        // ... and re-entering does not undo the progress.
        a.read_lock(1);
        assert!(a.gp_done(&ga));
        assert!(b.read_unlock(1));
        b.read_lock(1);
        assert_eq!(digest(&a, &ga), digest(&b, &gb));
    }

    #[test]
    fn grace_period_waits_only_for_preexisting_readers() {
        let mut r = Rcu::new(3);
        r.read_lock(0);
        let gp = r.start_gp(2);
        assert!(!r.gp_done(&gp));
        r.read_lock(1); // a new reader is not waited for
        r.read_lock(0); // nested
        assert!(r.read_unlock(0));
        assert!(!r.gp_done(&gp));
        assert!(r.read_unlock(0));
        assert!(r.gp_done(&gp));
        // re-entering after a quiescent state does not block the old grace period
        r.read_lock(0);
        assert!(r.gp_done(&gp));
        assert_eq!(r.gp_blockers(&r.start_gp(2)), vec![0, 1]);
        assert!(!Rcu::new(1).clone().read_unlock(0));
    }
}

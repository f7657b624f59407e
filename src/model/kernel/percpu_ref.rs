//! `struct percpu_ref` and `struct completion`, as used for `si->users` / `si->comp`.
//!
//! Models lib/percpu-refcount.c (v6.8) by its linearisable meaning: the per-CPU/atomic mode
//! switch is not modelled, because a tryget that raced with the kill is still counted in the
//! kernel (the switch waits a grace period before summing), so the counts below are exact.

/// A percpu reference count: `live` until killed, `count` includes the base reference.
#[derive(Debug, Clone, Default, Hash)]
pub struct PercpuRef {
    /// Not yet killed (`percpu_ref_is_dying()` is false).
    pub live: bool,
    /// Number of references, the base one included while live.
    pub count: u32,
}

impl PercpuRef {
    /// `percpu_ref_init(.., PERCPU_REF_INIT_DEAD)`: dead with no references.
    pub fn init_dead() -> Self {
        PercpuRef {
            live: false,
            count: 0,
        }
    }

    /// `percpu_ref_tryget_live()`: takes a reference only while live.
    pub fn tryget_live(&mut self) -> bool {
        if self.live {
            self.count += 1;
            true
        } else {
            false
        }
    }

    /// `percpu_ref_put()`: returns true when this put released the ref (release callback runs).
    /// `Err` if the count would underflow (invariant R1).
    pub fn put(&mut self) -> Result<bool, &'static str> {
        if self.count == 0 {
            return Err("percpu_ref_put() with count 0");
        }
        self.count -= 1;
        Ok(self.count == 0 && !self.live)
    }

    /// `percpu_ref_kill()`: marks dead and drops the base reference; true if that released it.
    pub fn kill(&mut self) -> Result<bool, &'static str> {
        if !self.live {
            return Err("percpu_ref_kill() on a dead ref");
        }
        self.live = false;
        self.put()
    }

    /// `percpu_ref_resurrect()`: live again with the base reference.
    pub fn resurrect(&mut self) -> Result<(), &'static str> {
        if self.live || self.count != 0 {
            return Err("percpu_ref_resurrect() on a live or busy ref");
        }
        self.live = true;
        self.count = 1;
        Ok(())
    }
}

/// `struct completion`: `done` once `complete()` ran since `init_completion()`.
#[derive(Debug, Clone, Default, Hash)]
pub struct Completion {
    /// `complete()` has run.
    pub done: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_of_si_users() {
        let mut r = PercpuRef::init_dead();
        assert!(!r.tryget_live());
        r.resurrect().unwrap();
        assert!(r.tryget_live()); // get_swap_device()
        assert_eq!(r.kill(), Ok(false)); // swapoff: still one user
        assert!(!r.tryget_live()); // R1: no tryget after kill
        assert_eq!(r.put(), Ok(true)); // put_swap_device(): release -> complete()
        assert!(r.put().is_err());
        r.resurrect().unwrap(); // swapon again
        assert_eq!(r.kill(), Ok(true));
        assert!(r.kill().is_err());
    }
}

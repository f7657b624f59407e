//! The current CPU: the handle every model function takes first, like the kernel's implicit
//! `current`. It owns the only way to touch the shared [`World`]: [`Kernel::with`], a scheduling
//! point followed by one kernel-visible access; and it blocks CPUs on locks, completions and
//! grace periods.

use std::cell::RefCell;
use std::sync::Arc;

use super::kernel::Cpu;
use super::kernel::lock::LockId;
use super::types::Object;
use super::world::{BugKind, EventKind, WaitFor, World};

static DEBUG: once_cell::sync::Lazy<bool> =
    once_cell::sync::Lazy::new(|| std::env::var_os("SWAPFUZZ_DEBUG").is_some());

/// The [`World`] of one execution, shared by its CPUs.
pub struct Shared(RefCell<World>);

// SAFETY: shuttle runs every task of an execution as a coroutine on the one OS thread that
// called `Runner::run`, and the World is created inside the execution, so it is never touched
// from two OS threads. Borrows never span a scheduling point (`Kernel::with` releases the
// borrow before it returns), which the RefCell checks at run time.
unsafe impl Sync for Shared {}
// SAFETY: as above; the value moves only between coroutines of one OS thread.
unsafe impl Send for Shared {}

impl Shared {
    /// Wraps a world for sharing.
    pub fn new(w: World) -> Arc<Self> {
        Arc::new(Shared(RefCell::new(w)))
    }

    /// Direct access without a scheduling point (set-up and end-of-run checks only).
    pub fn borrow_mut(&self) -> std::cell::RefMut<'_, World> {
        self.0.borrow_mut()
    }
}

/// The panic payload with which a CPU stops when the model detects a bug: the report's title,
/// the bug, and the events recorded up to it.
#[derive(Debug)]
pub struct BugPanic {
    /// [`super::world::Bug::title`].
    pub title: String,
    /// The bug.
    pub bug: Box<super::world::Bug>,
    /// Events recorded so far (empty unless recording).
    pub events: Vec<super::world::Event>,
}

impl BugPanic {
    /// Takes the bug out of `w` and stops the current CPU with it.
    pub fn raise(w: &mut World) -> ! {
        let bug = Box::new(w.bug.clone().expect("a bug was reported"));
        let events = std::mem::take(&mut w.events);
        std::panic::panic_any(BugPanic {
            title: bug.title(),
            bug,
            events,
        })
    }
}

/// A CPU running model code.
pub struct Kernel {
    shared: Arc<Shared>,
    /// This CPU's number.
    pub cpu: Cpu,
    /// Where this CPU sleeps while blocked: a message arrives when it is woken. (shuttle's
    /// `park()` may wake spuriously at any time, which would let a blocked CPU spin.)
    wakeup: shuttle::sync::mpsc::Receiver<()>,
}

/// A frame of the model call stack; pops itself when dropped.
pub struct Frame<'a> {
    k: &'a Kernel,
}

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        // During a panic the world may be borrowed by the panicking access; then skip.
        if let Ok(mut w) = self.k.shared.0.try_borrow_mut() {
            w.cpus[self.k.cpu].stack.pop();
        }
    }
}

impl Kernel {
    /// The handle of `cpu` on `shared`; registers the CPU's wake-up channel.
    pub fn new(shared: Arc<Shared>, cpu: Cpu) -> Self {
        let (tx, wakeup) = shuttle::sync::mpsc::channel();
        shared.0.borrow_mut().cpus[cpu].waker = Some(tx);
        Kernel {
            shared,
            cpu,
            wakeup,
        }
    }

    /// One kernel-visible access: a scheduling point, then `f` on the world. If `f` reported a
    /// bug, this CPU stops here (a panic that the harness turns into the report).
    pub fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        crate::engine::point();
        self.with_no_point(f)
    }

    /// Like [`Kernel::with`] without the scheduling point: for steps that touch only this CPU's
    /// own state (its stack, its ghost state) or that directly follow an access to the same
    /// object under the same lock.
    pub fn with_no_point<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let (r, wake) = {
            let mut w = self.shared.0.borrow_mut();
            w.step += 1;
            let r = f(&mut w);
            if w.bug.is_some() {
                BugPanic::raise(&mut w);
            }
            let wake = std::mem::take(&mut w.pending_wake);
            let wake: Vec<_> = wake
                .into_iter()
                .filter_map(|c| w.cpus[c].waker.clone())
                .collect();
            (r, wake)
        };
        for t in wake {
            let _ = t.send(());
        }
        r
    }

    /// Enters model function `name` (pushes it on this CPU's call stack; recorded).
    pub fn enter(&self, name: &'static str) -> Frame<'_> {
        let mut w = self.shared.0.borrow_mut();
        w.cpus[self.cpu].stack.push(name);
        if *DEBUG {
            eprintln!(
                "[{}] CPU{} {}{}",
                w.step,
                self.cpu,
                "  ".repeat(w.cpus[self.cpu].stack.len()),
                name
            );
        }
        w.record(self.cpu, EventKind::Call(name));
        Frame { k: self }
    }

    /// Records a `/* comment */` for the diagram; `f` runs only when recording.
    pub fn note(&self, f: impl FnOnce(&World) -> String) {
        let mut w = self.shared.0.borrow_mut();
        if w.cfg.record {
            let s = f(&w);
            w.record(self.cpu, EventKind::Note(s));
        }
    }

    /// Reads the switches (no scheduling point: they never change during a run).
    pub fn cfg(&self) -> super::world::ModelConfig {
        self.shared.0.borrow().cfg
    }

    /// Blocks until `cond` holds (checked under a scheduling point each time); `cond` may
    /// change state when it returns true (e.g. take the lock).
    pub fn wait_event(&self, why: WaitFor, mut cond: impl FnMut(&mut World, Cpu) -> bool) {
        let cpu = self.cpu;
        loop {
            let ok = self.with(|w| {
                if cond(w, cpu) {
                    w.cpus[cpu].waiting = None;
                    true
                } else {
                    w.cpus[cpu].waiting = Some(why);
                    false
                }
            });
            if ok {
                return;
            }
            if *DEBUG {
                let w = self.shared.0.borrow();
                let nest: Vec<u32> = (0..=w.nr_cpus).map(|c| w.rcu.nesting(c)).collect();
                let waits: Vec<_> = w.cpus.iter().map(|c| (c.waiting, c.done)).collect();
                eprintln!("[park] CPU{cpu} for {why:?} nest {nest:?} {waits:?}");
            }
            // Sleeping is a quiescent state of a non-preemptible kernel's implicit RCU section
            // (spinning on a spinlock is not).
            let sleeps = !matches!(why, WaitFor::Lock(l) if !l.sleeps());
            let quiesced = sleeps
                && self.with_no_point(|w| {
                    if !w.cpus[cpu].kernel_rcu {
                        return false;
                    }
                    // Wake other grace-period waiters, not this CPU (it waits too).
                    let mine = w.cpus[cpu].waiting.take();
                    w.rcu.read_unlock(cpu);
                    if w.rcu.nesting(cpu) == 0 {
                        w.wake_gp();
                    }
                    w.cpus[cpu].waiting = mine;
                    true
                });
            self.with_no_point(|w| {
                // Nobody left to wake us: every other CPU is done or parked.
                let stuck = (0..w.nr_cpus).all(|c| w.cpus[c].done || w.cpus[c].waiting.is_some());
                if cpu < w.nr_cpus && stuck {
                    let detail: Vec<String> = (0..w.nr_cpus)
                        .filter_map(|c| {
                            let s = &w.cpus[c];
                            let why = s.waiting?;
                            Some(format!(
                                "CPU{c} waits for {why:?} in {}",
                                s.stack.join(" > ")
                            ))
                        })
                        .collect();
                    w.report(Some(cpu), BugKind::Deadlock(detail.join("; ")));
                }
            });
            let _ = self.wakeup.recv();
            if quiesced {
                self.with_no_point(|w| w.rcu.read_lock(cpu));
            }
        }
    }

    fn check_lock_memory(w: &mut World, cpu: Cpu, id: LockId) -> bool {
        if let LockId::Cluster { alloc, idx } = id {
            return access(w, cpu, Some(alloc), idx, true, "ci->lock").is_some();
        }
        true
    }

    /// `spin_lock()`: with *spinlocks are RCU readers* on, the CPU is an RCU reader from the
    /// `preempt_disable()` that precedes the spinning until the unlock.
    pub fn spin_lock(&self, id: LockId) {
        let rcu = self.cfg().rcu_spinlocks;
        if rcu {
            self.with_no_point(|w| w.rcu.read_lock(self.cpu));
        }
        self.wait_event(WaitFor::Lock(id), |w, cpu| {
            Self::check_lock_memory(w, cpu, id) && w.locks.try_acquire(id, cpu)
        });
    }

    /// `spin_unlock()`.
    pub fn spin_unlock(&self, id: LockId) {
        let rcu = self.cfg().rcu_spinlocks;
        self.with(|w| {
            if !Self::check_lock_memory(w, self.cpu, id) {
                return;
            }
            if !w.locks.release(id, self.cpu) {
                w.report(
                    Some(self.cpu),
                    BugKind::KernelBug(format!("unlock of {} not held", id.kernel_name())),
                );
                return;
            }
            w.wake(WaitFor::Lock(id));
            if let LockId::SiLock(t) = id {
                super::invariants::check_inuse_pages(w, self.cpu, t);
            }
            if rcu {
                self.rcu_unlock_in(w);
            }
        });
    }

    fn rcu_unlock_in(&self, w: &mut World) {
        w.rcu.read_unlock(self.cpu);
        if w.rcu.nesting(self.cpu) == 0 {
            w.wake_gp();
        }
    }

    /// `mutex_lock()` / `folio_lock()`: a sleeping lock. Sleeping inside a spinlock or RCU
    /// section is a bug ("sleeping function called from invalid context").
    pub fn mutex_lock(&self, id: LockId) {
        self.might_sleep();
        self.wait_event(WaitFor::Lock(id), |w, cpu| w.locks.try_acquire(id, cpu));
    }

    /// `folio_trylock()` / `mutex_trylock()`.
    pub fn trylock(&self, id: LockId) -> bool {
        self.with(|w| w.locks.try_acquire(id, self.cpu))
    }

    /// `mutex_unlock()` / `folio_unlock()`.
    pub fn mutex_unlock(&self, id: LockId) {
        self.with(|w| {
            if !w.locks.release(id, self.cpu) {
                w.report(
                    Some(self.cpu),
                    BugKind::KernelBug(format!("unlock of {} not held", id.kernel_name())),
                );
            }
            w.wake(WaitFor::Lock(id));
        });
    }

    /// `might_sleep()`: invariant L1.
    pub fn might_sleep(&self) {
        self.with_no_point(|w| {
            let spin: Vec<_> = w.locks.held_by(self.cpu).filter(|l| !l.sleeps()).collect();
            let implicit = u32::from(w.cpus[self.cpu].kernel_rcu);
            if !spin.is_empty() || w.rcu.nesting(self.cpu) > implicit {
                w.report(
                    Some(self.cpu),
                    BugKind::Invariant {
                        id: "L1",
                        detail: format!(
                            "sleeping function called from invalid context (holding {:?})",
                            spin.iter().map(|l| l.kernel_name()).collect::<Vec<_>>()
                        ),
                    },
                );
            }
        });
    }

    /// `rcu_read_lock()`.
    pub fn rcu_read_lock(&self) {
        self.with_no_point(|w| w.rcu.read_lock(self.cpu));
    }

    /// `rcu_read_unlock()`.
    pub fn rcu_read_unlock(&self) {
        self.with(|w| self.rcu_unlock_in(w));
    }

    /// `synchronize_rcu()`: waits for every reader that was inside a read-side section when it
    /// started.
    pub fn synchronize_rcu(&self) {
        let _f = self.enter("synchronize_rcu");
        self.might_sleep();
        let gp = self.with(|w| {
            let gp = w.rcu.start_gp(self.cpu);
            w.cpus[self.cpu].gp = Some(gp.clone());
            gp
        });
        self.wait_event(WaitFor::GracePeriod, |w, _| w.rcu.gp_done(&gp));
        self.with_no_point(|w| w.cpus[self.cpu].gp = None);
    }
}

/// Checks a byte-granular access by `cpu` to `ptr[idx]` (element `idx` of a tracked object) and
/// reports a bad one. Returns the allocation when the access is good.
pub fn access(
    w: &mut World,
    cpu: Cpu,
    ptr: Option<usize>,
    idx: usize,
    write: bool,
    expr: &'static str,
) -> Option<usize> {
    let elem = |p: usize, w: &World| match &w.heap.get(p).data {
        Object::SwapMap(_) => 1,
        Object::ClusterInfo(_) => 8,
        Object::SwapSpace(_) => 8,
    };
    // Through NULL the object is unknown: its element size follows from the expression.
    let null_size = if expr.contains("swap_map") { 1 } else { 8 };
    let size = ptr.map(|p| elem(p, w)).unwrap_or(null_size);
    match w.heap.check(ptr, idx * size, size, write) {
        Ok(()) => {
            let p = ptr.expect("checked");
            super::invariants::check_generation(w, cpu, p);
            Some(p)
        }
        Err(bad) => {
            let (object, allocated_by, freed_by) = match bad.alloc {
                Some(p) => {
                    let a = w.heap.get(p);
                    (a.name, Some(a.allocated_by.clone()), a.freed_by.clone())
                }
                None => (expr, None, None),
            };
            w.report(
                Some(cpu),
                BugKind::BadAccess {
                    bad,
                    expr,
                    object,
                    allocated_by,
                    freed_by,
                },
            );
            None
        }
    }
}

//! The current CPU: the handle every model function takes first, like the kernel's implicit
//! `current`. It owns the only way to touch the shared [`World`]: [`Kernel::with`], a scheduling
//! point followed by one kernel-visible access; and it blocks CPUs on locks, completions and
//! grace periods.

use std::cell::RefCell;
use std::hash::Hash;
use std::sync::Arc;

use super::handle::{InodeId, MmId, SwapType};
use super::kernel::Cpu;
use super::kernel::lock::LockId;
use super::types::{FolioId, Object};
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

    /// The digest of the world for the explorer's state cache ([`crate::engine::state`]): every
    /// field but the trace, each CPU's observations included (`None` while a step holds it).
    pub fn state_digest(&self) -> Option<u128> {
        let w = self.0.try_borrow().ok()?;
        Some(crate::engine::state::digest_of(&*w))
    }

    /// Direct access without a scheduling point (set-up and end-of-run checks only).
    pub fn borrow_mut(&self) -> std::cell::RefMut<'_, World> {
        self.0.borrow_mut()
    }
}

/// The panic payload with which a CPU stops when the model detects a bug: the bug, and the
/// events recorded up to it.
#[derive(Debug, Hash)]
pub struct BugPanic {
    /// The bug.
    pub bug: Box<super::world::Bug>,
    /// Events recorded so far (empty unless recording).
    pub events: Vec<super::world::Event>,
}

impl BugPanic {
    /// Takes the bug out of `w` and stops the current CPU with it.
    pub fn raise(w: &mut World) -> ! {
        let bug = Box::new(w.bug.clone().expect("a bug was reported"));
        let events = std::mem::take(&mut w.trace.events);
        std::panic::panic_any(BugPanic { bug, events })
    }
}

/// A CPU running model code.
pub struct Kernel {
    shared: Arc<Shared>,
    /// This CPU's number.
    pub cpu: Cpu,
    /// [`ModelConfig::all_points`](super::world::ModelConfig::all_points): every step is a
    /// scheduling point, [`Kernel::with_no_point`] included (the reference for the reduction).
    all_points: bool,
    /// Keep this CPU's observations (`CpuState::observed`): an exploration caches states.
    observe: bool,
}

/// A frame of the model call stack; pops itself when dropped.
pub struct Frame<'a> {
    k: &'a Kernel,
}

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        // During a panic the world may be borrowed by the panicking access; then skip.
        if let Ok(mut w) = self.k.shared.0.try_borrow_mut()
            && let Some(name) = w.cpus[self.k.cpu].stack.pop()
        {
            super::events::note(self.k.cpu, name, true);
        }
    }
}

impl Kernel {
    /// The handle of `cpu` on `shared`, for the running task (which [`Kernel::wait_event`]
    /// puts to sleep and other CPUs wake).
    pub fn new(shared: Arc<Shared>, cpu: Cpu) -> Self {
        let all_points = {
            let mut w = shared.0.borrow_mut();
            w.cpus[cpu].waker = Some(crate::engine::current_task());
            w.cfg.all_points
        };
        Kernel {
            shared,
            cpu,
            all_points,
            observe: crate::engine::state::wanted(),
        }
    }

    /// One step that another CPU can observe: a scheduling point, then `f` on the world. If `f`
    /// reported a bug, this CPU stops here (a panic that the harness turns into the report).
    ///
    /// Where the points go (docs/scheduling-points.md): before every step that reads or writes
    /// state another CPU reads or writes — kernel data, locks, and per-CPU state that other CPUs
    /// read, such as RCU read-side nesting (`synchronize_rcu()` reads it).
    #[track_caller]
    pub fn with<R: Hash>(&self, f: impl FnOnce(&mut World) -> R + Copy) -> R {
        self.step(true, f)
    }

    /// Like [`Kernel::with`] without the scheduling point, merging `f` into the previous step:
    /// only for steps that touch nothing another CPU reads or writes (this CPU's call stack, its
    /// ghost state for invariants) or that run right after a point of their own (the first step
    /// of an operation). With [`ModelConfig::all_points`](super::world::ModelConfig::all_points)
    /// it is a point too, which `tests/scheduling_points.rs` uses to check that the merging
    /// loses no outcome.
    #[track_caller]
    pub fn with_no_point<R: Hash>(&self, f: impl FnOnce(&mut World) -> R + Copy) -> R {
        self.step(self.all_points, f)
    }

    /// A step of the test harness, not of the kernel: choosing an operation's operands (which
    /// live process `mm=M` names), creating a process, marking a CPU done. It is merged into the
    /// previous step even with `all_points`, so that an operation's operands are chosen and
    /// claimed at once (two `exit mm=0` never pick the same process). The harness puts a
    /// scheduling point before each operation.
    #[track_caller]
    pub fn harness_step<R: Hash>(&self, f: impl FnOnce(&mut World) -> R + Copy) -> R {
        self.step(false, f)
    }

    /// One step: optionally a scheduling point, then `f`, then the wake-ups `f` asked for (with
    /// no scheduling point: [`crate::engine::wake`]).
    #[track_caller]
    fn step<R: Hash>(&self, point: bool, f: impl FnOnce(&mut World) -> R) -> R {
        self.step_on(point, false, |w, _| f(w))
    }

    /// [`Kernel::with`] for a step whose footprint `f` declares completely on the
    /// [`Footprint`] (every piece of World state it reads or writes, see [`Touch`]); the
    /// partial-order reduction of `verify` relies on it. Declared only where audited.
    #[track_caller]
    fn with_on<R: Hash>(
        &self,
        declared: bool,
        f: impl FnOnce(&mut World, &mut Footprint) -> R,
    ) -> R {
        self.step_on(true, declared, f)
    }

    /// [`Kernel::with`] for a step whose footprint `f` declares on the [`Footprint`]: every
    /// piece of World state it reads or writes, as [`Touch`]es (audited: a piece left out can
    /// make `verify --reduction` miss a bug). `f` may call [`Footprint::unknown`] where it
    /// cannot say.
    #[track_caller]
    pub fn with_footprint<R: Hash>(
        &self,
        f: impl FnOnce(&mut World, &mut Footprint) -> R + Copy,
    ) -> R {
        self.with_on(true, f)
    }

    /// [`Kernel::with_no_point`] for a step whose footprint `f` declares (as
    /// [`Kernel::with_footprint`]); it joins the footprint of the step it is merged into.
    #[track_caller]
    pub fn with_no_point_footprint<R: Hash>(
        &self,
        f: impl FnOnce(&mut World, &mut Footprint) -> R + Copy,
    ) -> R {
        self.step_on(self.all_points, true, f)
    }

    /// [`Kernel::harness_step`] for a step whose footprint `f` declares (as
    /// [`Kernel::with_footprint`]).
    #[track_caller]
    pub fn harness_footprint<R: Hash>(
        &self,
        f: impl FnOnce(&mut World, &mut Footprint) -> R + Copy,
    ) -> R {
        self.step_on(false, true, f)
    }

    /// A step, with or without a point, with or without a declared footprint.
    ///
    /// Annotations ([`crate::engine::access`]) describe a whole step, from its scheduling point
    /// to the next. A step with a point and no declaration is unannotated (unknown to the
    /// reduction: dependent on every step). A step merged into the previous one (no point)
    /// that declares nothing makes that step unknown ([`crate::engine::unknown`]): an access
    /// the declaration of the step it joins does not cover. Nothing is declared while events
    /// are recorded (the event log is shared and ordered), nor for a step that wakes a CPU
    /// (enabling a task is a dependence; the engine would see it too).
    ///
    /// Not declared and not needed: the step counter `trace.step` (read only for diagnostics:
    /// event and bug step numbers), this CPU's call stack and the progress log of
    /// [`super::events`] (diagnostics and search feedback), the switches.
    #[track_caller]
    fn step_on<R: Hash>(
        &self,
        point: bool,
        declared: bool,
        f: impl FnOnce(&mut World, &mut Footprint) -> R,
    ) -> R {
        if point {
            crate::engine::point();
        }
        let mut w = self.shared.0.borrow_mut();
        w.trace.step += 1;
        let recording = crate::engine::recording();
        let on = declared && !w.cfg.record && recording;
        let mut fp = Footprint { on, writes: None };
        if !point && !fp.on && recording {
            crate::engine::unknown();
        }
        if !fp.on && self.cpu < w.nr_cpus && recording {
            note_undeclared(std::panic::Location::caller());
        }
        let before = (on && CHECK_FOOTPRINTS.with(std::cell::Cell::get)).then(|| {
            fp.writes = Some(Vec::new());
            pieces(&w)
        });
        let r = f(&mut w, &mut fp);
        if self.observe {
            // What this CPU learnt from the step (the state cache's digest of where it is).
            let c = &mut w.cpus[self.cpu];
            c.observed = crate::engine::state::chain(c.observed, &r);
        }
        // A step that reported a bug ends the run; one that declared itself unknown or woke a
        // CPU (unknown too) may write anything.
        if let Some(before) = before
            && let Some(writes) = &fp.writes
            && w.bug.is_none()
            && w.cpus.pending_wake.is_empty()
        {
            check_writes(&before, &pieces(&w), writes);
            FOOTPRINT_CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if w.bug.is_some() {
            BugPanic::raise(&mut w);
        }
        if fp.on && !w.cpus.pending_wake.is_empty() {
            crate::engine::unknown();
        }
        // In place: a step that wakes CPUs must not allocate (the fuzz loop runs millions).
        for i in 0..w.cpus.pending_wake.len() {
            if let Some(t) = w.cpus[w.cpus.pending_wake[i]].waker {
                crate::engine::wake(t);
            }
        }
        w.cpus.pending_wake.clear();
        r
    }

    /// Back in user space before operation `i` of this CPU (the harness): nothing the CPU
    /// observed in its earlier operations is left in its local state but `i`, so the state
    /// cache's digest of what it observed starts again from `i` (CPUs that took different paths
    /// through their earlier operations to the same world then merge).
    pub fn between_operations(&self, i: usize) {
        if self.observe {
            self.shared.0.borrow_mut().cpus[self.cpu].observed =
                crate::engine::state::digest_of(&("between operations", i));
        }
    }

    /// Calls modelled kernel function `name` as `f(self)` and returns its value; for the state
    /// cache, this CPU then keeps of what it observed inside the call only the value returned
    /// (`CpuState::observed` becomes a digest of the observations before the call, `name` and
    /// the value).
    ///
    /// Sound because the call's effect on this CPU's future is the world and the value, and
    /// nothing else: `f` is `Copy`, so it captures no mutable local of the caller (it gets
    /// copies of the arguments and shared references), the callee's locals are gone when it
    /// returns, and the arguments are decided by what the CPU observed before the call. As for
    /// the steps, interior mutability through a captured `Cell` would break it; the model never
    /// uses it. Two CPUs that went through the callee along different paths (e.g. a swapoff
    /// whose `shmem_unuse()` found a tmpfs slot freed by a truncate before or after it looked)
    /// and came back to the same world with the same value then merge.
    pub fn call<R: Hash>(&self, name: &'static str, f: impl FnOnce(&Kernel) -> R + Copy) -> R {
        if !self.observe {
            return f(self);
        }
        let before = self.shared.0.borrow().cpus[self.cpu].observed;
        let r = f(self);
        self.shared.0.borrow_mut().cpus[self.cpu].observed =
            crate::engine::state::chain(before, &(name, &r));
        r
    }

    /// Enters kernel function `name` (pushes it on this CPU's call stack; recorded as
    /// [`EventKind::Call`]).
    pub fn enter(&self, name: &'static str) -> Frame<'_> {
        self.push_frame(name, false)
    }

    /// Enters helper `name`, as [`Kernel::enter`] but recorded as [`EventKind::Helper`]: a
    /// look-up, a reference count, a toggle of the slots cache, or a step of the test harness,
    /// whose effects, where they matter, are recorded as notes.
    pub fn enter_helper(&self, name: &'static str) -> Frame<'_> {
        self.push_frame(name, true)
    }

    /// Pushes `name`, a kernel function or (`helper`) a helper, on this CPU's call stack.
    fn push_frame(&self, name: &'static str, helper: bool) -> Frame<'_> {
        let mut w = self.shared.0.borrow_mut();
        w.cpus[self.cpu].stack.push(name);
        if *DEBUG {
            eprintln!(
                "[{}] CPU{} {}{}",
                w.trace.step,
                self.cpu,
                "  ".repeat(w.cpus[self.cpu].stack.len()),
                name
            );
        }
        // The event only when recording (it is a large enum: made and moved for nothing, it
        // cost a copy per call).
        if w.cfg.record {
            let event = if helper {
                EventKind::Helper(name)
            } else {
                EventKind::Call(name)
            };
            w.record(self.cpu, event);
        }
        super::events::note(self.cpu, name, false);
        Frame { k: self }
    }

    /// A step that reports the bug `f` finds (`f` may record a note first) and stops this CPU
    /// there: a `WARN_ON()` that fires. The kernel carries on after a warning; the model ends the
    /// run with the report, so what the kernel does next is never modelled.
    pub fn report(&self, f: impl FnOnce(&mut World) -> BugKind + Copy) -> ! {
        let cpu = self.cpu;
        self.with(|w| {
            let kind = f(w);
            w.report(Some(cpu), kind);
        });
        unreachable!("a step that reports a bug stops its CPU")
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

    /// The patched functions in force: the seam at the top of each function a patch may
    /// replace (`model/patches/`). No scheduling point, no lookup.
    #[inline]
    pub fn patched(&self) -> super::patches::Seams {
        *self.shared.0.borrow().cfg.patches.seams()
    }

    /// Blocks until `cond` holds (checked after a scheduling point each time); `cond` may
    /// change state when it returns true (e.g. take the lock).
    ///
    /// Between the failed check and [`crate::engine::sleep`] there is no scheduling point, so no
    /// wake-up is lost: [`World::wake`] clears `waiting` and wakes the task, which then checks
    /// again. These protocol steps stay merged even with `all_points`: they are the sleep itself.
    pub fn wait_event(&self, why: WaitFor, cond: impl Fn(&mut World, Cpu) -> bool + Copy) {
        self.wait_event_first(why, |_| {}, cond, None)
    }

    /// [`Kernel::wait_event`] whose `cond` touches nothing but what `reads` declares read
    /// (and this CPU's `waiting`); each check declares so.
    pub fn wait_event_reading(
        &self,
        why: WaitFor,
        reads: impl Fn(&World, &mut Footprint),
        cond: impl Fn(&mut World, Cpu) -> bool + Copy,
    ) {
        self.wait_event_first(why, |_| {}, cond, Some(&reads))
    }

    /// [`Kernel::wait_event`] whose first check is preceded, in the same step, by `first` (e.g.
    /// the `preempt_disable()` that begins `spin_lock()`). With `declare`, `first` and `cond`
    /// touch nothing but this CPU's `waiting` and what `declare` declares; each check declares
    /// so (a failed check is followed by undeclared merged steps, which make it unknown).
    fn wait_event_first(
        &self,
        why: WaitFor,
        first: impl FnOnce(&mut World),
        mut cond: impl FnMut(&mut World, Cpu) -> bool,
        declare: Option<&Declare<'_>>,
    ) {
        let cpu = self.cpu;
        let mut first = Some(first);
        // The state cache's observations: from the second check on, every local here is what it
        // was at the first (`first` is spent), so a CPU that failed the check once and one that
        // failed it five times go on alike: each later check starts from the same digest.
        let again = self.observe.then(|| {
            let entry = self.shared.0.borrow().cpus[cpu].observed;
            crate::engine::state::chain(entry, "wait_event: checks again")
        });
        let mut checked = false;
        loop {
            if checked && let Some(again) = again {
                self.shared.0.borrow_mut().cpus[cpu].observed = again;
            }
            checked = true;
            let ok = self.with_on(declare.is_some(), |w, fp| {
                if let Some(d) = declare {
                    d(w, fp);
                }
                if let Some(f) = first.take() {
                    f(w);
                }
                // `waiting` is None here (only a wake-up clears it, and a CPU runs only once
                // woken): a check that succeeds leaves it so, one that fails sets it (and the
                // step, which then sleeps, is unknown anyway).
                fp.read(Touch::Waiting(cpu));
                if cond(w, cpu) {
                    w.cpus[cpu].waiting = None;
                    true
                } else {
                    fp.write(Touch::Waiting(cpu));
                    fp.write(Touch::Waiters(why));
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
                && self.step(false, |w| {
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
            let asleep = self.step(false, |w| {
                if cpu < w.nr_cpus {
                    w.report_if_stuck(cpu);
                }
                // A wake-up by this very step (the quiescent state above) needs no sleep.
                w.cpus[cpu].waiting.is_some()
            });
            if asleep {
                crate::engine::sleep();
            }
            if quiesced {
                self.step(false, |w| w.rcu.read_lock(cpu));
            }
        }
    }

    /// What an acquire attempt of `id` touches besides `waiting`: the lock, what
    /// [`Kernel::check_lock_memory`] reads, and with `rcu` this CPU's RCU nesting (the
    /// `preempt_disable()` of `spin_lock()` when spinlocks are RCU readers). A sleeping lock
    /// (`mutex_lock()`, `folio_lock()`) passes `rcu` false: it changes no RCU state (and may
    /// not be taken inside a read-side section at all, invariant L1).
    fn lock_footprint(w: &World, fp: &mut Footprint, cpu: Cpu, id: LockId, rcu: bool) {
        fp.write(Touch::Lock(id));
        if rcu {
            fp.rcu_lock(w, cpu);
        }
        fp.lock_memory(cpu, id);
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
        // preempt_disable() and the first acquire attempt are one step, after a scheduling
        // point: a grace period that starts between them waits for this CPU either way.
        let preempt_disable = |w: &mut World| {
            if rcu {
                w.rcu.read_lock(self.cpu);
            }
        };
        self.wait_event_first(
            WaitFor::Lock(id),
            preempt_disable,
            |w, cpu| Self::check_lock_memory(w, cpu, id) && w.locks.try_acquire(id, cpu),
            Some(&|w: &World, fp: &mut Footprint| Self::lock_footprint(w, fp, self.cpu, id, rcu)),
        );
    }

    /// `spin_unlock()`.
    pub fn spin_unlock(&self, id: LockId) {
        let rcu = self.cfg().rcu_spinlocks;
        // `si->lock`'s release checks invariant C3, which reads the whole swap map and
        // `inuse_pages` (declared by `c3_reads`).
        self.with_on(true, |w, fp| {
            fp.write(Touch::Lock(id));
            fp.lock_memory(self.cpu, id);
            if let LockId::SiLock(t) = id {
                fp.c3_reads(w, t);
            }
            fp.wake_reads(WaitFor::Lock(id));
            if rcu {
                fp.rcu_unlock(w, self.cpu);
                fp.wake_gp_reads(w, self.cpu);
            }
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

    /// kernel/locking/mutex.c: mutex_lock(), v6.8, and under [`Kernel::folio_lock`] the folio
    /// lock: a sleeping lock. Sleeping inside a spinlock or RCU section is a bug ("sleeping
    /// function called from invalid context"). Its acquire attempt changes no RCU state (the
    /// slow path's `preempt_disable()` is undone before it returns or sleeps), and declares none.
    pub fn mutex_lock(&self, id: LockId) {
        self.might_sleep();
        self.wait_event_first(
            WaitFor::Lock(id),
            |_| {},
            |w, cpu| w.locks.try_acquire(id, cpu),
            Some(&|w: &World, fp: &mut Footprint| Self::lock_footprint(w, fp, self.cpu, id, false)),
        );
    }

    /// `mutex_trylock()`, and under [`Kernel::folio_trylock`] the folio lock.
    pub fn trylock(&self, id: LockId) -> bool {
        self.with_on(true, |w, fp| {
            fp.write(Touch::Lock(id));
            w.locks.try_acquire(id, self.cpu)
        })
    }

    /// `mutex_unlock()`, and under [`Kernel::folio_unlock`] the folio lock.
    pub fn mutex_unlock(&self, id: LockId) {
        self.with_on(true, |w, fp| {
            fp.write(Touch::Lock(id));
            fp.wake_reads(WaitFor::Lock(id));
            if !w.locks.release(id, self.cpu) {
                w.report(
                    Some(self.cpu),
                    BugKind::KernelBug(format!("unlock of {} not held", id.kernel_name())),
                );
            }
            w.wake(WaitFor::Lock(id));
        });
    }

    /// include/linux/pagemap.h: folio_lock(), v6.8: take `PG_locked`, sleeping while another
    /// holds it.
    pub fn folio_lock(&self, folio: FolioId) {
        self.mutex_lock(LockId::Folio(folio));
    }

    /// include/linux/pagemap.h: folio_trylock(), v6.8.
    pub fn folio_trylock(&self, folio: FolioId) -> bool {
        self.trylock(LockId::Folio(folio))
    }

    /// mm/filemap.c: folio_unlock(), v6.8: clear `PG_locked` and wake its waiters.
    pub fn folio_unlock(&self, folio: FolioId) {
        self.mutex_unlock(LockId::Folio(folio));
    }

    /// `might_sleep()`: invariant L1.
    ///
    /// Footprint: this CPU's RCU nesting and the entries of the locks it holds; `kernel_rcu`
    /// and which locks this CPU holds change only by this CPU's own steps.
    pub fn might_sleep(&self) {
        self.with_no_point_footprint(|w, fp| {
            fp.read(Touch::Rcu(self.cpu));
            for l in w.locks.held_by(self.cpu) {
                fp.read(Touch::Lock(l));
            }
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

    /// An allocation that may block (`alloc_pages_mpol()` with a `GFP_KERNEL`-style mask):
    /// `might_sleep()` (invariant L1), and on a non-preemptible kernel a possible quiescent
    /// state. There, `might_sleep()` reschedules on PREEMPT_VOLUNTARY (`__cond_resched()` →
    /// `rcu_all_qs()`) and direct reclaim may sleep on PREEMPT_NONE: the CPU's implicit RCU
    /// read-side section ends for a moment, so another CPU's `synchronize_rcu()` may complete
    /// in between. On a preemptible kernel this is `might_sleep()` alone: every step already has
    /// its point. Simplified: the allocation itself never fails and never really sleeps.
    pub fn may_sleep_in_alloc(&self) {
        self.might_sleep();
        if self.cfg().preemptible {
            return;
        }
        let cpu = self.cpu;
        let quiesced = self.with(|w| {
            // Only the implicit section: an explicit rcu_read_lock() or a spinlock (L1 has
            // reported it) keeps the CPU a reader.
            if !w.cpus[cpu].kernel_rcu || w.rcu.nesting(cpu) != 1 {
                return false;
            }
            w.rcu.read_unlock(cpu);
            w.wake_gp();
            true
        });
        if quiesced {
            self.with(|w| w.rcu.read_lock(cpu));
        }
    }

    /// `rcu_read_lock()`: a step of its own, since `synchronize_rcu()` on another CPU reads the
    /// nesting (merged into the previous step, a preemption right before it would be lost).
    pub fn rcu_read_lock(&self) {
        self.with_on(true, |w, fp| {
            fp.rcu_lock(w, self.cpu);
            w.rcu.read_lock(self.cpu)
        });
    }

    /// `rcu_read_unlock()`.
    pub fn rcu_read_unlock(&self) {
        self.with_on(true, |w, fp| {
            fp.rcu_unlock(w, self.cpu);
            fp.wake_gp_reads(w, self.cpu);
            self.rcu_unlock_in(w)
        });
    }

    /// `synchronize_rcu()`: waits for every reader that was inside a read-side section when it
    /// started.
    pub fn synchronize_rcu(&self) {
        let _f = self.enter("synchronize_rcu");
        self.might_sleep();
        let gp = self.with_on(true, |w, fp| {
            for c in 0..w.cpus.len() {
                fp.read(Touch::RcuReader(c));
            }
            fp.write(Touch::Gp(self.cpu));
            let gp = w.rcu.start_gp(self.cpu);
            w.cpus[self.cpu].gp = Some(gp.clone());
            gp
        });
        // gp_done() reads the nesting and quiescent-state count of the CPUs in the snapshot,
        // and of no other CPU.
        let reads = |_: &World, fp: &mut Footprint| {
            for c in gp.readers() {
                fp.read(Touch::RcuReader(c));
            }
        };
        self.wait_event_reading(WaitFor::GracePeriod, reads, |w, _| w.rcu.gp_done(&gp));
        self.with_no_point_footprint(|w, fp| {
            fp.write(Touch::Gp(self.cpu));
            w.cpus[self.cpu].gp = None
        });
    }
}

/// A closure that declares (part of) a step's footprint.
type Declare<'a> = dyn Fn(&World, &mut Footprint) + 'a;

/// A piece of World state in a step's declared footprint ([`Footprint`]).
///
/// The pieces partition the state they name: no two variants (or operands) name overlapping
/// state, so a step that declares one and a step that declares another really touch different
/// things. Two exceptions are views of state another piece names too: [`Touch::Waiters`] (of
/// every CPU's [`Touch::Waiting`]) and [`Touch::RcuReader`] (of [`Touch::Rcu`], with the
/// quiescent-state count). A reader of a view depends only on it; a step that changes the
/// state declares written every piece whose value it changes, view or not (which
/// [`check_footprints`] checks), so two steps that change nothing the other reads still
/// commute. A step that touches state no variant names declares nothing (it stays unknown).
#[derive(Clone, Copy, Debug, Hash)]
pub enum Touch {
    /// A lock's entry in the lock table (holder; the table is a set: its order is not state).
    Lock(LockId),
    /// A CPU's RCU read-side nesting, the exact count (read by the CPU itself: L1).
    Rcu(Cpu),
    /// Whether a CPU is an RCU reader (nesting above 0), and its quiescent-state count: all
    /// that a grace period reads of another CPU (`start_gp()`, `gp_done()`). A lock or unlock
    /// that leaves the nesting above 0 on both sides writes [`Touch::Rcu`] alone.
    RcuReader(Cpu),
    /// What a CPU waits for (`cpus[c].waiting`).
    Waiting(Cpu),
    /// The CPUs that wait for `x` (those whose `cpus[c].waiting` is `Some(x)`): all that a
    /// wake-up of `x` ([`World::wake`]) reads. It overlaps [`Touch::Waiting`] (the one
    /// exception to the partition): a step that changes a CPU's `waiting` from or to `x`
    /// declares both written (only the failing check of [`Kernel::wait_event`] does, and it
    /// sleeps: the engine makes it unknown anyway).
    Waiters(WaitFor),
    /// A CPU's grace-period snapshot (`cpus[c].gp`).
    Gp(Cpu),
    /// `swap_info[t]`'s slot: whether it exists, its `type`, and its ghost generation
    /// (`ghost.generation[t]`, invariant S3). Only swapon writes it.
    SiSlot(SwapType),
    /// `swap_info[t].flags` but `SWP_WRITEOK` (`SWP_USED`, `SWP_SYNCHRONOUS_IO`).
    SiFlags(SwapType),
    /// `swap_info[t].flags & SWP_WRITEOK` (swapoff clears it alone, in its step 3).
    SiWriteok(SwapType),
    /// `swap_info[t]`'s `max`, `pages`, and the `swap_map` and `cluster_info` pointers (not
    /// what they point to), which swapoff clears together in its step 12.
    SiMap(SwapType),
    /// `swap_info[t].users` and `swap_info[t].comp` (the percpu ref and its completion).
    SiUsers(SwapType),
    /// A KASAN allocation's bookkeeping, by pointer: live or freed (and by whom), its size, what
    /// kind of object it is, and its ghost owner (`ghost.alloc_owner[p]`, invariant S3).
    Alloc(usize),
    /// Element `idx` of the contents of allocation `p` (a `swap_map` byte, a
    /// `swap_cluster_info` entry, a swap-cache slot).
    Elem(usize, usize),
    /// The `(type, generation)` a CPU obtained last (`ghost.si_gen[c]`, invariant S3).
    SiGen(Cpu),
    /// A PTE: `mms[mm].ptes[idx]` (the vector's length never changes after creation).
    Pte(MmId, usize),
    /// Every field of `folios[f]` (its lock, `PG_locked`, is [`Touch::Lock`]).
    Folio(FolioId),
    /// The slots cache's switches: `slots.enabled` and `slots.active`.
    SlotsCache,
    /// A CPU's `slots.slots_ret[c]` batch.
    SlotsRet(Cpu),
    /// The `swapper_spaces[t]` pointer (not the array it points to).
    SwapperSpace(SwapType),
    /// Which processes exist (`mms`' length) and each one's `alive` flag.
    Mms,
    /// Whether `(mm, idx)` is in `ghost.zapping` (invariant O1; the vector is only searched,
    /// so its order is not state).
    Zapping(MmId, usize),
    /// `swap_info[t].inuse_pages`.
    Inuse(SwapType),
    /// `mms[mm].mm_users`.
    MmUsers(MmId),
    /// `mms[mm].on_mmlist`.
    OnMmlist(MmId),
    /// `init_mm.mmlist` (`mmlist`, in order).
    Mmlist,
    /// `shmem_swaplist` (in order).
    ShmemSwaplist,
    /// A tmpfs page-cache slot, `inodes[i].i_pages[index]` (the table of inodes and each
    /// `i_pages`' length are fixed when the world is made).
    ShmemSlot(InodeId, usize),
    /// An inode's `swapped`, `on_swaplist` and `stop_eviction`.
    Inode(InodeId),
    /// Invariant D1's ghost state of a PTE, `ghost.pages[mm][idx]` (the vectors' lengths are
    /// set when the mm is created).
    Ghost(MmId, usize),
    /// Whether a CPU of the program finished its operations (`cpus[c].done`).
    Done(Cpu),
    /// Which folios exist (`folios`' length; each folio's fields are [`Touch::Folio`]).
    Folios,
}

impl Touch {
    /// The annotation object: a kind tag in the top byte, the kind's operands packed below
    /// (no formatting, no allocation: this runs in the fuzz loop). An operand too wide for its
    /// field is truncated: two objects with one encoding would only be more dependent than they
    /// are, never less. Always inlined: at most call sites the kind is a constant and the match
    /// folds away (called, its jump table was 4 % of a search).
    #[inline(always)]
    fn object(self) -> u64 {
        match self {
            Touch::Lock(id) => lock_object(id),
            // The lock's own encoding with the top bit set (lock tags are below 0x80).
            Touch::Waiters(WaitFor::Lock(id)) => lock_object(id) | (1 << 63),
            Touch::Waiters(WaitFor::Completion(t)) => pack(61, 0, t.0),
            Touch::Waiters(WaitFor::GracePeriod) => pack(62, 0, 0),
            // One object for every variable (more dependence, never less).
            Touch::Waiters(WaitFor::Var(_)) => pack(63, 0, 0),
            Touch::Rcu(c) => pack(32, 0, c),
            Touch::Waiting(c) => pack(33, 0, c),
            Touch::Gp(c) => pack(34, 0, c),
            Touch::SiMap(t) => pack(35, 0, t.0),
            Touch::SiUsers(t) => pack(36, 0, t.0),
            Touch::Alloc(p) => pack(37, 0, p),
            Touch::Elem(p, idx) => pack(38, p, idx),
            Touch::SiGen(c) => pack(39, 0, c),
            Touch::Pte(mm, idx) => pack(40, mm.0, idx),
            Touch::Folio(f) => pack(41, 0, f.0),
            Touch::SlotsCache => pack(42, 0, 0),
            Touch::SlotsRet(c) => pack(43, 0, c),
            Touch::SwapperSpace(t) => pack(44, 0, t.0),
            Touch::Mms => pack(45, 0, 0),
            Touch::Zapping(mm, idx) => pack(46, mm.0, idx),
            Touch::Inuse(t) => pack(47, 0, t.0),
            Touch::MmUsers(mm) => pack(48, 0, mm.0),
            Touch::OnMmlist(mm) => pack(49, 0, mm.0),
            Touch::Mmlist => pack(50, 0, 0),
            Touch::Ghost(mm, idx) => pack(51, mm.0, idx),
            Touch::ShmemSwaplist => pack(52, 0, 0),
            Touch::ShmemSlot(i, idx) => pack(53, i.0, idx),
            Touch::Inode(i) => pack(54, 0, i.0),
            Touch::Done(c) => pack(55, 0, c),
            Touch::Folios => pack(56, 0, 0),
            Touch::RcuReader(c) => pack(60, 0, c),
            Touch::SiSlot(t) => pack(57, 0, t.0),
            Touch::SiFlags(t) => pack(58, 0, t.0),
            Touch::SiWriteok(t) => pack(59, 0, t.0),
        }
    }
}

/// `tag` in bits 56..64, `a` in bits 32..56, `b` in bits 0..32 (see [`Touch::object`]).
#[inline(always)]
fn pack(tag: u64, a: usize, b: usize) -> u64 {
    (tag << 56) | ((a as u64 & 0xff_ffff) << 32) | (b as u64 & 0xffff_ffff)
}

/// [`Touch::Lock`]'s object: tags 1 to 12.
#[inline(always)]
fn lock_object(id: LockId) -> u64 {
    match id {
        LockId::SwapLock => pack(1, 0, 0),
        LockId::SiLock(t) => pack(2, 0, t.0),
        LockId::Cluster { alloc, idx } => pack(3, alloc, idx),
        LockId::SwapCacheXa(t) => pack(4, 0, t.0),
        LockId::Ptl(mm) => pack(5, 0, mm.0),
        LockId::ShmemXa(i) => pack(6, 0, i.0),
        LockId::MmlistLock => pack(7, 0, 0),
        LockId::SlotsFreeLock(c) => pack(8, 0, c),
        LockId::SwaponMutex => pack(9, 0, 0),
        LockId::ShmemSwaplistMutex => pack(10, 0, 0),
        LockId::SlotsEnableMutex => pack(11, 0, 0),
        LockId::Folio(f) => pack(12, 0, f.0),
    }
}

/// The footprint a step declares (`Kernel::with_on`): annotations for the engine, made only
/// when a reduction records them.
pub struct Footprint {
    on: bool,
    /// The objects declared written, while [`check_footprints`] is on.
    writes: Option<Vec<u64>>,
}

thread_local! {
    static CHECK_FOOTPRINTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

thread_local! {
    static UNDECLARED: RefCell<Option<std::collections::BTreeMap<(&'static str, u32), usize>>> =
        const { RefCell::new(None) };
}

/// Counts an undeclared step of a program CPU (not of the set-up) at `site`, while
/// [`count_undeclared`] is on.
#[cold]
fn note_undeclared(site: &'static std::panic::Location<'static>) {
    UNDECLARED.with(|u| {
        if let Some(m) = u.borrow_mut().as_mut() {
            *m.entry((site.file(), site.line())).or_default() += 1;
        }
    });
}

/// Starts (`true`) or stops counting, on this OS thread, the steps the reduction sees as
/// unknown because they declare no footprint, by the model line that made them (while the
/// engine records annotations: [`crate::engine::record`]); stopping returns the counts,
/// `(file, line, steps)`, most frequent first. A diagnostic for finding what to annotate.
pub fn count_undeclared(on: bool) -> Vec<(&'static str, u32, usize)> {
    let m = UNDECLARED.with(|u| std::mem::replace(&mut *u.borrow_mut(), on.then(Default::default)));
    let mut v: Vec<_> = m
        .unwrap_or_default()
        .into_iter()
        .map(|((f, l), n)| (f, l, n))
        .collect();
    v.sort_by(|a, b| b.2.cmp(&a.2).then(a.cmp(b)));
    v
}

/// Declared steps whose writes [`check_footprints`] checked, in this process.
static FOOTPRINT_CHECKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Checks every declared step's writes on this OS thread (for tests; slow): each piece of World
/// state the step changed must be declared written ([`Footprint::write`]), else the step panics
/// with the piece. Only while the engine records annotations on this thread
/// ([`crate::engine::record`]). Reads are not checked (nothing sees them); neither is the state
/// the footprints leave out by design (the step counter, call stacks, events, the bug report),
/// nor a step that declared itself unknown, woke a CPU or reported a bug.
pub fn check_footprints(on: bool) {
    CHECK_FOOTPRINTS.with(|c| c.set(on));
}

/// How many declared steps [`check_footprints`] has checked in this process (so that a test
/// can tell its check ran).
pub fn footprint_checks() -> usize {
    FOOTPRINT_CHECKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// A piece of World state: a [`Touch`]'s object, or state no `Touch` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Piece {
    Named(u64),
    Unnamed(&'static str, usize),
}

/// Every piece of World state a footprint may name, with its value as text.
fn pieces(w: &World) -> std::collections::BTreeMap<Piece, String> {
    use Piece::{Named, Unnamed};
    let mut m = std::collections::BTreeMap::new();
    let mut put = |p: Piece, v: String| {
        m.entry(p).or_insert_with(String::new).push_str(&v);
    };
    let t = |x: Touch| Named(x.object());
    for (id, c) in w.locks.all() {
        put(t(Touch::Lock(id)), format!("{c}"));
    }
    for c in 0..w.cpus.len() {
        put(t(Touch::Rcu(c)), format!("{}", w.rcu.nesting(c)));
        put(
            t(Touch::RcuReader(c)),
            format!("{} {}", w.rcu.nesting(c) > 0, w.rcu.quiescent_states(c)),
        );
        put(t(Touch::Waiting(c)), format!("{:?}", w.cpus[c].waiting));
        if let Some(x) = w.cpus[c].waiting {
            put(t(Touch::Waiters(x)), format!("{c} "));
        }
        put(t(Touch::Gp(c)), format!("{:?}", w.cpus[c].gp));
        put(t(Touch::Done(c)), format!("{}", w.cpus[c].done));
        put(
            Unnamed("cpus[c].kernel_rcu", c),
            format!("{}", w.cpus[c].kernel_rcu),
        );
        put(t(Touch::SiGen(c)), format!("{:?}", w.ghost.si_gen.get(c)));
    }
    for (ty, si) in w.swap_info.enumerate() {
        put(
            t(Touch::SiSlot(ty)),
            format!(
                "{:?} {}",
                si.type_,
                w.ghost.generation.get(ty).copied().unwrap_or_default(),
            ),
        );
        put(
            t(Touch::SiFlags(ty)),
            format!("{}", si.flags & !super::types::SWP_WRITEOK),
        );
        put(
            t(Touch::SiWriteok(ty)),
            format!("{}", si.flags & super::types::SWP_WRITEOK),
        );
        put(
            t(Touch::SiMap(ty)),
            format!(
                "{} {} {:?} {:?}",
                si.max, si.pages, si.swap_map, si.cluster_info,
            ),
        );
        put(
            t(Touch::SiUsers(ty)),
            format!("{:?} {:?}", si.users, si.comp),
        );
        put(t(Touch::Inuse(ty)), format!("{}", si.inuse_pages));
        put(
            Unnamed("swap_info[t] slot_data", ty.0),
            format!("{:?}", si.slot_data),
        );
    }
    for (ty, s) in w.swapper_spaces.enumerate() {
        put(t(Touch::SwapperSpace(ty)), format!("{s:?}"));
    }
    for p in 0..w.heap.len() {
        let a = w.heap.get(p);
        put(
            t(Touch::Alloc(p)),
            format!(
                "{} {} {} {:?}",
                a.name,
                a.size,
                a.freed_by.is_some(),
                w.ghost.alloc_owner.get(p)
            ),
        );
        match &a.data {
            Object::SwapMap(v) => v
                .iter()
                .enumerate()
                .for_each(|(i, x)| put(t(Touch::Elem(p, i)), format!("{x}"))),
            Object::ClusterInfo(v) => v
                .iter()
                .enumerate()
                .for_each(|(i, x)| put(t(Touch::Elem(p, i)), format!("{x:?}"))),
            Object::SwapSpace(v) => v
                .iter()
                .enumerate()
                .for_each(|(i, x)| put(t(Touch::Elem(p, i)), format!("{x:?}"))),
        }
    }
    put(t(Touch::Folios), format!("{:?}", w.folios.next_id()));
    for (f, folio) in w.folios.enumerate() {
        put(t(Touch::Folio(f)), format!("{folio:?}"));
    }
    let alive: Vec<bool> = w.mms.iter().map(|mm| mm.alive).collect();
    put(t(Touch::Mms), format!("{alive:?}"));
    for (id, mm) in w.mms.enumerate() {
        for (i, pte) in mm.ptes.iter().enumerate() {
            put(t(Touch::Pte(id, i)), format!("{pte:?}"));
        }
        put(t(Touch::MmUsers(id)), format!("{}", mm.mm_users));
        put(t(Touch::OnMmlist(id)), format!("{}", mm.on_mmlist));
    }
    put(t(Touch::Mmlist), format!("{:?}", w.mmlist));
    put(
        Unnamed("inodes' count, i_pages' lengths", 0),
        format!(
            "{:?}",
            w.inodes.iter().map(|i| i.i_pages.len()).collect::<Vec<_>>()
        ),
    );
    for (id, ino) in w.inodes.enumerate() {
        for (idx, s) in ino.i_pages.iter().enumerate() {
            put(t(Touch::ShmemSlot(id, idx)), format!("{s:?}"));
        }
        put(
            t(Touch::Inode(id)),
            format!("{} {} {}", ino.swapped, ino.on_swaplist, ino.stop_eviction),
        );
    }
    put(t(Touch::ShmemSwaplist), format!("{:?}", w.shmem_swaplist));
    put(
        t(Touch::SlotsCache),
        format!("{} {}", w.slots.enabled, w.slots.active),
    );
    for (c, r) in w.slots.slots_ret.iter().enumerate() {
        put(t(Touch::SlotsRet(c)), format!("{r:?}"));
    }
    for &(mm, idx) in &w.ghost.zapping {
        put(t(Touch::Zapping(mm, idx)), "+".into());
    }
    for (mm, pages) in w.ghost.pages.iter().enumerate() {
        for (idx, g) in pages.iter().enumerate() {
            put(t(Touch::Ghost(MmId(mm), idx)), format!("{g:?}"));
        }
    }
    put(
        Unnamed("ghost pages' lengths, next_data", 0),
        format!(
            "{:?} {}",
            w.ghost.pages.iter().map(Vec::len).collect::<Vec<_>>(),
            w.ghost.next_data
        ),
    );
    m
}

/// Panics unless every piece that differs between `before` and `after` is in `writes`.
fn check_writes(
    before: &std::collections::BTreeMap<Piece, String>,
    after: &std::collections::BTreeMap<Piece, String>,
    writes: &[u64],
) {
    let keys = before.keys().chain(after.keys());
    for k in keys {
        if before.get(k) == after.get(k) {
            continue;
        }
        let declared = matches!(k, Piece::Named(o) if writes.contains(o));
        assert!(
            declared,
            "swapfuzz footprint: a declared step wrote {k:?} ({:?} -> {:?}) without declaring it",
            before.get(k),
            after.get(k)
        );
    }
}

impl Footprint {
    /// The step reads `t` (always inlined, so that `t`'s object folds to a constant tag and
    /// its operands).
    #[inline(always)]
    pub fn read(&mut self, t: Touch) {
        if self.on {
            crate::engine::access(t.object(), crate::engine::Access::Read);
        }
    }

    /// The step writes (or reads and writes) `t` (always inlined, as [`Footprint::read`]).
    #[inline(always)]
    pub fn write(&mut self, t: Touch) {
        if self.on {
            crate::engine::access(t.object(), crate::engine::Access::Write);
            if let Some(ws) = &mut self.writes {
                ws.push(t.object());
            }
        }
    }

    /// What [`Kernel::check_lock_memory`] reads: for a cluster lock, KASAN's check of the
    /// cluster array (its bookkeeping and `cpu`'s S3 ghost; the lock word itself is the lock
    /// table's entry).
    fn lock_memory(&mut self, cpu: Cpu, id: LockId) {
        if let LockId::Cluster { alloc, .. } = id {
            self.read(Touch::Alloc(alloc));
            self.read(Touch::SiGen(cpu));
        }
    }

    /// What [`super::invariants::check_inuse_pages`] (C3) reads for `swap_info[t]`: the
    /// `swap_map` pointer, `inuse_pages`, and the map's allocation and every byte of it (its
    /// contents even when freed: the check reads the object without KASAN).
    pub fn c3_reads(&mut self, w: &World, t: SwapType) {
        if !self.on {
            return;
        }
        self.read(Touch::SiSlot(t));
        self.read(Touch::SiMap(t));
        self.read(Touch::Inuse(t));
        if let Some(p) = w.swap_info[t].swap_map {
            self.read(Touch::Alloc(p));
            if let Object::SwapMap(m) = &w.heap.get(p).data {
                for i in 0..m.len() {
                    self.read(Touch::Elem(p, i));
                }
            }
        }
    }

    /// `cpu`'s `rcu_read_lock()` (explicit, or a spinlock's `preempt_disable()`), declared
    /// before it: the nesting, and whether `cpu` is a reader when it becomes one (from 0).
    pub fn rcu_lock(&mut self, w: &World, cpu: Cpu) {
        self.write(Touch::Rcu(cpu));
        if w.rcu.nesting(cpu) == 0 {
            self.write(Touch::RcuReader(cpu));
        }
    }

    /// `cpu`'s `rcu_read_unlock()` (explicit, or a spinlock's release), declared before it:
    /// the nesting, and when it leaves the outermost section (or is unbalanced: no change),
    /// the reader state and the quiescent-state count.
    pub fn rcu_unlock(&mut self, w: &World, cpu: Cpu) {
        self.write(Touch::Rcu(cpu));
        if w.rcu.nesting(cpu) <= 1 {
            self.write(Touch::RcuReader(cpu));
        }
    }

    /// Reads every piece of `swap_info[t]` that swapon and swapoff set: [`Touch::SiSlot`],
    /// [`Touch::SiFlags`], [`Touch::SiWriteok`] and [`Touch::SiMap`].
    pub fn si_reads(&mut self, t: SwapType) {
        self.read(Touch::SiSlot(t));
        self.read(Touch::SiFlags(t));
        self.read(Touch::SiWriteok(t));
        self.read(Touch::SiMap(t));
    }

    /// The step touches no state another CPU writes (e.g. it reads what never changes after it
    /// was created): it commutes with every step of another CPU.
    pub fn local(&mut self) {
        if self.on {
            crate::engine::local();
        }
    }

    /// The step does something no [`Touch`] names: it conflicts with every step.
    pub fn unknown(&mut self) {
        if self.on {
            crate::engine::unknown();
            self.writes = None;
        }
    }

    /// What [`access`] by `cpu` to element `idx` through `ptr` touches: the allocation's
    /// bookkeeping and `cpu`'s S3 ghost (read by the checks), and the element (read, or
    /// written when `write`). Through NULL the access is a bug report: unknown.
    pub fn elem(&mut self, cpu: Cpu, ptr: Option<usize>, idx: usize, write: bool) {
        match ptr {
            Some(p) => {
                self.read(Touch::Alloc(p));
                self.read(Touch::SiGen(cpu));
                if write {
                    self.write(Touch::Elem(p, idx));
                } else {
                    self.read(Touch::Elem(p, idx));
                }
            }
            None => self.unknown(),
        }
    }

    /// What [`World::wake`]`(x)` reads: which CPUs wait for `x` (it writes those it wakes, and
    /// a step that wakes a CPU is unknown).
    pub fn wake_reads(&mut self, x: WaitFor) {
        self.read(Touch::Waiters(x));
    }

    /// What `cpu`'s `rcu_read_unlock()` (or the implicit one of a spinlock's release) reads
    /// through [`World::wake_gp`], declared before the unlock: nothing unless this leaves the
    /// outermost section (`wake_gp()` runs only when the nesting drops to 0, or stays 0);
    /// then every CPU's `waiting`, and for each CPU that waits for a grace period its
    /// snapshot (`gp`) and the RCU state of the CPUs in that snapshot, which is all that
    /// [`super::kernel::rcu::Rcu::gp_done`] reads.
    fn wake_gp_reads(&mut self, w: &World, cpu: Cpu) {
        if !self.on || w.rcu.nesting(cpu) > 1 {
            return;
        }
        self.wake_reads(WaitFor::GracePeriod);
        for c in 0..w.cpus.len() {
            if w.cpus[c].waiting == Some(WaitFor::GracePeriod) {
                self.read(Touch::Gp(c));
                if let Some(gp) = &w.cpus[c].gp {
                    for r in gp.readers() {
                        self.read(Touch::RcuReader(r));
                    }
                }
            }
        }
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
    // Through NULL the object is unknown: its element size follows from the expression (searched
    // only then, not on every access).
    let null_size = || if expr.contains("swap_map") { 1 } else { 8 };
    let size = ptr.map_or_else(null_size, |p| elem(p, w));
    match w.heap.check(ptr, idx * size, size, write) {
        Ok(()) => {
            let p = ptr.expect("checked");
            super::invariants::check_generation(w, cpu, p);
            Some(p)
        }
        Err(bad) => {
            // The allocation accessed (none through NULL: the object is named by the expression).
            let a = bad.alloc.map(|p| w.heap.get(p));
            let kind = BugKind::BadAccess {
                bad,
                expr,
                object: a.map_or(expr, |a| a.name),
                allocated_by: a.map(|a| a.allocated_by.clone()),
                freed_by: a.and_then(|a| a.freed_by.clone()),
            };
            w.report(Some(cpu), kind);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::handle::{InodeId, MmId, SwapType};

    /// Distinct pieces of state get distinct objects (for operands the model uses): a collision
    /// would only cost reduction, but the encoding is meant to have none.
    #[test]
    fn touch_objects_are_distinct() {
        let mut touches = vec![
            Touch::Lock(LockId::SwapLock),
            Touch::Lock(LockId::MmlistLock),
            Touch::Lock(LockId::SwaponMutex),
            Touch::Lock(LockId::ShmemSwaplistMutex),
            Touch::Lock(LockId::SlotsEnableMutex),
            Touch::Mmlist,
            Touch::ShmemSwaplist,
            Touch::Folios,
            Touch::Waiters(WaitFor::GracePeriod),
            Touch::Waiters(WaitFor::Var("stop_eviction")),
            Touch::Waiters(WaitFor::Lock(LockId::SwapLock)),
        ];
        for i in 0..4 {
            touches.extend([
                Touch::Lock(LockId::SiLock(SwapType(i))),
                Touch::Lock(LockId::SwapCacheXa(SwapType(i))),
                Touch::Lock(LockId::Ptl(MmId(i))),
                Touch::Lock(LockId::ShmemXa(InodeId(i))),
                Touch::Lock(LockId::SlotsFreeLock(i)),
                Touch::Lock(LockId::Folio(FolioId(i))),
                Touch::Rcu(i),
                Touch::RcuReader(i),
                Touch::Waiting(i),
                Touch::Waiters(WaitFor::Lock(LockId::SiLock(SwapType(i)))),
                Touch::Waiters(WaitFor::Lock(LockId::Folio(FolioId(i)))),
                Touch::Waiters(WaitFor::Completion(SwapType(i))),
                Touch::Gp(i),
                Touch::Inuse(SwapType(i)),
                Touch::MmUsers(MmId(i)),
                Touch::OnMmlist(MmId(i)),
                Touch::Ghost(MmId(i), 0),
                Touch::ShmemSlot(InodeId(i), 1),
                Touch::Inode(InodeId(i)),
                Touch::Done(i),
            ]);
            for j in 0..4 {
                touches.push(Touch::Lock(LockId::Cluster { alloc: i, idx: j }));
            }
        }
        let mut objects: Vec<u64> = touches.iter().map(|t| t.object()).collect();
        objects.sort_unstable();
        objects.dedup();
        assert_eq!(objects.len(), touches.len());
        // The engine's own markers (`local`, `unknown`) are never produced.
        assert!(objects.iter().all(|&o| o < u64::MAX - 1));
    }

    /// One step on a world with one process of one PTE, with recording and the footprint check
    /// on; the execution's outcome.
    fn one_step(
        f: impl Fn(&mut World, &mut Footprint) + Send + Sync + 'static,
    ) -> crate::engine::Outcome {
        use crate::engine::{EngineConfig, quiet_panics, record, run_once};
        use crate::model::types::{Mm, Pte};
        quiet_panics();
        record(true);
        check_footprints(true);
        let exec = run_once(&[], &EngineConfig::default(), move || {
            let mut w = World::new(super::super::world::ModelConfig::default(), 1);
            w.mms.push(Mm {
                alive: true,
                mm_users: 1,
                ptes: vec![Pte::None],
                on_mmlist: false,
            });
            let k = Kernel::new(Shared::new(w), 0);
            k.with_footprint(&f);
        });
        check_footprints(false);
        record(false);
        exec.outcome
    }

    /// The check catches a step that writes a piece it did not declare written, and passes
    /// the same step declared honestly.
    #[test]
    fn the_footprint_check_catches_an_undeclared_write() {
        use crate::model::types::Pte;
        let pte = Touch::Pte(MmId(0), 0);
        let write = |w: &mut World| w.mms[MmId(0)].ptes[0] = Pte::Present(FolioId(0));
        let before = footprint_checks();
        let honest = one_step(move |w, fp| {
            fp.write(pte);
            write(w);
        });
        assert_eq!(honest, crate::engine::Outcome::Pass);
        assert!(footprint_checks() > before, "the check ran");
        let lying = one_step(move |w, fp| {
            fp.read(pte);
            write(w);
        });
        assert!(
            matches!(&lying, crate::engine::Outcome::Panic(m) if m.contains("swapfuzz footprint")),
            "{lying:?}"
        );
    }

    /// `Kernel::call` keeps of the call only its value: two calls that observed different
    /// things inside and returned the same value leave the same chain; different values, or
    /// different chains before the call, leave different ones.
    #[test]
    fn a_call_leaves_its_value_in_the_chain_and_forgets_the_rest() {
        use crate::engine::{EngineConfig, run_once, state};
        use std::sync::{Arc, Mutex};
        // The chain after `k.call("f", ..)`, which first steps `inside` times, each step
        // returning its index, then returns `value`; `prefix` steps before the call.
        let chain_after = |prefix: u32, inside: u32, value: u32| {
            let out = Arc::new(Mutex::new(0u128));
            let o = Arc::clone(&out);
            state::set_wanted(true);
            let exec = run_once(&[], &EngineConfig::default(), move || {
                let shared =
                    Shared::new(World::new(super::super::world::ModelConfig::default(), 1));
                let k = Kernel::new(shared.clone(), 0);
                for i in 0..prefix {
                    k.with(|_| i);
                }
                let r = k.call("f", |k| {
                    for i in 0..inside {
                        k.with(|_| i);
                    }
                    value
                });
                assert_eq!(r, value);
                *o.lock().unwrap() = shared.borrow_mut().cpus[0].observed;
            });
            state::set_wanted(false);
            assert_eq!(exec.outcome, crate::engine::Outcome::Pass);
            *out.lock().unwrap()
        };
        assert_eq!(chain_after(0, 1, 7), chain_after(0, 3, 7));
        assert_ne!(chain_after(0, 1, 7), chain_after(0, 1, 8));
        assert_ne!(chain_after(0, 1, 7), chain_after(1, 1, 7));
    }
}

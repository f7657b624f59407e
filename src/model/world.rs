//! The whole kernel state of one execution, the model's switches, and what a run reports.

use super::kernel::Cpu;
use super::kernel::kasan::{BadAccess, Heap, Origin};
use super::kernel::lock::{LockId, LockTable};
use super::kernel::rcu::Rcu;
use super::patches::PatchSet;
use super::types::*;

/// The model's switches for one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelConfig {
    /// The kernel under test: v6.8 plus these patches (`model/patches/`).
    pub patches: PatchSet,
    /// *Spinlocks are RCU readers*: on = the real kernel; off = the world the thread's first two
    /// diagrams assume.
    pub rcu_spinlocks: bool,
    /// A preemptible kernel (CONFIG_PREEMPT, PREEMPT_DYNAMIC, PREEMPT_RT: preemptible RCU), the
    /// default. Off models CONFIG_PREEMPT_NONE/VOLUNTARY: a CPU running kernel code is an RCU
    /// reader until it sleeps or returns to user space (found by the real-kernel check,
    /// docs/real-kernel.md: there the shmem race is held off by synchronize_rcu()).
    pub preemptible: bool,
    /// Record events for reports and diagrams (off while fuzzing, on for replay).
    pub record: bool,
    /// A scheduling point before every step, also those the model merges into the previous one
    /// (`Kernel::with_no_point`): slower, and the reference against which
    /// `tests/scheduling_points.rs` checks that the merging loses no outcome.
    pub all_points: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            patches: PatchSet::base(),
            rcu_spinlocks: true,
            preemptible: true,
            record: false,
            all_points: false,
        }
    }
}

/// What a CPU waits for while blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitFor {
    /// A lock to be released.
    Lock(LockId),
    /// `wait_for_completion(&swap_info[type]->comp)`.
    Completion(SwapType),
    /// `synchronize_rcu()`: a grace period to end.
    GracePeriod,
    /// `wait_var_event(&info->stop_eviction)` and similar.
    Var(&'static str),
}

/// Per-CPU machine state: its model call stack, what it waits for, how to wake it.
#[derive(Debug, Clone, Default, Hash)]
pub struct CpuState {
    /// Model call stack, outermost first.
    pub stack: Vec<&'static str>,
    /// Set while blocked.
    pub waiting: Option<WaitFor>,
    /// The engine task running this CPU, woken by [`World::wake`] when it waits.
    pub waker: Option<crate::engine::TaskId>,
    /// The CPU has run all its operations.
    pub done: bool,
    /// The grace period this CPU waits for in `synchronize_rcu()`.
    pub gp: Option<super::kernel::rcu::GracePeriod>,
    /// Non-preemptible kernel: the CPU is in its implicit RCU read-side section (in the kernel
    /// and not sleeping).
    pub kernel_rcu: bool,
    /// What this CPU has observed: a digest of the value every step of its returned, in order
    /// (kept only while an exploration caches states, [`crate::engine::state`]). A CPU's code is
    /// deterministic and learns about the world only through those values (a step's closure
    /// captures nothing it could write: `Kernel::with` takes `Copy` closures), so two CPUs with
    /// the same program and the same digest are at the same place with the same local variables.
    pub observed: u128,
}

/// The machine the kernel runs on: every CPU's state (index `nr_cpus` is the set-up), and the
/// CPUs to wake when the current step ends. Indexed by CPU.
#[derive(Debug, Clone, Default, Hash)]
pub struct Cpus {
    state: Vec<CpuState>,
    /// CPUs to wake when the current step ends.
    pub pending_wake: Vec<Cpu>,
}

impl Cpus {
    /// `n` CPUs, none running anything yet.
    fn new(n: usize) -> Self {
        Cpus {
            state: vec![CpuState::default(); n],
            pending_wake: Vec::new(),
        }
    }

    /// Every CPU's state, by CPU number.
    pub fn iter(&self) -> std::slice::Iter<'_, CpuState> {
        self.state.iter()
    }

    /// The CPUs, the set-up included.
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// Never true: there is always the set-up CPU.
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// Marks CPU `c`, whose wait just ended, to be woken once the current step ends.
    fn wake_cpu(&mut self, c: Cpu) {
        self.state[c].waiting = None; // it re-checks, and waits again if it must
        if !self.pending_wake.contains(&c) {
            self.pending_wake.push(c);
        }
    }
}

impl std::ops::Index<Cpu> for Cpus {
    type Output = CpuState;
    fn index(&self, c: Cpu) -> &CpuState {
        &self.state[c]
    }
}

impl std::ops::IndexMut<Cpu> for Cpus {
    fn index_mut(&mut self, c: Cpu) -> &mut CpuState {
        &mut self.state[c]
    }
}

/// Ghost state: what the invariants need and the kernel does not keep
/// (docs/model.md#invariants).
#[derive(Debug, Clone, Default, Hash)]
pub struct Ghost {
    /// Invariant S3: the (type, generation) whose `si` each CPU obtained last.
    pub si_gen: Vec<Option<(SwapType, u32)>>,
    /// Invariant S3: the swapon generation of each `swap_info[type]` slot (1 for the first).
    pub generation: Table<SwapType, u32>,
    /// Invariant S3: (type, generation) of each KASAN allocation, by pointer.
    pub alloc_owner: Vec<(SwapType, u32)>,
    /// Invariant O1: PTEs whose swap reference `zap_pte_range()` is dropping (not yet cleared).
    pub zapping: Vec<(MmId, usize)>,
    /// Invariant D1: per process (by creation order), per PTE, what a user read of the page
    /// must see and who installed its present PTE.
    pub pages: Vec<Vec<GhostPage>>,
    /// Invariant D1: the next fresh page contents (from 1 up: [`ZEROED`] is never written).
    pub next_data: PageData,
}

/// Invariant D1's ghost state of one PTE.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GhostPage {
    /// The contents the process last stored to the page (or was given at `mmap`).
    pub expected: PageData,
    /// Who installed the present PTE last: the CPU, its operation and the function.
    pub installed_by: Option<(Cpu, &'static str, &'static str)>,
}

impl Ghost {
    /// Invariant D1: fresh page contents, never stored before.
    pub fn fresh_data(&mut self) -> PageData {
        let d = self.next_data;
        self.next_data += 1;
        d
    }

    /// `cpu` obtained `swap_info[type_]` in its current generation.
    pub fn obtain_si(&mut self, cpu: Cpu, type_: SwapType) {
        self.si_gen[cpu] = Some((type_, self.generation[type_]));
    }
}

/// The trace of a run: how many steps ran, and what was recorded.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Model scheduling points so far.
    pub step: usize,
    /// Recorded events (when `cfg.record`).
    pub events: Vec<Event>,
}

/// Diagnostics only: no model step reads the step count or the events, so two runs that differ
/// only here have the same future (the [state digest](World::digest) leaves the trace out).
impl std::hash::Hash for Trace {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// What a recorded event says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A kernel function was entered.
    Call(&'static str),
    /// A helper was entered ([`Kernel::enter_helper`](super::context::Kernel::enter_helper)):
    /// a look-up, a reference count, a toggle of the slots cache, or a step of the test harness,
    /// whose effects, where they matter, are recorded as notes.
    Helper(&'static str),
    /// A state change worth a `/* comment */` in the diagram.
    Note(String),
    /// The access or check that stopped the run, in the CPU's innermost function `func`.
    Fatal {
        /// The function, e.g. `swap_page_trans_huge_swapped`.
        func: &'static str,
        /// What went wrong there: the bug's class and facts.
        kind: BugKind,
    },
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    /// Scheduling point count of the model when it happened.
    pub step: usize,
    /// The CPU (`nr_cpus` = set-up).
    pub cpu: Cpu,
    /// Call depth (0 = the operation itself).
    pub depth: usize,
    /// What happened.
    pub kind: EventKind,
}

/// The class of a detected kernel bug.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BugKind {
    /// KASAN-style bad access (use-after-free, out-of-bounds) or NULL dereference.
    BadAccess {
        /// The access.
        bad: BadAccess,
        /// The kernel expression, e.g. `si->swap_map[offset]`.
        expr: &'static str,
        /// The allocation's kernel name, e.g. `si->swap_map`.
        object: &'static str,
        /// Allocation origin.
        allocated_by: Option<Origin>,
        /// Free origin.
        freed_by: Option<Origin>,
    },
    /// A `WARN_ON()` fired.
    Warn(String),
    /// A `VM_BUG_ON()`/`BUG()` fired.
    KernelBug(String),
    /// An invariant of the model checker (docs/model.md#invariants) failed.
    Invariant {
        /// Its id, e.g. `C1`.
        id: &'static str,
        /// What was seen.
        detail: String,
    },
    /// No CPU can make progress: the CPUs that wait, each for what and where.
    Deadlock(Vec<Waiter>),
}

/// A CPU asleep in a deadlock.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Waiter {
    /// The CPU.
    pub cpu: Cpu,
    /// What it waits for.
    pub waits_for: WaitFor,
    /// Its model call stack, outermost first.
    pub stack: Vec<&'static str>,
}

/// A detected bug: the class, the CPU and its call stack, and a dump of the relevant state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bug {
    /// What went wrong.
    pub kind: BugKind,
    /// The function in which it happened (innermost frame), e.g. `swap_page_trans_huge_swapped`.
    pub func: &'static str,
    /// The CPU (None = set-up or end-of-run check).
    pub cpu: Option<Cpu>,
    /// The CPU's model call stack, outermost first.
    pub stack: Vec<&'static str>,
    /// Scheduling step.
    pub step: usize,
    /// A dump of the swap state when it happened.
    pub state: String,
}

/// The swap slots cache (mm/swap_slots.c): only the return side (`slots_ret`) is modelled.
#[derive(Debug, Clone, Default, Hash)]
pub struct SwapSlots {
    /// `swap_slot_cache_enabled`.
    pub enabled: bool,
    /// `swap_slot_cache_active`: set while free swap is plentiful (`check_cache_active()`);
    /// frees go through the cache only while it and `enabled` are set (`use_swap_slot_cache`).
    pub active: bool,
    /// Per-CPU `slots_ret` batches.
    pub slots_ret: Vec<Vec<SwpEntry>>,
}

/// One execution: the kernel state (flat: it is what model code touches), the machine it runs
/// on, the ghost state of the invariants, and the trace.
#[derive(Debug)]
pub struct World {
    /// The switches.
    pub cfg: ModelConfig,
    /// Number of CPUs running operations (the set-up runs as CPU `nr_cpus`).
    pub nr_cpus: usize,
    // The kernel state.
    /// Held locks.
    pub locks: LockTable,
    /// RCU readers.
    pub rcu: Rcu,
    /// KASAN-tracked allocations.
    pub heap: Heap<Object>,
    /// `swap_info[]`; entries are never freed, only reused.
    pub swap_info: Table<SwapType, SwapInfoStruct>,
    /// `swapper_spaces[type]` pointers.
    pub swapper_spaces: Table<SwapType, Option<usize>>,
    /// All folios ever allocated (never freed: a folio's lifetime is not under test).
    pub folios: Table<FolioId, Folio>,
    /// Processes.
    pub mms: Table<MmId, Mm>,
    /// `init_mm.mmlist`, in order.
    pub mmlist: Vec<MmId>,
    /// shmem inodes.
    pub inodes: Table<InodeId, ShmemInode>,
    /// `shmem_swaplist`, in order.
    pub shmem_swaplist: Vec<InodeId>,
    /// The swap slots cache.
    pub slots: SwapSlots,
    // The rest.
    /// The machine: per-CPU state, by CPU.
    pub cpus: Cpus,
    /// Ghost state for the invariants.
    pub ghost: Ghost,
    /// Steps and recorded events.
    pub trace: Trace,
    /// Set when a bug is detected; the accessing CPU stops right after.
    pub bug: Option<Bug>,
}

/// The state digest of `verify --cache-states` (docs/model.md, "The state digest"): every field
/// (named, so that a field added later must be hashed or left out here), but the trace, which
/// hashes nothing; RCU's quiescent-state counters as the progress of each pending grace period
/// since its snapshot ([`Rcu::gp_progress`](super::kernel::rcu::Rcu::gp_progress)), not as
/// numbers.
impl std::hash::Hash for World {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let World {
            cfg,
            nr_cpus,
            locks,
            rcu,
            heap,
            swap_info,
            swapper_spaces,
            folios,
            mms,
            mmlist,
            inodes,
            shmem_swaplist,
            slots,
            cpus,
            ghost,
            trace,
            bug,
        } = self;
        (cfg, nr_cpus, locks, rcu, heap, swap_info, swapper_spaces).hash(h);
        (
            folios,
            mms,
            mmlist,
            inodes,
            shmem_swaplist,
            slots,
            cpus,
            ghost,
            trace,
            bug,
        )
            .hash(h);
        for c in cpus.iter() {
            if let Some(gp) = &c.gp {
                for passed in rcu.gp_progress(gp) {
                    passed.hash(h);
                }
            }
        }
    }
}

impl World {
    /// An empty kernel for `nr_cpus` CPUs: no device, no process, no file.
    pub fn new(cfg: ModelConfig, nr_cpus: usize) -> Self {
        World {
            cfg,
            nr_cpus,
            locks: LockTable::default(),
            rcu: Rcu::new(nr_cpus + 1),
            heap: Heap::default(),
            swap_info: Table::new(),
            swapper_spaces: Table::filled(None, MAX_SWAPFILES),
            folios: Table::new(),
            mms: Table::new(),
            mmlist: Vec::new(),
            inodes: Table::new(),
            shmem_swaplist: Vec::new(),
            slots: SwapSlots {
                enabled: true,
                active: false,
                slots_ret: vec![Vec::new(); nr_cpus + 1],
            },
            cpus: Cpus::new(nr_cpus + 1),
            ghost: Ghost {
                si_gen: vec![None; nr_cpus + 1],
                generation: Table::filled(0, MAX_SWAPFILES),
                next_data: ZEROED + 1,
                ..Ghost::default()
            },
            trace: Trace::default(),
            bug: None,
        }
    }

    /// The kernel state as a string, without what depends on how many scheduling points ran
    /// (step numbers, recorded events, allocation origins) or on the CPUs' own bookkeeping:
    /// two executions that end in the same kernel state give the same digest.
    pub fn digest(&self) -> String {
        use std::fmt::Write;
        let mut d = String::new();
        let nest: Vec<u32> = (0..self.cpus.len()).map(|c| self.rcu.nesting(c)).collect();
        let _ = write!(
            d,
            "locks {:?}\nrcu {nest:?}\nswap_info {:?}\nswapper_spaces {:?}\nfolios {:?}\n\
             mms {:?}\nmmlist {:?}\ninodes {:?}\nshmem_swaplist {:?}\nslots {:?}\n",
            self.locks.all(),
            self.swap_info,
            self.swapper_spaces,
            self.folios,
            self.mms,
            self.mmlist,
            self.inodes,
            self.shmem_swaplist,
            self.slots,
        );
        for a in self.heap.iter() {
            let _ = writeln!(
                d,
                "heap {} {:?} freed={}",
                a.name,
                a.data,
                a.freed_by.is_some()
            );
        }
        d
    }

    /// The origin of something `cpu` does now.
    pub fn origin(&self, cpu: Cpu) -> Origin {
        Origin {
            cpu: (cpu < self.nr_cpus).then_some(cpu),
            stack: self.cpus[cpu].stack.clone(),
            step: self.trace.step,
        }
    }

    /// Marks every CPU waiting for `w` to be woken once the current access ends.
    pub fn wake(&mut self, w: WaitFor) {
        for c in 0..self.cpus.len() {
            if self.cpus[c].waiting == Some(w) {
                self.cpus.wake_cpu(c);
            }
        }
    }

    /// A CPU left its last RCU read-side section: wakes the `synchronize_rcu()` callers whose
    /// grace period is now over (and only those: waking the others would let two waiters wake
    /// each other forever).
    pub fn wake_gp(&mut self) {
        for c in 0..self.cpus.len() {
            let s = &self.cpus[c];
            if s.waiting == Some(WaitFor::GracePeriod)
                && s.gp.as_ref().is_some_and(|g| self.rcu.gp_done(g))
            {
                self.cpus.wake_cpu(c);
            }
        }
    }

    /// Reports a deadlock, as seen by `cpu`, when no CPU can run any more: each one is done or
    /// waits for something only another waiting CPU could give. Checked when a CPU goes to sleep
    /// and when one finishes (the last runnable CPU may finish and leave the others asleep).
    pub fn report_if_stuck(&mut self, cpu: Cpu) {
        let cpus = &self.cpus.state[..self.nr_cpus];
        let stuck = cpus.iter().all(|c| c.done || c.waiting.is_some());
        if !stuck || cpus.iter().all(|c| c.done) {
            return;
        }
        let waiters: Vec<Waiter> = cpus
            .iter()
            .enumerate()
            .filter_map(|(c, s)| {
                Some(Waiter {
                    cpu: c,
                    waits_for: s.waiting?,
                    stack: s.stack.clone(),
                })
            })
            .collect();
        let by = if self.cpus[cpu].waiting.is_some() {
            cpu
        } else {
            cpus.iter().position(|c| c.waiting.is_some()).unwrap_or(cpu)
        };
        self.report(Some(by), BugKind::Deadlock(waiters));
    }

    /// Records an event for `cpu` if recording is on.
    pub fn record(&mut self, cpu: Cpu, kind: EventKind) {
        if self.cfg.record {
            // Calls, helpers and the fatal line sit at their function's depth, notes one deeper.
            let len = self.cpus[cpu].stack.len();
            let depth = if matches!(kind, EventKind::Note(_)) {
                len
            } else {
                len.saturating_sub(1)
            };
            self.trace.events.push(Event {
                step: self.trace.step,
                cpu,
                depth,
                kind,
            });
        }
    }

    /// Stops the run with `kind`, detected on `cpu` (None: at an end-of-run check).
    pub fn report(&mut self, cpu: Option<Cpu>, kind: BugKind) {
        let (stack, func) = match cpu {
            Some(c) => {
                let s = self.cpus[c].stack.clone();
                let f = s.last().copied().unwrap_or("?");
                (s, f)
            }
            None => (Vec::new(), "end of run"),
        };
        self.report_in(cpu, func, stack, kind);
    }

    /// Stops the run with `kind`, detected on `cpu` (None: at an end-of-run check), in `func`
    /// with call stack `stack` (the report's function, which need not be where `cpu` is now:
    /// invariant D1 names the function that installed the page).
    pub fn report_in(
        &mut self,
        cpu: Option<Cpu>,
        func: &'static str,
        stack: Vec<&'static str>,
        kind: BugKind,
    ) {
        if self.bug.is_some() {
            return;
        }
        if let Some(c) = cpu {
            let kind = kind.clone();
            self.record(c, EventKind::Fatal { func, kind });
        }
        let state = super::invariants::dump_state(self);
        self.bug = Some(Bug {
            kind,
            func,
            cpu,
            stack,
            step: self.trace.step,
            state,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::digest_of;

    /// CPU2 waits in `synchronize_rcu()` for CPU1, which left a read-side section `before`
    /// times before the snapshot; then CPU1 leaves its section `after` times.
    fn waiting_for_cpu1(before: usize, after: usize) -> World {
        let mut w = World::new(ModelConfig::default(), 3);
        for _ in 0..before {
            w.rcu.read_lock(1);
            w.rcu.read_unlock(1);
        }
        w.rcu.read_lock(1);
        w.cpus[2].gp = Some(w.rcu.start_gp(2));
        for _ in 0..after {
            w.rcu.read_unlock(1);
            w.rcu.read_lock(1);
        }
        w
    }

    #[test]
    fn the_digest_keeps_the_progress_of_a_grace_period_not_the_counts() {
        assert_eq!(
            digest_of(&waiting_for_cpu1(3, 0)),
            digest_of(&waiting_for_cpu1(1, 0))
        );
        assert_eq!(
            digest_of(&waiting_for_cpu1(0, 2)),
            digest_of(&waiting_for_cpu1(4, 1))
        );
        // A grace period that has seen CPU1 pass a quiescent state is not one that has not.
        assert_ne!(
            digest_of(&waiting_for_cpu1(2, 0)),
            digest_of(&waiting_for_cpu1(2, 1))
        );
    }
}

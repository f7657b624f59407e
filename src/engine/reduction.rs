//! Partial-order reduction for the [`Explorer`](super::Explorer): sleep sets (Godefroid), made
//! sound under a preemption bound by admitting only sleepers whose postponement cannot cost a
//! preemption, and a count of the Mazurkiewicz traces (equivalence classes) an exploration covers.
//!
//! # Steps, footprints and independence
//!
//! A *step* is what a task runs from one scheduling point to the next. Its *footprint* is what
//! the code under test annotated in it ([`access`](super::access)); the search makes a step
//! *unknown* (dependent on every step) when
//! * it has no annotation (shuttle's own primitives, code that gives none);
//! * the set of runnable tasks other than its own differs before and after it (it woke, blocked,
//!   spawned or let finish another task: enabling and disabling are dependences);
//! * its own task is not runnable after it (it blocked, e.g. [`sleep`](super::sleep), or
//!   finished), unless the step declared
//!   [`finishes_quietly`](super::finishes_quietly): its task finishes there and only unannotated
//!   steps observe it (a `join` reads whether its task finished; in an annotated step that read
//!   would be a dependence no annotation shows, and a joiner the finish wakes is caught by the
//!   next rule). Such a finish is a step like any other, whose task cannot stay after it;
//! * it yielded (the yield rule of the schedule space makes "who may run next" depend on it);
//! * a runnable set has a task id from 64 on (the summaries are 64-bit masks).
//!
//! Two steps are *independent* when they belong to different tasks, neither is unknown, and no
//! object is touched by both with at least one write. Executions that differ only in the order
//! of adjacent independent steps are *equivalent* (one Mazurkiewicz trace); they reach the same
//! state, the same steps fail, and the same deadlocks happen, provided the annotations are
//! complete (every shared object a step reads or writes is annotated).
//!
//! # Sleep sets
//!
//! Each decision node `m` of the depth-first walk has a *sleep set* `Z(m)`: steps (one per task,
//! that task's next step) known to be covered elsewhere. Choices whose task is asleep are not
//! taken. When the walk takes choice `u` at `m` after the choices before it, the child's set is
//! `Z(m)` plus the *admitted* earlier choices `a` of `m` (their first step, as it ran), less every
//! entry that is dependent on a step the path runs from `m` to the child. A path on which every
//! candidate is asleep (or, under a bound, every awake one would cost a preemption the bound
//! has no room for) is *sleep-set blocked*: every continuation within the bound is equivalent
//! to one explored before, so the execution is not counted and runs on by default choices,
//! creating no node (stopping it would leak its tasks' stacks). It happens right after a quiet
//! finish (below), the one step that is not unknown and after which its task cannot stay: the
//! default is then another task, which may be asleep. (After any other step the task that ran
//! it is runnable, did not yield and has no sleeping entry, or else that step was unknown and
//! emptied the sleep set.)
//!
//! Without a bound (`Explorer::preemptions(usize::MAX)`, `verify --preemptions all`) every
//! explored choice is admitted: the classic sleep-set search, which explores at least one
//! execution of every trace (Godefroid, *Partial-Order Methods for the Verification of Concurrent
//! Systems*, LNCS 1032, 1996, ch. 5; the argument for acyclic spaces is the one Abdulla, Aronis,
//! Jonsson and Sagonas, "Optimal Dynamic Partial Order Reduction", POPL 2014, use for sleep sets).
//!
//! # Why a bound needs care, and the admission rule
//!
//! Pruning `a` asleep at node `n` (the path `w·x` from `m`) skips `σ = w·x·a·ρ` because
//! `σ' = w·a·x·ρ ≡ σ` lies in the subtree of `a` at `m`. Under a preemption bound `K` that
//! subtree holds only schedules with at most `K` preemptions, and `σ'` may need more than `σ`:
//! sleep sets (and DPOR) cut by a bound are unsound, the problem Coons, Musuvathi and McKinley
//! study ("Bounded Partial-Order Reduction", OOPSLA 2013; they compensate in DPOR's backtracking).
//! Here the fix is on the sleep side: `a` is admitted into `u`'s subtree only when `σ'` provably
//! needs no more preemptions than `σ`.
//!
//! Write `c(X→Y)` for the cost of switching from task `X` to `Y ≠ X` at a point: 1 if `X` is
//! runnable and did not yield there, else 0. Let `L` be the task before `m`, `T` and `U` the
//! tasks of `a` and `u`, `V` the task of the last step of `x`, and `r` the first task of `ρ`.
//! `x` has no step of `T` (same-task steps are dependent), and its steps neither enable nor
//! disable any task and yield nowhere (else they are unknown), and `a` neither; so every switch
//! inside `x` costs the same in `σ` and `σ'`, as does every switch inside `ρ` after its first
//! (the states agree there). The other switches give
//!
//! ```text
//! pre(σ') − pre(σ) = c(L→T) + c(T→U) + c(V→r)  −  c(L→U) − c(V→T) − c(T→r)
//! ```
//!
//! If `V` can stay at `n`, then `c(V→T) = 1 ≥ c(V→r)`; otherwise `c(V→T) = c(V→r) = 0`. So
//! `pre(σ') − pre(σ) ≤ A := c(L→T) + c(T→U) − c(L→U)`, and all three terms are known when `u`
//! is taken at `m`: the costs of the two choices at `m`, and whether `T` could stay right after
//! `a` (recorded when `a` ran). The rule: *admit `a` into `u`'s subtree iff `A ≤ 0`* (always,
//! without a bound). The walk takes the default (staying on `L`) first, so every non-default
//! choice of a preemptive node gets the default's step (`A = c(L→L)=0 + c(L→U) − 1 ≤ 0`). The
//! other admitted case is a step `a` after which `T` cannot stay: a quiet finish (the only such
//! step that is not unknown, see above). There `c(T→U) = 0`, so `A = c(L→T) − c(L→U)`: `a` is
//! admitted into the subtree of every choice that costs at least as much as its own. (The
//! derivation holds as written: after the finish `T` is not runnable in `σ` either, so
//! `c(T→r) = 0`, and the switches inside `x` leave from tasks other than `T`.)
//!
//! Soundness, by induction on the order in which the walk finishes subtrees: for every node `n`
//! and every execution `w(n)·ρ` with at most `K` preemptions, an equivalent execution was
//! explored. Let `b` be `ρ`'s first step. If the walk took `b` at `n`, the child's subtree
//! covers the rest (it finished earlier). `b` is always affordable (`ρ` is within the bound) and
//! always a candidate (`ρ` is in the schedule space), so otherwise `b` is asleep: admitted at an
//! ancestor `m` as the step `a` above, with every step of `x` independent of it, and
//! `σ' = w(m)·a·x·ρ''` is an execution within the bound in the subtree of `a` at `m`, which
//! finished before `n`'s. (Entries stay the same step: a task's next step is the same transition
//! after independent steps.) The same argument with every `A` ignored gives the unbounded case.
//!
//! # Counting equivalence classes
//!
//! [`Classes`] hashes each explored execution's trace: the multiset of the vector clocks of its
//! steps under the dependence above (which identifies the partial order), 128 bits. A step's
//! clock depends only on the steps before it, and consecutive executions of the walk share
//! every step before the node it backtracked to: the clocks of those steps (and the state they
//! leave) are kept, so an execution costs the steps after that node, not all of them.
//! Likewise the [`Trace`] keeps the footprints of the shared steps, and the walk does not even
//! record their annotations again (`access::pause`: code under test sees `recording()` false and
//! need not compute them). After a covered decision (sleep-set blocked, or a state explored
//! before) the execution runs on by default choices: its points are skipped and its steps not
//! annotated (`Search::cover`).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::access::{Access, AccessLog};
use super::decision::Point;

/// One step of the running execution, as the reduction sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Foot {
    task: usize,
    unknown: bool,
    /// Its task could stay after it (runnable, not yielding).
    stays: bool,
    start: u32,
    end: u32,
}

/// The steps of one execution with their effective footprints, in the order they ran (index =
/// scheduling point).
#[derive(Debug, Default)]
pub(super) struct Trace {
    steps: Vec<Foot>,
    accesses: Vec<(u64, Access)>,
    /// The step begun at the last point: its task, and the runnable mask before it (`None` when
    /// the mask is not the whole runnable set).
    pending: Option<(usize, Option<u64>)>,
}

/// A runnable set as a mask, if every runnable task id is below 64.
fn full_mask(point: &Point<'_>) -> Option<u64> {
    let mask = point.mask();
    (mask.count_ones() as usize == point.runnable.len()).then_some(mask)
}

impl Trace {
    /// Keeps the steps begun before scheduling point `steps`: the next execution replays the
    /// same decisions up to that point (the walk backtracked to the node there), so it runs
    /// the same steps (a deterministic test; the walk checks each replayed decision).
    pub(super) fn truncate(&mut self, steps: usize) {
        self.steps.truncate(steps);
        self.accesses
            .truncate(self.steps.last().map_or(0, |f| f.end as usize));
        self.pending = None;
    }

    pub(super) fn len(&self) -> usize {
        self.steps.len()
    }

    /// For tests: panics unless this trace (its kept steps and the steps computed since) is
    /// `other`, the same execution's trace recorded from its first step.
    #[cfg(test)]
    pub(super) fn assert_same(&self, other: &Trace) {
        assert_eq!(self.steps, other.steps, "kept trace steps");
        assert_eq!(self.accesses, other.accesses, "kept trace accesses");
    }

    /// At scheduling point `index`: ends the step begun at the previous point (its annotations
    /// are complete), and begins the step of `chosen`.
    /// Points whose step is kept from the previous execution ([`truncate`](Self::truncate))
    /// change nothing.
    pub(super) fn point(&mut self, index: usize, point: &Point<'_>, chosen: Option<usize>) {
        if index < self.steps.len() {
            return;
        }
        let after = full_mask(point);
        if let Some((task, before)) = self.pending.take() {
            debug_assert_eq!(self.steps.len() + 1, index);
            let bit = if task < 64 { 1u64 << task } else { 0 };
            let runnable = after.is_some_and(|m| m & bit != 0);
            let yielded = point.yielding && point.current.map(usize::from) == Some(task);
            let others_same = matches!((before, after), (Some(b), Some(a)) if b & !bit == a & !bit);
            let start = self.accesses.len() as u32;
            let (annotated, finishes) = AccessLog::with(|log| match log.step_at(index - 1) {
                Some(s) if !s.is_unknown() && s.task == task => {
                    self.accesses.extend(s.accesses());
                    (true, s.finishes_quietly())
                }
                _ => (false, false),
            });
            // A task stopped after its step: known only as a quiet finish (and a task that
            // promised to finish and runs on broke the promise: unknown).
            let unknown = !annotated || !others_same || runnable == finishes || yielded;
            if unknown {
                self.accesses.truncate(start as usize);
            }
            let end = self.accesses.len() as u32;
            self.steps.push(Foot {
                task,
                unknown,
                stays: runnable && !yielded,
                start,
                end,
            });
        }
        if let Some(task) = chosen {
            self.pending = Some((task, after));
        }
    }

    /// Ends the last step of a finished execution (its task finished: unknown).
    pub(super) fn finish(&mut self) {
        if let Some((task, _)) = self.pending.take() {
            let start = self.accesses.len() as u32;
            self.steps.push(Foot {
                task,
                unknown: true,
                stays: false,
                start,
                end: start,
            });
        }
    }

    fn accesses_of(&self, f: &Foot) -> &[(u64, Access)] {
        &self.accesses[f.start as usize..f.end as usize]
    }

    /// The step begun at point `index`, as a sleep-set entry for choice `choice` (None if it is
    /// unknown: it would leave every sleep set at once).
    pub(super) fn sleeper(&self, index: usize, choice: usize) -> Option<Sleeper> {
        let f = self.steps.get(index)?;
        (!f.unknown).then(|| Sleeper {
            task: f.task,
            choice,
            stays: f.stays,
            accesses: self.accesses_of(f).into(),
        })
    }

    /// Whether `z` is independent of every step begun at points `from..`.
    pub(super) fn independent_from(&self, z: &Sleeper, from: usize) -> bool {
        self.steps.get(from..).is_some_and(|steps| {
            steps.iter().all(|f| {
                !f.unknown
                    && f.task != z.task
                    && !self
                        .accesses_of(f)
                        .iter()
                        .any(|&(o, a)| z.accesses.iter().any(|&(p, b)| o == p && a.conflicts(b)))
            })
        })
    }
}

/// A sleep-set entry: the first step of a choice explored earlier at some node.
#[derive(Clone, Debug)]
pub(super) struct Sleeper {
    pub(super) task: usize,
    /// Its index among the candidates of the node where it was explored.
    pub(super) choice: usize,
    /// Its task could stay right after it.
    pub(super) stays: bool,
    accesses: Arc<[(u64, Access)]>,
}

/// The distinct traces of the explored executions (see the module documentation), counted
/// incrementally: consecutive executions of the depth-first walk share the steps before the
/// node it backtracked to ([`truncate`](Self::truncate)), and the clocks of those steps are kept
/// (with an undo log of the state each step changed) instead of being computed again.
#[derive(Debug, Default)]
pub(super) struct Classes {
    seen: HashSet<u128>,
    /// Entries of a vector clock: the highest task id of the trace, plus one (a trace with
    /// another count starts afresh: the hash of a clock depends on its length).
    tasks: usize,
    /// The steps of the trace whose clocks are computed, in order.
    done: Vec<Done>,
    /// How many of `done` still describe the trace (see [`truncate`](Self::truncate)).
    valid: usize,
    /// The state after the steps of `done`: the last step's clock of each task (`tasks` ×
    /// `tasks` entries), the join of the unknown steps' clocks (`tasks`, from [`Self::unknown`]),
    /// and for each object's dense index `i` the join of its writers' and of its readers' clocks
    /// (`2 * tasks` entries from [`Self::object`]`(i)`). Clocks of an object not touched yet are
    /// zero.
    state: Vec<u32>,
    /// Steps so far of each task (the join of every step's clock).
    all: Vec<u32>,
    /// For each change to `state` by the steps of `done`, in order: its offset, then the
    /// `tasks` entries it replaced.
    undo: Vec<u32>,
    /// Objects touched, each one's dense index (kept for the whole search).
    objects: HashMap<u64, u32, BuildHasherDefault<ObjectHasher>>,
    /// For each dense index, whether a counted trace writes it. A read of an object no step of
    /// the trace writes orders nothing (no writer before it, none after it to order): skipped,
    /// which leaves every clock as it is. (Skipping only reads of objects no trace counted so
    /// far writes is exact too: when a trace first writes an object, the counts start afresh.)
    written: Vec<bool>,
    /// The dense index of each access of the computed steps.
    index: Vec<u32>,
    /// Scratch: the clock of the step being computed.
    vc: Vec<u32>,
}

/// A step whose clock [`Classes`] computed.
#[derive(Clone, Copy, Debug)]
struct Done {
    task: u32,
    /// Where its changes begin in [`Classes::undo`].
    undo: u32,
    /// The hashes of the trace up to and including this step.
    h1: u64,
    h2: u64,
}

/// A hasher for annotation objects (one `u64` each; no need for SipHash's DoS resistance).
#[derive(Default)]
struct ObjectHasher(u64);

impl Hasher for ObjectHasher {
    fn finish(&self) -> u64 {
        mix(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

fn join(into: &mut [u32], from: &[u32]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = (*a).max(*b);
    }
}

fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl Classes {
    /// The number of distinct traces seen.
    pub(super) fn len(&self) -> usize {
        self.seen.len()
    }

    /// The trace changed from step `steps` on (the walk backtracked to the node at that
    /// scheduling point): the clocks of later steps are computed again at the next
    /// [`add`](Self::add).
    pub(super) fn truncate(&mut self, steps: usize) {
        self.valid = self.valid.min(steps);
    }

    /// Where the join of the unknown steps' clocks begins in `state`.
    fn unknown(&self) -> usize {
        self.tasks * self.tasks
    }

    /// Where the writers' clock of the object of dense index `i` begins in `state` (its
    /// readers' clock follows).
    fn object(&self, i: u32) -> usize {
        self.tasks * (self.tasks + 1) + 2 * self.tasks * i as usize
    }

    /// Forgets every computed step.
    fn reset(&mut self, tasks: usize) {
        self.tasks = tasks;
        self.done.clear();
        self.valid = 0;
        self.undo.clear();
        self.index.clear();
        self.all.clear();
        self.all.resize(tasks, 0);
        self.state.clear();
        self.state
            .resize(tasks * (tasks + 1) + 2 * tasks * self.written.len(), 0);
        self.vc.clear();
        self.vc.resize(tasks, 0);
    }

    /// Undoes the computed steps from `valid` on.
    fn rewind(&mut self) {
        let n = self.tasks;
        while self.done.len() > self.valid {
            let d = self.done.pop().expect("more steps than valid ones");
            let from = d.undo as usize;
            let mut end = self.undo.len();
            while end > from {
                let entry = end - (n + 1);
                let at = self.undo[entry] as usize;
                self.state[at..at + n].copy_from_slice(&self.undo[entry + 1..end]);
                end = entry;
            }
            self.undo.truncate(from);
            self.all[d.task as usize] -= 1;
        }
    }

    /// Joins the clock being computed into the clock at `at` of `state`, noting what it
    /// replaced (nothing if it changes nothing).
    fn join_into(&mut self, at: usize) {
        let n = self.tasks;
        let clock = &mut self.state[at..at + n];
        if clock.iter().zip(&self.vc).all(|(c, v)| c >= v) {
            return;
        }
        self.undo.push(at as u32);
        self.undo.extend_from_slice(clock);
        join(clock, &self.vc);
    }

    /// Adds the trace of an execution; true if it is new.
    pub(super) fn add(&mut self, trace: &Trace) -> bool {
        let h = self.hash(trace);
        #[cfg(test)]
        if from_scratch::on() {
            assert_eq!(h, Classes::default().hash(trace), "incremental class hash");
        }
        self.seen.insert(h)
    }

    /// The hash of the trace of an execution, from the clocks of the steps kept since the last
    /// one.
    fn hash(&mut self, trace: &Trace) -> u128 {
        let tasks = trace.steps.iter().map(|f| f.task + 1).max().unwrap_or(0);
        self.valid = self.valid.min(trace.steps.len());
        if tasks != self.tasks {
            self.reset(tasks);
        }
        self.rewind();
        // One look-up per access of the steps to compute: dense indices, and which objects
        // some step writes.
        let from = trace
            .steps
            .get(self.valid)
            .map_or(trace.accesses.len(), |f| f.start as usize);
        self.index.truncate(from);
        let mut new_writes = false;
        for &(o, a) in &trace.accesses[from..] {
            let next = self.objects.len() as u32;
            let i = *self.objects.entry(o).or_insert(next);
            if i == next {
                self.written.push(false);
                let len = self.state.len() + 2 * tasks;
                self.state.resize(len, 0);
            }
            if a == Access::Write && !self.written[i as usize] {
                self.written[i as usize] = true;
                new_writes = true;
            }
            self.index.push(i);
        }
        if new_writes && self.valid > 0 {
            // Earlier steps skipped their reads of a newly written object: start afresh.
            self.reset(tasks);
            self.index
                .extend(trace.accesses.iter().map(|(o, _)| self.objects[o]));
        }
        let (mut h1, mut h2) = self.done.last().map_or((0, 0), |d| (d.h1, d.h2));
        for f in &trace.steps[self.valid..] {
            let t = f.task;
            let undo = self.undo.len() as u32;
            self.vc
                .copy_from_slice(&self.state[t * tasks..(t + 1) * tasks]);
            let range = f.start as usize..f.end as usize;
            if f.unknown {
                join(&mut self.vc, &self.all);
            } else {
                let u = self.unknown();
                join(&mut self.vc, &self.state[u..u + tasks]);
                for k in range.clone() {
                    let (a, i) = (trace.accesses[k].1, self.index[k]);
                    if a == Access::Read && !self.written[i as usize] {
                        continue;
                    }
                    let at = self.object(i);
                    join(&mut self.vc, &self.state[at..at + tasks]);
                    if a == Access::Write {
                        join(&mut self.vc, &self.state[at + tasks..at + 2 * tasks]);
                    }
                }
            }
            self.vc[t] += 1;
            self.all[t] += 1;
            // The clock identifies the step and its past: hash it (order-free sum over steps).
            let (mut a, mut b) = (t as u64 + 1, 0x632b_e59b_d9b4_e019u64);
            for (i, &c) in self.vc.iter().enumerate() {
                a = a
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    .wrapping_add(u64::from(c));
                b ^= u64::from(c)
                    .wrapping_add(i as u64)
                    .wrapping_mul(0xd6e8_feb8_6659_fd93);
                b = b.rotate_left(23);
            }
            h1 = h1.wrapping_add(mix(a));
            h2 = h2.wrapping_add(mix(b ^ a.rotate_left(32)));
            if f.unknown {
                self.join_into(self.unknown());
            } else {
                for k in range {
                    let (a, i) = (trace.accesses[k].1, self.index[k]);
                    if a == Access::Read && !self.written[i as usize] {
                        continue;
                    }
                    let at = self.object(i) + if a == Access::Write { 0 } else { tasks };
                    self.join_into(at);
                }
            }
            self.join_into(t * tasks);
            self.done.push(Done {
                task: t as u32,
                undo,
                h1,
                h2,
            });
        }
        self.valid = self.done.len();
        (u128::from(h1) << 64) | u128::from(h2)
    }
}

/// For tests: check each incremental class hash against one computed from scratch.
#[cfg(test)]
pub(super) mod from_scratch {
    use std::cell::Cell;
    thread_local!(static ON: Cell<bool> = const { Cell::new(false) });
    pub(in crate::engine) fn on() -> bool {
        ON.with(Cell::get)
    }
    pub(in crate::engine) fn set(on: bool) {
        ON.with(|c| c.set(on));
    }
}

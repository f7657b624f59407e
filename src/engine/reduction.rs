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
//! candidate is asleep is *sleep-set blocked*: its execution is stopped there (shuttle's
//! scheduler stop), as every continuation is equivalent to one explored before. (With the
//! rules above that never happens: the task that ran the last step is runnable, did not yield
//! and has no sleeping entry, or else that step was unknown and emptied the sleep set. The stop
//! is kept for rules that may come.)
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
//! steps under the dependence above (which identifies the partial order), 128 bits.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::access::{Access, AccessLog};
use super::decision::Point;

/// One step of the running execution, as the reduction sees it.
#[derive(Clone, Copy, Debug)]
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
    pub(super) fn clear(&mut self) {
        self.steps.clear();
        self.accesses.clear();
        self.pending = None;
    }

    pub(super) fn len(&self) -> usize {
        self.steps.len()
    }

    /// At scheduling point `index`: ends the step begun at the previous point (its annotations
    /// are complete), and begins the step of `chosen`.
    pub(super) fn point(&mut self, index: usize, point: &Point<'_>, chosen: Option<usize>) {
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
            accesses: self.accesses_of(f).to_vec(),
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
    accesses: Vec<(u64, Access)>,
}

/// The distinct traces of the explored executions (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct Classes {
    seen: HashSet<u128>,
    // Scratch space, kept between executions: vector clocks of `tasks` entries each.
    tasks: usize,
    /// The last step's clock of each task.
    last: Vec<u32>,
    /// Steps so far of each task.
    all: Vec<u32>,
    /// Join of the clocks of the unknown steps.
    unknown: Vec<u32>,
    /// Objects touched, each one's dense index; for each index, whether a step writes it, and
    /// the join of its writers' and of its readers' clocks (`2 * tasks` entries from
    /// `2 * tasks * index`).
    objects: HashMap<u64, usize, BuildHasherDefault<ObjectHasher>>,
    written: Vec<bool>,
    object_clocks: Vec<u32>,
    /// The dense index of each of the trace's accesses.
    index: Vec<u32>,
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

    /// Adds the trace of an execution; true if it is new.
    pub(super) fn add(&mut self, trace: &Trace) -> bool {
        let tasks = trace.steps.iter().map(|f| f.task + 1).max().unwrap_or(0);
        self.tasks = tasks;
        for (v, n) in [
            (&mut self.last, tasks * tasks),
            (&mut self.all, tasks),
            (&mut self.unknown, tasks),
        ] {
            v.clear();
            v.resize(n, 0);
        }
        // One look-up per access: dense indices, and which objects some step writes. A read of
        // an object no step writes orders nothing (no writer before it, none after it to
        // order): skipped, which leaves every clock as it is.
        self.objects.clear();
        self.written.clear();
        self.index.clear();
        for &(o, a) in &trace.accesses {
            let next = self.objects.len();
            let i = *self.objects.entry(o).or_insert(next);
            if i == next {
                self.written.push(false);
            }
            self.written[i] |= a == Access::Write;
            self.index.push(i as u32);
        }
        self.object_clocks.clear();
        self.object_clocks.resize(2 * tasks * self.objects.len(), 0);
        let (mut h1, mut h2) = (0u64, 0u64);
        let mut vc = vec![0u32; tasks];
        for f in &trace.steps {
            let t = f.task;
            vc.copy_from_slice(&self.last[t * tasks..(t + 1) * tasks]);
            let range = f.start as usize..f.end as usize;
            if f.unknown {
                join(&mut vc, &self.all);
            } else {
                join(&mut vc, &self.unknown);
                for k in range.clone() {
                    let (a, i) = (trace.accesses[k].1, self.index[k] as usize);
                    if a == Access::Read && !self.written[i] {
                        continue;
                    }
                    // Clocks of an object not touched yet are zero: joining them is a no-op.
                    let c = &self.object_clocks[2 * tasks * i..2 * tasks * (i + 1)];
                    join(&mut vc, &c[..tasks]);
                    if a == Access::Write {
                        join(&mut vc, &c[tasks..]);
                    }
                }
            }
            vc[t] += 1;
            self.all[t] += 1;
            // The clock identifies the step and its past: hash it (order-free sum over steps).
            let (mut a, mut b) = (t as u64 + 1, 0x632b_e59b_d9b4_e019u64);
            for (i, &c) in vc.iter().enumerate() {
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
                join(&mut self.unknown, &vc);
            } else {
                for k in range {
                    let (a, i) = (trace.accesses[k].1, self.index[k] as usize);
                    if a == Access::Read && !self.written[i] {
                        continue;
                    }
                    let c = &mut self.object_clocks[2 * tasks * i..2 * tasks * (i + 1)];
                    join(
                        if a == Access::Write {
                            &mut c[..tasks]
                        } else {
                            &mut c[tasks..]
                        },
                        &vc,
                    );
                }
            }
            self.last[t * tasks..(t + 1) * tasks].copy_from_slice(&vc);
        }
        self.seen.insert((u128::from(h1) << 64) | u128::from(h2))
    }
}

//! The reads-from strategy, after RFF (Wolff et al., ASPLOS 2024): a schedule is a small set
//! of *reads-from constraints* over the events of a corpus execution, and the walk steers
//! towards them while choosing at random otherwise.
//!
//! Each corpus entry keeps the communication pairs its execution showed ([`RfPair`]): an
//! access of one task to an object, and the write it read or overwrote (the last write to the
//! object before it, or the initial value). An event is named by its task and the index of the
//! step of that task that made it (the `k`-th time the task was chosen), which a walk can see
//! coming: a task about to run its `k`-th step is about to make the event. A mutant of an entry
//! keeps (half of the time) the entry's own constraints and adds one, chosen among a few by
//! rarity of the pair over the whole search (RFF's power schedule):
//!
//! * **negate** a pair the parent showed, `W -> A`: `W`'s task is held back at `W` until `A`
//!   has run (for the initial value, `A` is held back until the object was written), so `A`
//!   reads or overwrites something else;
//! * **add** a pair the parent did not show: `A` with a write `W` of another task to the same
//!   object from the parent's execution; `A`'s task is held back at `A` until `W` has run, and
//!   runs right after it if the object's last write is `W`.
//!
//! A task held back by every constraint is run anyway if nothing else can run (a constraint
//! may be unsatisfiable). The other choices are uniform among the tasks not held back, staying
//! on the running task with a probability drawn per execution.

use shuttle::scheduler::TaskId;

use super::rng::Rng;
use crate::engine::access::{Access, AccessLog};
use crate::engine::decision::Point;

/// The task of the initial value's "writer".
pub(crate) const INITIAL: u32 = u32::MAX;
/// Communication pairs kept per corpus entry (a uniform sample beyond).
pub(crate) const PAIRS_PER_ENTRY: usize = 64;
/// Writes kept per corpus entry (a uniform sample beyond).
pub(crate) const WRITES_PER_ENTRY: usize = 128;
/// Constraints of one schedule at most.
const MAX_CONSTRAINTS: usize = 4;

/// An event: the `k`-th step of task `task` (`task == INITIAL`: the initial value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Event {
    pub(crate) task: u32,
    pub(crate) k: u32,
}

/// A communication pair of an execution: `access` (a read, or a write when `overwrites`) of
/// `object` came after `write`, the object's last write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RfPair {
    pub(crate) object: u64,
    pub(crate) write: Event,
    pub(crate) access: Event,
    pub(crate) overwrites: bool,
}

impl RfPair {
    /// Its key for the rarity counts.
    pub(crate) fn key(&self) -> u64 {
        super::features::mix(&[
            0x5F,
            self.object,
            u64::from(self.write.task),
            u64::from(self.write.k),
            u64::from(self.access.task),
            u64::from(self.access.k),
        ])
    }
}

/// One constraint of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Constraint {
    pub(crate) pair: RfPair,
    /// `write -> access` wanted (true) or forbidden (false).
    pub(crate) positive: bool,
}

/// Collects the communication pairs of the execution in a log, with `point_k[p]`: the step
/// index, in its task, of the step begun at point `p`. Calls `each` on every pair across
/// tasks, and `write` on every write, in order.
pub(crate) fn pairs_of(
    log: &AccessLog,
    point_k: &[u32],
    mut each: impl FnMut(RfPair),
    mut on_write: impl FnMut(u64, Event),
) {
    // A few objects per test: a linear map is faster than hashing.
    let mut last: Vec<(u64, Event)> = Vec::new();
    for step in log.steps() {
        let Some(&k) = point_k.get(step.point) else {
            continue;
        };
        let event = Event {
            task: step.task as u32,
            k,
        };
        for (object, access) in step.accesses() {
            let at = last.iter().position(|(o, _)| *o == object);
            let write = at.map_or(
                Event {
                    task: INITIAL,
                    k: 0,
                },
                |i| last[i].1,
            );
            if write.task != event.task {
                each(RfPair {
                    object,
                    write,
                    access: event,
                    overwrites: access == Access::Write,
                });
            }
            if access == Access::Write {
                on_write(object, event);
                match at {
                    Some(i) => last[i].1 = event,
                    None => last.push((object, event)),
                }
            }
        }
    }
}

/// Keeps a uniform sample of at most `cap` items (reservoir sampling).
#[derive(Debug)]
pub(crate) struct Sample<T> {
    pub(crate) items: Vec<T>,
    seen: usize,
    cap: usize,
}

impl<T> Sample<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Sample {
            items: Vec::new(),
            seen: 0,
            cap,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.seen = 0;
    }

    pub(crate) fn offer(&mut self, rng: &mut Rng, item: T) {
        self.seen += 1;
        if self.items.len() < self.cap {
            self.items.push(item);
        } else {
            let i = rng.below(self.seen);
            if i < self.cap {
                self.items[i] = item;
            }
        }
    }
}

/// The least rare of up to four candidates drawn by `draw` (`count`: how often the search saw
/// a pair).
fn rarest(
    rng: &mut Rng,
    mut draw: impl FnMut(&mut Rng) -> Option<Constraint>,
    count: impl Fn(&RfPair) -> u32,
) -> Option<Constraint> {
    (0..4)
        .filter_map(|_| draw(rng))
        .min_by_key(|c| count(&c.pair))
}

/// A new constraint set from a parent's pairs and constraints; `count` gives how often the
/// search has seen a pair.
pub(crate) fn mutate(
    rng: &mut Rng,
    pairs: &[RfPair],
    inherited: &[Constraint],
    count: impl Fn(&RfPair) -> u32,
) -> Vec<Constraint> {
    let mut out: Vec<Constraint> = if rng.chance(1, 2) {
        inherited.to_vec()
    } else {
        Vec::new()
    };
    if pairs.is_empty() {
        return out;
    }
    let new = if rng.chance(1, 2) {
        rarest(
            rng,
            |rng| {
                Some(Constraint {
                    pair: *rng.pick(pairs),
                    positive: false,
                })
            },
            &count,
        )
    } else {
        rarest(
            rng,
            |rng| {
                let a = rng.pick(pairs);
                // A write of another task to the same object, from the parent's execution.
                let writes: Vec<Event> = pairs
                    .iter()
                    .filter(|p| p.object == a.object)
                    .flat_map(|p| {
                        let w = (p.write.task != INITIAL).then_some(p.write);
                        let o = p.overwrites.then_some(p.access);
                        w.into_iter().chain(o)
                    })
                    .filter(|w| w.task != a.access.task && *w != a.write)
                    .collect();
                // Or the initial value, if the parent's access read another.
                let w = if a.write.task != INITIAL && (writes.is_empty() || rng.chance(1, 4)) {
                    Event {
                        task: INITIAL,
                        k: 0,
                    }
                } else if writes.is_empty() {
                    return None;
                } else {
                    *rng.pick(&writes)
                };
                Some(Constraint {
                    pair: RfPair { write: w, ..*a },
                    positive: true,
                })
            },
            &count,
        )
    };
    if let Some(c) = new {
        out.retain(|o| o.pair != c.pair);
        out.push(c);
    }
    if out.len() > MAX_CONSTRAINTS {
        out.drain(..out.len() - MAX_CONSTRAINTS);
    }
    out
}

/// One execution's reads-from walk.
#[derive(Debug)]
pub(crate) struct RfWalk {
    rng: Rng,
    constraints: Vec<Constraint>,
    /// The writes of the parent's execution (a sample): which step of a task writes what.
    writes: Box<[(u64, Event)]>,
    /// Steps each task has begun (index: task id).
    steps: Vec<u32>,
    /// The last write of each constrained object seen so far.
    last_write: Vec<(u64, Event)>,
    /// Probability of staying on the running task, in 1/2^32.
    stay: u64,
}

impl RfWalk {
    pub(crate) fn new(
        rng: &mut Rng,
        constraints: Vec<Constraint>,
        writes: Box<[(u64, Event)]>,
    ) -> Self {
        let mut rng = Rng::new(rng.next_u64());
        // Uniform (no preference for the running task) half of the time.
        let stay = if rng.chance(1, 2) {
            0
        } else {
            rng.next_u64() >> 32
        };
        RfWalk {
            rng,
            constraints,
            writes,
            steps: Vec::new(),
            last_write: Vec::new(),
            stay,
        }
    }

    pub(crate) fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    fn steps_of(&self, task: usize) -> u32 {
        self.steps.get(task).copied().unwrap_or(0)
    }

    /// Whether `e` has run.
    fn done(&self, e: Event) -> bool {
        e.task == INITIAL || self.steps_of(e.task as usize) > e.k
    }

    /// Notes that the step begun at `point` by `task` has ended (its annotations are in this
    /// thread's log).
    pub(crate) fn ended(&mut self, point: usize, task: usize) {
        if self.constraints.is_empty() {
            return;
        }
        let e = Event {
            task: task as u32,
            k: self.steps_of(task).saturating_sub(1),
        };
        let constraints = &self.constraints;
        let last_write = &mut self.last_write;
        AccessLog::with(|log| {
            let Some(step) = log.step_at(point) else {
                return;
            };
            for (object, access) in step.accesses() {
                if access == Access::Write && constraints.iter().any(|c| c.pair.object == object) {
                    match last_write.iter().position(|(o, _)| *o == object) {
                        Some(i) => last_write[i].1 = e,
                        None => last_write.push((object, e)),
                    }
                }
            }
        });
    }

    /// Notes that `task` begins a step.
    pub(crate) fn began(&mut self, task: usize) {
        if task >= self.steps.len() {
            self.steps.resize(task + 1, 0);
        }
        self.steps[task] += 1;
    }

    fn last_write(&self, object: u64) -> Event {
        self.last_write.iter().find(|(o, _)| *o == object).map_or(
            Event {
                task: INITIAL,
                k: 0,
            },
            |(_, e)| *e,
        )
    }

    /// Whether task `t`, about to begin its next step, is held back; whether it must run now.
    fn judge(&self, t: usize) -> (bool, bool) {
        let k = self.steps_of(t);
        let at = |e: Event| e.task as usize == t && e.k == k;
        // Whether the step writes `object` (as it did in the parent's execution).
        let writes = |object: u64| self.writes.iter().any(|&(o, e)| o == object && at(e));
        let (mut held, mut urgent) = (false, false);
        for c in &self.constraints {
            let p = &c.pair;
            if self.done(p.access) {
                continue;
            }
            if c.positive && at(p.access) {
                if !self.done(p.write) {
                    held = true;
                } else if self.last_write(p.object) == p.write {
                    urgent = true;
                }
            } else if c.positive {
                // Between the write and the access, no other write to the object.
                if self.done(p.write) && self.last_write(p.object) == p.write && writes(p.object) {
                    held = true;
                }
            } else {
                if p.write.task == INITIAL {
                    if at(p.access) && self.last_write(p.object).task == INITIAL {
                        held = true;
                    }
                } else if at(p.write) {
                    held = true;
                }
            }
        }
        (held, urgent)
    }

    pub(crate) fn choose(&mut self, point: &Point<'_>) -> TaskId {
        let mut allowed: Vec<TaskId> = Vec::with_capacity(point.runnable.len());
        for t in point.runnable {
            let (held, urgent) = self.judge(usize::from(t.id()));
            if urgent {
                return t.id();
            }
            if !held {
                allowed.push(t.id());
            }
        }
        if allowed.is_empty() {
            allowed.extend(point.runnable.iter().map(|t| t.id()));
        }
        if let Some(c) = point.current
            && point.can_stay()
            && allowed.contains(&c)
            && (self.rng.next_u64() >> 32) < self.stay
        {
            return c;
        }
        *self.rng.pick(&allowed)
    }
}

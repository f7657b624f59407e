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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(task: u32, k: u32) -> Event {
        Event { task, k }
    }

    fn pair(write: Event, access: Event) -> RfPair {
        RfPair {
            object: 7,
            write,
            access,
            overwrites: false,
        }
    }

    fn walk(constraints: Vec<Constraint>, writes: &[(u64, Event)]) -> RfWalk {
        RfWalk::new(&mut Rng::new(1), constraints, writes.into())
    }

    #[test]
    fn a_negated_pair_holds_its_write_back_until_the_access_ran() {
        // Task 1's step 2 wrote what task 2's step 1 read: forbid it.
        let mut w = walk(
            vec![Constraint {
                pair: pair(ev(1, 2), ev(2, 1)),
                positive: false,
            }],
            &[],
        );
        w.began(1);
        w.began(1);
        assert_eq!(w.judge(1), (true, false), "task 1 is at the write");
        assert_eq!(w.judge(2), (false, false));
        w.began(2);
        w.began(2);
        assert_eq!(w.judge(1), (false, false), "the read ran: the write may");
    }

    #[test]
    fn a_wanted_pair_holds_the_access_back_then_runs_it_right_after_the_write() {
        // Task 2's step 1 should read task 1's step 0 write; task 3's step 0 writes too.
        let mut w = walk(
            vec![Constraint {
                pair: pair(ev(1, 0), ev(2, 1)),
                positive: true,
            }],
            &[(7, ev(3, 0)), (7, ev(1, 0))],
        );
        w.began(2);
        assert_eq!(w.judge(2), (true, false), "the write has not run");
        w.began(1);
        w.last_write.push((7, ev(1, 0)));
        assert_eq!(w.judge(2), (false, true), "the write ran: the access must");
        assert_eq!(
            w.judge(3),
            (true, false),
            "another write would overwrite it"
        );
    }

    #[test]
    fn reading_another_initial_value_waits_for_a_write() {
        let w = walk(
            vec![Constraint {
                pair: pair(
                    Event {
                        task: INITIAL,
                        k: 0,
                    },
                    ev(2, 0),
                ),
                positive: false,
            }],
            &[],
        );
        assert_eq!(w.judge(2), (true, false));
    }

    #[test]
    fn mutants_negate_or_add_pairs_and_keep_at_most_four_constraints() {
        let pairs = [
            pair(ev(1, 0), ev(2, 0)),
            RfPair {
                overwrites: true,
                ..pair(ev(2, 0), ev(3, 0))
            },
        ];
        let mut rng = Rng::new(3);
        let (mut negated, mut added) = (0, 0);
        let mut inherited = Vec::new();
        for _ in 0..200 {
            let m = mutate(&mut rng, &pairs, &inherited, |_| 0);
            assert!(!m.is_empty() && m.len() <= MAX_CONSTRAINTS);
            let c = *m.last().expect("one constraint added");
            if c.positive {
                added += 1;
                assert!(!pairs.contains(&c.pair), "a new pair: {c:?}");
                assert_ne!(c.pair.write.task, c.pair.access.task);
            } else {
                negated += 1;
                assert!(pairs.contains(&c.pair));
            }
            inherited = m;
        }
        assert!(negated > 50 && added > 50, "{negated} {added}");
    }
}

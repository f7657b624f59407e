//! Interleaving features: what the [`Fuzzer`](super::Fuzzer) rewards an execution for.
//!
//! Two sources, both hashed into one bounded map of [`MAP_SIZE`] slots:
//!
//! * **Access features**, from the [annotations](crate::engine::access) of the code under test
//!   (recorded during each execution of the search): each annotated access is an *event*
//!   `(task, object, n)`, the `n`-th access of that task to that object. A read gives a
//!   *reads-from* pair (the last write to the object before it, or the initial value, and the
//!   read), a write that follows another task's write a *write-write* pair, as RFF (ASPLOS 2024)
//!   rewards new reads-from pairs. Two executions that order the same conflicting accesses the
//!   same way give the same features, whatever else they interleave.
//! * **Switch features**, the fallback for tests that annotate nothing (shuttle's own
//!   primitives say nothing about what they touch): at each decision that switches from task
//!   `a`, after its `i`-th step, to task `b`, at its `j`-th step, the pair `(a, i, b, j)`, with
//!   whether `a` was preempted or had blocked. A new pair is a new place where one task's steps
//!   were cut by another's.
//!
//! With [`FeatureSource::Auto`] (the default) an execution that annotated anything is rewarded
//! for its access features only, and one that annotated nothing for its switch features.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use shuttle::scheduler::TaskId;

use crate::engine::access::{self, Access, AccessLog};
use crate::engine::byte_scheduler::ByteScheduler;
use crate::engine::decision::Point;
use crate::engine::observe::Observe;
use crate::engine::run::{EngineConfig, Execution, run_with_scheduler};

use super::rf::{self, RfPair};

/// A fast hasher for the collector's small integer keys (FxHash's mixing step): SipHash was a
/// fifth of the search loop's time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    fn write_u32(&mut self, x: u32) {
        self.add(u64::from(x));
    }
    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }
    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Slots of the feature map (a power of two). libFuzzer-sized: one bit per slot here, one
/// counter per slot in the `__libfuzzer_extra_counters` section a fuzz target can give it.
pub const MAP_SIZE: usize = 1 << 16;

/// Which features an execution is rewarded for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FeatureSource {
    /// Access features when the execution annotated anything, switch features otherwise.
    #[default]
    Auto,
    /// Access features only (an unannotated test then gets none: blind search).
    Access,
    /// Switch features only (annotations are not even recorded).
    Switches,
    /// Both.
    Both,
}

/// A 64-bit mix of a few words (the slot is its low bits).
pub(crate) fn mix(words: &[u64]) -> u64 {
    mix_on(0x9E37_79B9_7F4A_7C15, words)
}

/// [`mix`] continued from `h`, the mix of a prefix: `mix_on(mix(a), b) == mix(a ++ b)`.
#[inline]
fn mix_on(mut h: u64, words: &[u64]) -> u64 {
    for &w in words {
        h = (h ^ w).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 31;
    }
    h
}

fn slot(h: u64) -> u32 {
    (h as usize & (MAP_SIZE - 1)) as u32
}

/// The slots seen so far in the search: a bitset.
#[derive(Debug)]
pub(crate) struct FeatureMap {
    bits: Box<[u64]>,
    len: usize,
}

impl FeatureMap {
    pub(crate) fn new() -> Self {
        FeatureMap {
            bits: vec![0; MAP_SIZE / 64].into_boxed_slice(),
            len: 0,
        }
    }

    /// Marks `slot`; true if it was new.
    pub(crate) fn insert(&mut self, slot: u32) -> bool {
        let (w, b) = (slot as usize / 64, slot % 64);
        let new = self.bits[w] & (1 << b) == 0;
        if new {
            self.bits[w] |= 1 << b;
            self.len += 1;
        }
        new
    }

    /// Slots seen.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

const SWITCH_PREEMPT: u64 = 1;
const SWITCH_BLOCKED: u64 = 2;
const READS_FROM: u64 = 3;
const WRITE_WRITE: u64 = 4;
/// The writer of an object's initial value.
const INITIAL: u64 = u64::MAX;
/// Accesses of one task to one object counted apart (later ones share the last count: loops).
const MAX_NTH: u32 = 64;
const _: () = assert!(MAX_NTH <= u8::MAX as u32);
// One cache line an entry.
const _: () = assert!(std::mem::size_of::<ObjectState>() == 64);

/// A step count, exact below 16 and on a log scale above (long tasks would otherwise make
/// almost every switch a new feature).
fn bucket(n: u32) -> u64 {
    if n < 16 {
        u64::from(n)
    } else {
        12 + u64::from(n.ilog2())
    }
}

/// The features of one execution, collected as it runs.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    /// Slots hit, in order, with repeats (complete after [`finish`](Self::finish)).
    pub(crate) slots: Vec<u32>,
    /// The switch features' slots, kept apart until `finish` knows whether they count (with
    /// [`FeatureSource::Auto`] they do not when the execution annotated anything: dropping
    /// them is then free, where removing them from the front of `slots` moved every access
    /// feature).
    switch_slots: Vec<u32>,
    /// Scheduling points at which each task was chosen so far (index: task id).
    task_steps: Vec<u32>,
    /// For each scheduling point, the index of the step it began in its task (kept only with
    /// `rf`).
    pub(crate) point_k: Vec<u32>,
    /// Collect the communication pairs and writes for the reads-from strategy.
    pub(crate) rf: bool,
    /// The execution's communication pairs across tasks (with `rf`).
    pub(crate) pairs: Vec<RfPair>,
    /// The execution's writes: (object, event) (with `rf`).
    pub(crate) writes: Vec<(u64, rf::Event)>,
    /// Each object's last write and access counts: one table look-up per access.
    objects: ObjectTable,
    /// Access counts of tasks beyond the first [`NTH_TASKS`]: (task, object).
    nth_more: FxMap<(u64, u64), u32>,
    /// Leave out a read's slot when it is certain to repeat one this execution already hit
    /// (the search counts new slots, so a repeat adds nothing; [`run_with_features`] keeps
    /// every hit, for counters).
    pub(crate) dedupe: bool,
}

/// The objects' states of one execution: an open-addressing table keyed by the object,
/// emptied in O(1) per execution (an entry is live only with the current epoch), with no
/// per-execution allocation once it has grown. The search's per-access look-up: a `HashMap`
/// look-up and its clearing were most of the feature pass. An entry holds its key, its epoch
/// and all that an access reads in one cache line; the counts only a read past the cap needs
/// sit beside, in `capped`.
#[derive(Debug, Default)]
struct ObjectTable {
    entries: Vec<ObjectState>,
    /// For each entry, and each task below [`NTH_TASKS`]: 1 + the object's `writes` at the
    /// task's last read with the count at [`MAX_NTH`] (0: none). Another such read before the
    /// next write repeats that read's slot exactly (same object, writer, task and count).
    capped: Vec<[u32; NTH_TASKS]>,
    /// Live entries.
    len: usize,
    epoch: u32,
    /// 64 - log2(capacity): the shift that leaves a hash's top bits, the slot.
    shift: u32,
}

impl ObjectTable {
    /// Empties the table.
    fn clear(&mut self) {
        self.len = 0;
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Once in 2^32 executions: no stale stamp may look live.
            self.entries.iter_mut().for_each(|e| e.epoch = 0);
            self.epoch = 1;
        }
    }

    /// The home slot of `key`: the top bits of a multiplicative hash of both halves (objects
    /// often differ only in their top byte, as a kind tag).
    #[inline]
    fn index(&self, key: u64) -> usize {
        let h = (key ^ (key >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> self.shift) as usize
    }

    /// The index of `key`'s entry, inserted as [`ObjectState::new`] if absent.
    #[inline(always)]
    fn entry(&mut self, key: u64) -> usize {
        if (self.len + 1) * 2 > self.entries.len() {
            self.grow();
        }
        let mask = self.entries.len() - 1;
        let mut i = self.index(key);
        loop {
            let e = &mut self.entries[i];
            if e.epoch != self.epoch {
                *e = ObjectState::new(key, self.epoch);
                self.capped[i] = [0; NTH_TASKS];
                self.len += 1;
                return i;
            }
            if e.key == key {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    #[cold]
    fn grow(&mut self) {
        if self.epoch == 0 {
            self.epoch = 1;
        }
        let cap = (self.entries.len() * 2).max(256);
        self.shift = 64 - cap.trailing_zeros();
        let old = std::mem::replace(&mut self.entries, vec![ObjectState::new(0, 0); cap]);
        let old_capped = std::mem::replace(&mut self.capped, vec![[0; NTH_TASKS]; cap]);
        self.len = 0;
        for (e, c) in old.iter().zip(old_capped) {
            if e.epoch == self.epoch {
                let i = self.entry(e.key);
                self.entries[i] = *e;
                self.capped[i] = c;
            }
        }
    }
}

/// Tasks whose access counts to an object sit inline in its [`ObjectState`].
const NTH_TASKS: usize = 8;

/// What the access features need of one object in the execution so far: an entry of
/// [`ObjectTable`], live only if `epoch` is the table's.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct ObjectState {
    key: u64,
    epoch: u32,
    /// `mix(&[READS_FROM, key])` and `mix(&[WRITE_WRITE, key])`: the prefixes of the
    /// object's features, mixed once per execution.
    reads_from_key: u64,
    write_write_key: u64,
    /// Its last write's task ([`INITIAL`]: none yet).
    write_task: u64,
    /// `mix(&[READS_FROM, key, task, n])` of the last write: the prefix of every read's
    /// feature until the next write (a read then mixes two words, not six).
    reads_from: u64,
    /// Its last write's step index (of its task: kept only with `rf`).
    write_k: u32,
    /// Writes to it so far.
    writes: u32,
    /// Accesses of each task (below [`NTH_TASKS`]) to it so far, up to [`MAX_NTH`].
    nth: [u8; NTH_TASKS],
    /// Its last write's n-th access of its task to the object (at most [`MAX_NTH`]).
    write_n: u8,
}

impl ObjectState {
    /// `key` not accessed yet (last written by [`INITIAL`]), live in `epoch`.
    #[inline]
    fn new(key: u64, epoch: u32) -> Self {
        let reads_from_key = mix(&[READS_FROM, key]);
        ObjectState {
            key,
            epoch,
            reads_from_key,
            write_write_key: mix(&[WRITE_WRITE, key]),
            write_task: INITIAL,
            // mix(&[READS_FROM, key, INITIAL, 0])
            reads_from: mix_on(reads_from_key, &[INITIAL, 0]),
            write_k: 0,
            writes: 0,
            nth: [0; NTH_TASKS],
            write_n: 0,
        }
    }
}

impl Collector {
    /// A collector for the search (repeated slots may be left out, see `dedupe`); with `rf`,
    /// it also keeps what the reads-from strategy needs.
    pub(crate) fn new(rf: bool) -> Self {
        Collector {
            rf,
            dedupe: true,
            ..Collector::default()
        }
    }

    pub(crate) fn reset(&mut self) {
        self.slots.clear();
        self.switch_slots.clear();
        self.task_steps.clear();
        self.point_k.clear();
        self.pairs.clear();
        self.writes.clear();
    }

    fn steps_of(&mut self, task: usize) -> &mut u32 {
        if task >= self.task_steps.len() {
            self.task_steps.resize(task + 1, 0);
        }
        &mut self.task_steps[task]
    }

    /// Notes that `chosen` runs next at `point`; a switch at a decision is a switch feature if
    /// `switches`.
    pub(crate) fn on_point(&mut self, point: &Point<'_>, chosen: TaskId, switches: bool) {
        let chosen = usize::from(chosen);
        if switches
            && point.runnable.len() >= 2
            && let Some(current) = point.current.map(usize::from)
            && current != chosen
        {
            let kind = if point.current_index.is_some() {
                SWITCH_PREEMPT
            } else {
                SWITCH_BLOCKED
            };
            let i = bucket(*self.steps_of(current));
            let j = bucket(*self.steps_of(chosen));
            self.switch_slots
                .push(slot(mix(&[kind, current as u64, i, chosen as u64, j])));
        }
        let steps = self.steps_of(chosen);
        let k = *steps;
        *steps += 1;
        if self.rf {
            self.point_k.push(k);
        }
    }

    /// Completes the features of the execution that just ran on this OS thread, from `source`:
    /// the switch features collected so far, and the access features of this thread's
    /// [`AccessLog`].
    pub(crate) fn finish(&mut self, source: FeatureSource) {
        debug_assert!(self.slots.is_empty());
        match source {
            FeatureSource::Switches => std::mem::swap(&mut self.slots, &mut self.switch_slots),
            FeatureSource::Access => {
                AccessLog::with(|log| self.add_access_log(log));
            }
            FeatureSource::Both => {
                std::mem::swap(&mut self.slots, &mut self.switch_slots);
                AccessLog::with(|log| self.add_access_log(log));
            }
            FeatureSource::Auto => {
                if !AccessLog::with(|log| self.add_access_log(log)) {
                    // Nothing annotated, so no access feature in `slots`.
                    std::mem::swap(&mut self.slots, &mut self.switch_slots);
                }
            }
        }
    }

    /// Adds the access features of the execution in `log`; false if it annotated nothing.
    pub(crate) fn add_access_log(&mut self, log: &AccessLog) -> bool {
        self.objects.clear();
        self.nth_more.clear();
        let mut any = false;
        if self.rf {
            // The reads-from strategy also needs each access's step index.
            for step in log.steps() {
                let k = self.point_k.get(step.point).copied();
                for (object, access) in step.accesses() {
                    any = true;
                    self.add_access(step.task, object, access, k);
                }
            }
        } else {
            for (task, object, access) in log.all_accesses() {
                any = true;
                self.add_access(task, object, access, None);
            }
        }
        any
    }

    /// Adds the features of one access: `task` does `access` to `object` (in its `k`-th step,
    /// with `rf`).
    #[inline(always)]
    fn add_access(&mut self, task: usize, object: u64, access: Access, k: Option<u32>) {
        let i = self.objects.entry(object);
        let state = &mut self.objects.entries[i];
        let event = match state.nth.get_mut(task) {
            Some(n) => {
                let e = *n;
                *n = (e + 1).min(MAX_NTH as u8);
                u64::from(e)
            }
            None => {
                let n = self.nth_more.entry((task as u64, object)).or_insert(0);
                let e = *n;
                *n = (e + 1).min(MAX_NTH);
                u64::from(e)
            }
        };
        let (wt, wk) = (state.write_task, state.write_k);
        let task = task as u64;
        if let Some(k) = k {
            let e = rf::Event {
                task: task as u32,
                k,
            };
            if wt != task {
                let write = if wt == INITIAL {
                    rf::Event {
                        task: rf::INITIAL,
                        k: 0,
                    }
                } else {
                    rf::Event {
                        task: wt as u32,
                        k: wk,
                    }
                };
                self.pairs.push(RfPair {
                    object,
                    write,
                    access: e,
                    overwrites: access == Access::Write,
                });
            }
            if access == Access::Write {
                self.writes.push((object, e));
            }
        }
        match access {
            Access::Read => {
                let repeat = if self.dedupe
                    && event == u64::from(MAX_NTH)
                    && let Some(c) = self.objects.capped[i].get_mut(task as usize)
                {
                    let writes = self.objects.entries[i].writes;
                    let seen = *c == writes.wrapping_add(1);
                    *c = writes.wrapping_add(1);
                    seen
                } else {
                    false
                };
                if !repeat {
                    let reads_from = self.objects.entries[i].reads_from;
                    self.slots.push(slot(mix_on(reads_from, &[task, event])));
                }
            }
            Access::Write => {
                if wt != task && wt != INITIAL {
                    // mix(&[WRITE_WRITE, object, wt, wn, task, event])
                    let wn = u64::from(state.write_n);
                    self.slots
                        .push(slot(mix_on(state.write_write_key, &[wt, wn, task, event])));
                }
                state.write_task = task;
                state.write_n = event as u8;
                state.write_k = k.unwrap_or(0);
                // mix(&[READS_FROM, object, task, event])
                state.reads_from = mix_on(state.reads_from_key, &[task, event]);
                state.writes = state.writes.wrapping_add(1);
            }
        }
    }
}

/// Runs `test` once under the schedule bytes `schedule`, as [`run_once`](crate::engine::run_once)
/// does, and returns the execution with the feature-map slots it hit (with repeats), the
/// features the [`Fuzzer`](super::Fuzzer) rewards: for another search to reward them too, such
/// as libFuzzer through its extra coverage counters (`swapfuzz::fuzz::oracle`).
///
/// ```
/// use swapfuzz::engine::{EngineConfig, FeatureSource, point, run_with_features};
/// let (execution, slots) = run_with_features(&[0x00; 8], &EngineConfig::default(),
///     FeatureSource::Auto, || {
///         let t = shuttle::thread::spawn(point);
///         point();
///         t.join().unwrap();
///     });
/// assert!(!execution.outcome.is_failure());
/// assert!(!slots.is_empty());
/// ```
pub fn run_with_features<F: Fn() + Send + Sync + 'static>(
    schedule: &[u8],
    cfg: &EngineConfig,
    source: FeatureSource,
    test: F,
) -> (Execution, Vec<u32>) {
    let collector = Arc::new(Mutex::new(Collector::default()));
    let bytes = ByteScheduler::new(schedule, cfg.quantum);
    let log = bytes.log();
    let sink = Arc::clone(&collector);
    let switches = source != FeatureSource::Access;
    let observer = move |point: &Point<'_>, chosen: Option<TaskId>| {
        if let Some(task) = chosen {
            sink.lock()
                .expect("feature collector")
                .on_point(point, task, switches);
        }
    };
    let before = access::recording();
    access::record(source != FeatureSource::Switches);
    let (outcome, payload) = run_with_scheduler(Observe::wrap(bytes, observer), cfg, test);
    let mut c = std::mem::take(&mut *collector.lock().expect("feature collector"));
    c.finish(source);
    access::record(before);
    let log = std::mem::take(&mut *log.lock().expect("decision log"));
    let execution = Execution {
        decisions: log.decisions,
        steps: log.steps,
        outcome,
        payload,
    };
    (execution, c.slots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, access, point, record, run_once};

    /// The access features as first written (a `HashMap` per execution, every word mixed per
    /// access, every hit kept): the fast pass must give exactly these slots.
    fn reference(log: &AccessLog) -> Vec<u32> {
        // Per object: its last write (task, n-th access) and each task's access count.
        type Object = ((u64, u64), HashMap<u64, u32>);
        let mut objects: HashMap<u64, Object> = HashMap::new();
        let mut slots = Vec::new();
        for step in log.steps() {
            let task = step.task as u64;
            for (object, access) in step.accesses() {
                let (write, nth) = objects
                    .entry(object)
                    .or_insert(((INITIAL, 0), HashMap::new()));
                let n = nth.entry(task).or_insert(0);
                let event = u64::from(*n);
                *n = (*n + 1).min(MAX_NTH);
                let (wt, wn) = *write;
                match access {
                    Access::Read => {
                        slots.push(slot(mix(&[READS_FROM, object, wt, wn, task, event])));
                    }
                    Access::Write => {
                        if wt != task && wt != INITIAL {
                            slots.push(slot(mix(&[WRITE_WRITE, object, wt, wn, task, event])));
                        }
                        *write = (task, event);
                    }
                }
            }
        }
        slots
    }

    /// `tasks` tasks, each making `accesses` annotated accesses to objects that differ in their
    /// top byte, their middle and their low bits (some read often: beyond the count cap).
    fn log_of(bytes: &[u8], tasks: u64, accesses: u64) {
        record(true);
        run_once(bytes, &EngineConfig::default(), move || {
            let hs: Vec<_> = (0..tasks)
                .map(|t| {
                    shuttle::thread::spawn(move || {
                        for i in 0..accesses {
                            point();
                            let x = (i * 7 + t * 13) % 97;
                            let object = ((x % 5) << 56) | ((x % 3) << 32) | (x % 400 + i % 3);
                            let hot = i % 4 == 0;
                            let object = if hot { 42 } else { object };
                            let kind = if x % 5 == 0 {
                                Access::Write
                            } else {
                                Access::Read
                            };
                            access(object, kind);
                            if i % 9 == 0 {
                                access(object ^ (1 << 60), Access::Read);
                            }
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        });
        record(false);
    }

    #[test]
    fn the_fast_feature_pass_gives_the_reference_slots() {
        let mut checked = 0;
        for (tasks, accesses) in [(3, 400), (10, 120)] {
            for seed in 0..4u8 {
                let bytes: Vec<u8> = (0..4096u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ seed.wrapping_mul(77))
                    .collect();
                log_of(&bytes, tasks, accesses);
                // One collector for several executions: its table must start empty each time.
                let mut kept = Collector::default();
                let mut deduped = Collector::new(false);
                // With `rf`, the pass walks the log step by step (not in one flat pass).
                let mut by_steps = Collector {
                    rf: true,
                    ..Collector::default()
                };
                for _ in 0..2 {
                    kept.reset();
                    deduped.reset();
                    by_steps.reset();
                    let want = AccessLog::with(reference);
                    assert!(AccessLog::with(|log| kept.add_access_log(log)));
                    assert!(AccessLog::with(|log| deduped.add_access_log(log)));
                    assert!(AccessLog::with(|log| by_steps.add_access_log(log)));
                    assert_eq!(kept.slots, want, "every hit, in order");
                    assert_eq!(by_steps.slots, want, "every hit, in order, step by step");
                    let set =
                        |v: &[u32]| v.iter().copied().collect::<std::collections::BTreeSet<_>>();
                    assert_eq!(set(&deduped.slots), set(&want), "the same slots");
                    if tasks < NTH_TASKS as u64 {
                        assert!(deduped.slots.len() < want.len(), "repeats left out");
                    }
                    checked += want.len();
                }
            }
        }
        assert!(checked > 10_000);
    }
}

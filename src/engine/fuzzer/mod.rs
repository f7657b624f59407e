//! [`Fuzzer`]: a feedback-driven search for a failing schedule of any shuttle test.
//!
//! The loop runs every execution inside one shuttle runner (as [`run_batch`](super::run_batch)
//! does), and its scheduler *is* the search: before each execution it picks a strategy with a
//! bandit (`bandit.rs`) — a random walk (`random.rs`), PCT (`pct.rs`), partial order sampling
//! (`pos.rs`), a mutant of a corpus schedule (`mutate.rs`), reads-from constraints from a
//! corpus execution (RFF's search, `rf.rs`) or, where the test takes inputs that vary, a fresh
//! input, or a corpus input drawn by its novelty and mutated half the time, under an early PCT
//! schedule (`fresh.rs`) — and after it, it derives the
//! execution's interleaving features (`features.rs`) (reads-from and write-write pairs from the
//! test's [access annotations](super::access), or where the test gives none, where one task's
//! steps were cut by another's). An execution with a new feature joins the corpus, and its
//! strategy is rewarded. The first failing execution ends the search: its decisions become
//! schedule bytes, which are replayed and checked with [`run_checked`] before they are handed
//! back, so a [`FuzzFailure`]'s `schedule` reproduces the failure with [`run_once`](super::run_once).
//!
//! Everything depends on the seed only (with an execution budget: a time budget stops at
//! whatever execution the clock says). Tests that take an input (a generated program, say)
//! implement [`Inputs`] and run with [`Fuzzer::run_inputs`]; the input is generated and mutated
//! beside the schedule.
//!
//! ```
//! use std::sync::Arc;
//! use shuttle::sync::atomic::{AtomicUsize, Ordering};
//! use swapfuzz::engine::{EngineConfig, Fuzzer, Fuzzing, run_once};
//!
//! fn racy() {
//!     let counter = Arc::new(AtomicUsize::new(0));
//!     let threads: Vec<_> = (0..2)
//!         .map(|_| {
//!             let counter = Arc::clone(&counter);
//!             shuttle::thread::spawn(move || {
//!                 let seen = counter.load(Ordering::SeqCst);
//!                 counter.store(seen + 1, Ordering::SeqCst);
//!             })
//!         })
//!         .collect();
//!     threads.into_iter().for_each(|t| t.join().unwrap());
//!     assert!(counter.load(Ordering::SeqCst) == 2, "lost update");
//! }
//!
//! let Fuzzing::Failed(found) = Fuzzer::new().seed(7).max_executions(10_000).run(racy) else {
//!     panic!("the lost update is found")
//! };
//! let replay = run_once(&found.schedule, &EngineConfig::default(), racy);
//! assert_eq!(replay.outcome, found.execution.outcome);
//! ```

pub mod bandit;
pub mod features;
mod fresh;
mod mutate;
mod pct;
mod pos;
mod random;
mod rf;
mod rng;

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shuttle::scheduler::{Schedule, TaskId};

pub use bandit::{Arm, ArmStats};
pub use features::{FeatureSource, MAP_SIZE, run_with_features};
pub use rng::Rng;

use super::access;
use super::byte_scheduler::splitmix64;
use super::decision::{Decision, Point, decisions_to_bytes};
use super::run::{EngineConfig, Execution, Outcome, run_checked, run_with_scheduler};
use super::strategy::{Scheduled, Strategy};
use bandit::Bandit;
use features::{Collector, FeatureMap, mix};
use mutate::BytesWalk;
use pct::PctWalk;
use pos::PosWalk;
use random::RandomWalk;
use rf::{Constraint, Event, RfPair, RfWalk, Sample};

/// Most corpus entries; a new one beyond replaces a random old one.
const MAX_CORPUS: usize = 4096;
/// Time between progress reports.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// The inputs of a test that takes one: how the search makes and changes them.
pub trait Inputs: Send + 'static {
    /// The input type.
    type Input: Send + Sync + 'static;

    /// A fresh input.
    fn generate(&mut self, rng: &mut Rng) -> Self::Input;

    /// A mutant of `input`, or `None` if inputs do not mutate.
    fn mutate(&mut self, _rng: &mut Rng, _input: &Self::Input) -> Option<Self::Input> {
        None
    }

    /// A feature of the input itself (its shape, say), rewarded like an interleaving feature.
    fn feature(&self, _input: &Self::Input) -> Option<u64> {
        None
    }

    /// (input, schedule) pairs to run first, before any strategy: a corpus saved by an
    /// earlier search. Called once, at the start.
    fn seeds(&mut self) -> Vec<(Self::Input, Vec<u8>)> {
        Vec::new()
    }

    /// Called with each (input, canonical schedule) pair the search adds to its corpus (to save
    /// it, say).
    fn kept(&mut self, _input: &Self::Input, _schedule: &[u8]) {}

    /// Called before each execution with the number run so far: (input, schedule) pairs to run
    /// next, before any strategy (what parallel searches kept, say: they join the corpus if
    /// they show a new feature here), or `None` to end the search as if its budget had run out.
    fn sync(&mut self, _executions: u64) -> Option<Vec<(Self::Input, Vec<u8>)>> {
        Some(Vec::new())
    }

    /// Whether [`generate`](Inputs::generate) gives different inputs (then the search also
    /// runs fresh inputs, [`Arm::Fresh`], and mutants of corpus inputs, [`Arm::Mutant`]);
    /// false for a test with one input.
    fn varies(&self) -> bool {
        true
    }
}

/// The inputs of a test that takes none.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoInput;

impl Inputs for NoInput {
    type Input = ();
    fn generate(&mut self, _rng: &mut Rng) {}
    fn varies(&self) -> bool {
        false
    }
}

/// A search's settings (a builder).
#[derive(Clone, Debug)]
pub struct Fuzzer {
    seed: u64,
    max_executions: Option<u64>,
    time: Option<Duration>,
    config: EngineConfig,
    features: FeatureSource,
    arms: Vec<Arm>,
    seeds: Vec<Vec<u8>>,
    stop: Option<Arc<AtomicBool>>,
}

impl Default for Fuzzer {
    fn default() -> Self {
        Self::new()
    }
}

/// Called with a [`FuzzStats`] about every 0.5 s of a search, and at its end.
pub type Progress = Box<dyn FnMut(&FuzzStats) + Send>;

/// What a search has done so far.
#[derive(Clone, Debug, PartialEq)]
pub struct FuzzStats {
    /// Executions so far.
    pub executions: u64,
    /// Time since the start.
    pub elapsed: Duration,
    /// Corpus entries.
    pub corpus: usize,
    /// Feature-map slots seen.
    pub features: usize,
    /// What each strategy did.
    pub arms: Vec<ArmStats>,
}

/// A failing execution the search found.
#[derive(Debug)]
pub struct FuzzFailure<I> {
    /// Its input.
    pub input: Arc<I>,
    /// Schedule bytes that replay it ([`run_once`](super::run_once) or
    /// [`run_checked`] with `execution.decisions`).
    pub schedule: Vec<u8>,
    /// The execution as the replay from `schedule` ran it (checked against the search's
    /// decisions: a test that does not repeat them is reported as an
    /// [`Outcome::EngineError`]).
    pub execution: Execution,
    /// The strategy that found it.
    pub arm: Arm,
    /// The search up to and including the failing execution.
    pub stats: FuzzStats,
}

/// How a search ended.
#[derive(Debug)]
pub enum Fuzzing<I = ()> {
    /// An execution failed.
    Failed(Box<FuzzFailure<I>>),
    /// The budget ran out first.
    Exhausted(FuzzStats),
}

impl Fuzzer {
    /// Seed 0, no budget, default engine settings, every strategy.
    pub fn new() -> Self {
        Fuzzer {
            seed: 0,
            max_executions: None,
            time: None,
            config: EngineConfig::default(),
            features: FeatureSource::Auto,
            arms: Arm::ALL.to_vec(),
            seeds: Vec::new(),
            stop: None,
        }
    }

    /// Stop (as if the budget had run out) once `flag` is set: how parallel searches stop each
    /// other when one of them has found a failure.
    pub fn stop_when(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    /// The seed of the search.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Stop after this many executions.
    pub fn max_executions(mut self, n: u64) -> Self {
        self.max_executions = Some(n);
        self
    }

    /// Stop after this long (checked before each execution).
    pub fn time(mut self, time: Duration) -> Self {
        self.time = Some(time);
        self
    }

    /// Engine settings of every execution.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// The features rewarded.
    pub fn features(mut self, source: FeatureSource) -> Self {
        self.features = source;
        self
    }

    /// Only these strategies (none: every one).
    pub fn arms(mut self, arms: &[Arm]) -> Self {
        self.arms = if arms.is_empty() {
            Arm::ALL.to_vec()
        } else {
            arms.to_vec()
        };
        self
    }

    /// Schedules to run first (a corpus from an earlier search), with fresh inputs.
    pub fn seeds(mut self, seeds: Vec<Vec<u8>>) -> Self {
        self.seeds = seeds;
        self
    }

    /// Searches the schedules of `test`.
    pub fn run<F: Fn() + Send + Sync + 'static>(&self, test: F) -> Fuzzing<()> {
        self.run_inputs(NoInput, move |_: &()| test(), Box::new(|_: &FuzzStats| {}))
    }

    /// Searches inputs from `inputs` and schedules of `test` on them; calls `progress` about
    /// every 0.5 s, and once more at the end (from the thread that runs the executions).
    pub fn run_inputs<G, F>(&self, inputs: G, test: F, progress: Progress) -> Fuzzing<G::Input>
    where
        G: Inputs,
        F: Fn(&G::Input) + Send + Sync + 'static,
    {
        super::quiet_panics();
        let test = Arc::new(test);
        let state = State::new(self, inputs, progress);
        let home = Arc::new(Mutex::new(None));
        let driver = Driver {
            state: Some(Box::new(state)),
            home: Arc::clone(&home),
        };
        let t = Arc::clone(&test);
        let (outcome, _) = run_with_scheduler(Scheduled(driver), &self.config, move || {
            let input = INPUT
                .with_borrow(Clone::clone)
                .expect("swapfuzz engine: no fuzz input published");
            let input = input
                .downcast_ref::<G::Input>()
                .expect("swapfuzz engine: fuzz input type");
            t(input);
        });
        INPUT.set(None);
        let mut state = home
            .lock()
            .expect("fuzz state")
            .take()
            .expect("the search's state came back from the runner");
        let stats = state.stats();
        (state.progress)(&stats);
        if outcome == Outcome::Pass {
            return Fuzzing::Exhausted(stats);
        }
        let Some(current) = state.current else {
            // Shuttle failed before the first execution (an engine error).
            return Fuzzing::Exhausted(stats);
        };
        let schedule = decisions_to_bytes(&current.decisions);
        let input = Arc::clone(&current.input);
        let replay_input = Arc::clone(&input);
        let execution = run_checked(&schedule, &current.decisions, &self.config, move || {
            test(&replay_input)
        });
        Fuzzing::Failed(Box::new(FuzzFailure {
            input,
            schedule,
            execution,
            arm: current.arm,
            stats,
        }))
    }
}

thread_local! {
    /// The input of the execution running on this OS thread.
    static INPUT: RefCell<Option<Arc<dyn Any + Send + Sync>>> = const { RefCell::new(None) };
}

/// One corpus entry.
struct Entry<I> {
    input: Arc<I>,
    /// Canonical schedule bytes ([`decisions_to_bytes`]).
    schedule: Vec<u8>,
    /// A sample of its execution's communication pairs (with the reads-from strategy).
    pairs: Box<[RfPair]>,
    /// A sample of its execution's writes: (object, event).
    writes: Box<[(u64, Event)]>,
    /// The reads-from constraints it ran under.
    constraints: Box<[Constraint]>,
    /// Its new features against the decaying mean of the kept entries' when it was kept
    /// (the mutant-input strategy's weight, `fresh::novelty`).
    novelty: f64,
}

/// How one execution is scheduled.
enum Walk {
    Bytes(BytesWalk),
    Random(RandomWalk),
    Pct(PctWalk),
    Pos(PosWalk),
    Rf(RfWalk),
}

/// The execution that is running.
struct Current<I> {
    arm: Arm,
    input: Arc<I>,
    walk: Walk,
    decisions: Vec<Decision>,
    points: usize,
    /// SplitMix64 state for `shuttle::rand`, as the byte scheduler's.
    rand: u64,
    /// A seed or an import ([`Inputs::seeds`], [`Inputs::sync`]), not a strategy's plan.
    seed: bool,
}

/// A schedule to run first, with its input (or a fresh one).
type Seed<I> = (Option<Arc<I>>, Vec<u8>);

/// Everything the search keeps.
struct State<G: Inputs> {
    rng: Rng,
    inputs: G,
    corpus: Vec<Entry<G::Input>>,
    /// The sum of the corpus entries' novelty.
    novelty_total: f64,
    /// A decaying mean of the new features of the kept entries.
    novelty_mean: fresh::Typical,
    seen: FeatureMap,
    bandit: Bandit,
    collector: Collector,
    /// The scheduling point that began each task's last step (index: task id).
    last_point: Vec<Option<u32>>,
    /// Whether the reads-from strategy runs (then the next fields are kept).
    rf: bool,
    /// The task chosen at the last scheduling point.
    last_task: usize,
    /// This execution's communication pairs, sampled.
    sample: Sample<RfPair>,
    /// This execution's writes, sampled.
    writes: Sample<(u64, Event)>,
    /// How many executions showed each pair (by the low bits of its key).
    rf_counts: Box<[u32]>,
    current: Option<Current<G::Input>>,
    seeds: Vec<Seed<G::Input>>,
    stop: Option<Arc<AtomicBool>>,
    source: FeatureSource,
    quantum: usize,
    /// A decaying maximum of the decisions per execution (PCT's `k`).
    length: usize,
    /// A decaying mean of the decisions per execution (the fresh-input strategy's horizon).
    typical: fresh::Typical,
    executions: u64,
    max_executions: u64,
    time: Option<Duration>,
    start: Instant,
    last_report: Instant,
    progress: Progress,
    /// Recording of annotations before the search turned it on.
    recording_before: Option<bool>,
}

impl<G: Inputs> State<G> {
    fn new(f: &Fuzzer, mut inputs: G, progress: Progress) -> Self {
        let now = Instant::now();
        let mut seeds: Vec<_> = f.seeds.iter().map(|s| (None, s.clone())).collect();
        seeds.extend(
            inputs
                .seeds()
                .into_iter()
                .map(|(i, s)| (Some(Arc::new(i)), s)),
        );
        seeds.reverse();
        // Fresh and mutant inputs only where inputs vary, unless one of them is the one
        // strategy asked for.
        let arms: Vec<Arm> = if inputs.varies() || (f.arms.len() == 1 && f.arms[0].needs_inputs()) {
            f.arms.clone()
        } else {
            f.arms
                .iter()
                .copied()
                .filter(|&a| !a.needs_inputs())
                .collect()
        };
        State {
            rng: Rng::new(f.seed),
            inputs,
            corpus: Vec::new(),
            novelty_total: 0.0,
            novelty_mean: fresh::Typical::default(),
            seen: FeatureMap::new(),
            bandit: Bandit::new(&arms),
            collector: Collector::new(f.arms.contains(&Arm::Rf)),
            last_point: Vec::new(),
            rf: f.arms.contains(&Arm::Rf),
            last_task: 0,
            sample: Sample::new(rf::PAIRS_PER_ENTRY),
            writes: Sample::new(rf::WRITES_PER_ENTRY),
            rf_counts: vec![
                0;
                if f.arms.contains(&Arm::Rf) {
                    MAP_SIZE
                } else {
                    0
                }
            ]
            .into_boxed_slice(),
            current: None,
            seeds,
            stop: f.stop.clone(),
            source: f.features,
            quantum: f.config.quantum,
            length: 0,
            typical: fresh::Typical::default(),
            executions: 0,
            max_executions: f.max_executions.unwrap_or(u64::MAX),
            time: f.time,
            start: now,
            last_report: now,
            progress,
            recording_before: None,
        }
    }

    fn stats(&self) -> FuzzStats {
        FuzzStats {
            executions: self.executions,
            elapsed: self.start.elapsed(),
            corpus: self.corpus.len(),
            features: self.seen.len(),
            arms: self.bandit.stats(),
        }
    }

    fn records_access(&self) -> bool {
        self.source != FeatureSource::Switches
    }

    /// Scores the execution that just passed: its features, the bandit, the corpus.
    fn finish(&mut self, current: Current<G::Input>) {
        let c = &mut self.collector;
        c.finish(self.source);
        if let Some(f) = self.inputs.feature(&current.input) {
            c.slots
                .push((mix(&[0x1A9E7, f]) as usize % MAP_SIZE) as u32);
        }
        let mut new = 0;
        for &s in &c.slots {
            new += usize::from(self.seen.insert(s));
        }
        // A seed ran no strategy: it rewards none.
        if !current.seed {
            self.bandit.update(current.arm, new);
        }
        if self.rf {
            self.sample.clear();
            self.writes.clear();
            for &p in &self.collector.pairs {
                let c = &mut self.rf_counts[p.key() as usize % MAP_SIZE];
                *c = c.saturating_add(1);
                self.sample.offer(&mut self.rng, p);
            }
            for &w in &self.collector.writes {
                self.writes.offer(&mut self.rng, w);
            }
        }
        self.length = current.decisions.len().max(self.length - self.length / 64);
        self.typical.note(current.decisions.len());
        if new > 0 {
            let constraints = match &current.walk {
                Walk::Rf(w) => w.constraints().into(),
                _ => Box::default(),
            };
            let novelty = fresh::novelty(new, self.novelty_mean);
            self.novelty_mean.note(new);
            let entry = Entry {
                input: current.input,
                schedule: decisions_to_bytes(&current.decisions),
                pairs: self.sample.items.as_slice().into(),
                writes: self.writes.items.as_slice().into(),
                constraints,
                novelty,
            };
            self.inputs.kept(&entry.input, &entry.schedule);
            self.novelty_total += novelty;
            if self.corpus.len() < MAX_CORPUS {
                self.corpus.push(entry);
            } else {
                let at = self.rng.below(MAX_CORPUS);
                self.novelty_total -= self.corpus[at].novelty;
                self.corpus[at] = entry;
            }
        }
    }

    fn corpus_input(&mut self) -> Arc<G::Input> {
        if !self.corpus.is_empty() && self.rng.chance(1, 2) {
            let e = self.rng.below(self.corpus.len());
            return Arc::clone(&self.corpus[e].input);
        }
        Arc::new(self.inputs.generate(&mut self.rng))
    }

    /// A corpus entry to mutate: one of the newest 64 half of the time.
    fn parent(&mut self) -> usize {
        let n = self.corpus.len();
        if self.rng.chance(1, 2) {
            n - 1 - self.rng.below(n.min(64))
        } else {
            self.rng.below(n)
        }
    }

    /// A corpus entry drawn with probability proportional to its novelty.
    fn novel_parent(&mut self) -> usize {
        let mut x = self.rng.unit() * self.novelty_total;
        for (i, e) in self.corpus.iter().enumerate() {
            if x < e.novelty {
                return i;
            }
            x -= e.novelty;
        }
        self.corpus.len() - 1
    }

    /// Plans the next execution.
    fn plan(&mut self) -> Current<G::Input> {
        if let Some((input, bytes)) = self.seeds.pop() {
            let input = input.unwrap_or_else(|| Arc::new(self.inputs.generate(&mut self.rng)));
            let mut current = self.current(
                Arm::Mutate,
                input,
                Walk::Bytes(BytesWalk::new(bytes, self.quantum)),
            );
            current.seed = true;
            return current;
        }
        let arm = self.bandit.pick(&mut self.rng, !self.corpus.is_empty());
        let rng = &mut self.rng;
        let length = self.length.max(1);
        let (input, walk) = match arm {
            Arm::Mutate => {
                let p = self.parent();
                let o = self.rng.below(self.corpus.len());
                let (parent, other) = (&self.corpus[p], &self.corpus[o]);
                let mut input = Arc::clone(&parent.input);
                let bytes = if self.rng.chance(1, 4)
                    && let Some(m) = self.inputs.mutate(&mut self.rng, &input)
                {
                    input = Arc::new(m);
                    parent.schedule.clone()
                } else {
                    mutate::mutate(&mut self.rng, &parent.schedule, &other.schedule)
                };
                (input, Walk::Bytes(BytesWalk::new(bytes, self.quantum)))
            }
            Arm::Random => {
                let w = Walk::Random(RandomWalk::new(rng, 0.25));
                (self.corpus_input(), w)
            }
            Arm::Sparse => {
                let c = rng.range(1, 3);
                let w = Walk::Random(RandomWalk::sparse(rng, c, length));
                (self.corpus_input(), w)
            }
            Arm::Pct2 | Arm::Pct3 => {
                let depth = if arm == Arm::Pct2 { 2 } else { 3 };
                let w = Walk::Pct(PctWalk::new(rng, depth, length));
                (self.corpus_input(), w)
            }
            Arm::Pos => {
                let w = Walk::Pos(PosWalk::new(rng));
                (self.corpus_input(), w)
            }
            Arm::Fresh => {
                let input = Arc::new(self.inputs.generate(rng));
                (input, Walk::Pct(fresh::walk(&mut self.rng, self.typical)))
            }
            Arm::Mutant => {
                let p = self.novel_parent();
                let parent = Arc::clone(&self.corpus[p].input);
                let input = if self.rng.chance(1, 2) {
                    parent
                } else {
                    match self.inputs.mutate(&mut self.rng, &parent) {
                        Some(m) => Arc::new(m),
                        None => parent,
                    }
                };
                (input, Walk::Pct(fresh::walk(&mut self.rng, self.typical)))
            }
            Arm::Rf if self.corpus.is_empty() => {
                let w = Walk::Rf(RfWalk::new(rng, Vec::new(), Box::default()));
                (self.corpus_input(), w)
            }
            Arm::Rf => {
                let p = self.parent();
                let parent = &self.corpus[p];
                let counts = &self.rf_counts;
                let constraints =
                    rf::mutate(&mut self.rng, &parent.pairs, &parent.constraints, |pair| {
                        counts[pair.key() as usize % MAP_SIZE]
                    });
                let writes = parent.writes.clone();
                let walk = Walk::Rf(RfWalk::new(&mut self.rng, constraints, writes));
                (Arc::clone(&parent.input), walk)
            }
        };
        self.current(arm, input, walk)
    }

    fn current(&mut self, arm: Arm, input: Arc<G::Input>, walk: Walk) -> Current<G::Input> {
        self.collector.reset();
        self.last_point.clear();
        Current {
            arm,
            input,
            walk,
            decisions: Vec::new(),
            points: 0,
            rand: 0,
            seed: false,
        }
    }
}

/// The search as a strategy: owns the state while the runner runs, and hands it back when the
/// runner drops it (also when an execution fails and the runner unwinds).
struct Driver<G: Inputs> {
    state: Option<Box<State<G>>>,
    home: Arc<Mutex<Option<Box<State<G>>>>>,
}

impl<G: Inputs> Drop for Driver<G> {
    fn drop(&mut self) {
        if let Some(mut state) = self.state.take() {
            // Restored for the caller; the next runner of the search turns it on again.
            if let Some(before) = state.recording_before.take() {
                access::record(before);
            }
            if let Ok(mut home) = self.home.lock() {
                *home = Some(state);
            }
        }
    }
}

impl<G: Inputs> Strategy for Driver<G> {
    fn new_execution(&mut self) -> Option<Schedule> {
        let s = self.state.as_mut().expect("fuzz state");
        if s.recording_before.is_none() {
            s.recording_before = Some(access::recording());
            access::record(s.records_access());
        }
        if let Some(current) = s.current.take() {
            s.finish(current);
        }
        if s.last_report.elapsed() >= PROGRESS_EVERY {
            s.last_report = Instant::now();
            let stats = s.stats();
            (s.progress)(&stats);
        }
        if s.executions >= s.max_executions
            || s.time.is_some_and(|t| s.start.elapsed() >= t)
            || s.stop.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
        {
            INPUT.set(None);
            return None;
        }
        match s.inputs.sync(s.executions) {
            None => {
                INPUT.set(None);
                return None;
            }
            Some(imports) => {
                let imports = imports.into_iter().map(|(i, b)| (Some(Arc::new(i)), b));
                s.seeds.extend(imports.rev());
            }
        }
        s.executions += 1;
        let current = s.plan();
        INPUT.set(Some(
            Arc::clone(&current.input) as Arc<dyn Any + Send + Sync>
        ));
        s.current = Some(current);
        Some(Schedule::new(0))
    }

    fn next_task(&mut self, point: &Point<'_>) -> Option<TaskId> {
        let s = self.state.as_mut().expect("fuzz state");
        let annotated = s.records_access();
        let c = s.current.as_mut().expect("an execution is running");
        let step = c.points;
        c.points += 1;
        if let Walk::Rf(w) = &mut c.walk
            && step > 0
        {
            w.ended(step - 1, s.last_task);
        }
        let chosen = if point.runnable.len() == 1 {
            point.runnable[0].id()
        } else {
            let mut task = match &mut c.walk {
                Walk::Bytes(w) => w.choose(point),
                Walk::Random(w) => w.choose(point),
                Walk::Pct(w) => w.choose(point),
                Walk::Pos(w) => w.choose(point, &s.last_point, annotated && step > 0),
                Walk::Rf(w) => w.choose(point),
            };
            // Schedule bytes cannot stay on a task that yields: neither does the search.
            if point.yielding && Some(task) == point.current {
                task = point.next_after_current();
            }
            c.decisions.push(point.decision(step, task, true));
            task
        };
        let switches = s.source != FeatureSource::Access;
        s.collector.on_point(point, chosen, switches);
        let t = usize::from(chosen);
        if t >= s.last_point.len() {
            s.last_point.resize(t + 1, None);
        }
        s.last_point[t] = Some(step as u32);
        if let Walk::Rf(w) = &mut c.walk {
            s.last_task = t;
            w.began(t);
        }
        Some(chosen)
    }

    fn next_u64(&mut self) -> u64 {
        let s = self.state.as_mut().expect("fuzz state");
        match s.current.as_mut() {
            Some(c) => splitmix64(&mut c.rand),
            None => 0,
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

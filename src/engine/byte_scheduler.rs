//! A shuttle scheduler whose decisions come from input bytes (see [`ByteScheduler`]).

use std::sync::{Arc, Mutex};

use shuttle::scheduler::{Schedule, TaskId};

use super::decision::{DecisionLog, Point, index_digits};
use super::strategy::{Scheduled, Strategy};

/// A byte at or above this value keeps the current task running.
pub const STAY_THRESHOLD: u8 = 0x40;

/// The per-execution decision state of a [`ByteScheduler`].
#[derive(Debug)]
struct ByteChooser {
    bytes: Vec<u8>,
    /// Index of the next unread byte.
    pos: usize,
    quantum: usize,
    /// Consecutive decisions at which the current task was kept.
    streak: usize,
    /// SplitMix64 state for `next_u64`; starts at 0 each execution.
    rng: u64,
    /// The running execution's decisions, kept here without a lock (a lock and an `Arc` per
    /// scheduling point cost a tenth of an execution); [`ByteChooser::publish`] moves them to
    /// `log` when the execution is over.
    current: DecisionLog,
    /// `current` holds an execution not yet published.
    running: bool,
    /// The decisions of the last execution that ended, for [`ByteChooser::log`]'s readers.
    log: Arc<Mutex<DecisionLog>>,
}

impl ByteChooser {
    pub fn new(quantum: usize) -> Self {
        Self {
            bytes: Vec::new(),
            pos: 0,
            quantum,
            streak: 0,
            rng: 0,
            current: DecisionLog::default(),
            running: false,
            log: Arc::default(),
        }
    }

    /// Resets the state for an execution driven by `bytes`.
    pub fn reset(&mut self, bytes: Vec<u8>) {
        self.bytes = bytes;
        self.pos = 0;
        self.streak = 0;
        self.rng = 0;
        self.current.clear();
        self.running = true;
    }

    /// Moves the decisions of the execution that just ended to the shared log (and the shared
    /// log's old allocation here, to be cleared and reused). Called when shuttle asks for the
    /// next execution and when the scheduler is dropped: the end of `Runner::run`, normal or by
    /// a panic, so readers of the log find it complete once the run is over.
    fn publish(&mut self) {
        if !std::mem::take(&mut self.running) {
            return;
        }
        // A poisoned lock (a reader panicked holding it) still takes the log: this runs while
        // a failed execution unwinds, too.
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::swap(&mut *log, &mut self.current);
        self.current.clear();
    }

    pub fn log(&self) -> Arc<Mutex<DecisionLog>> {
        Arc::clone(&self.log)
    }

    pub fn choose(&mut self, point: &Point<'_>) -> TaskId {
        let log = &mut self.current;
        let step = log.steps;
        log.steps += 1;
        let (runnable, current) = (point.runnable, point.current);
        if runnable.len() == 1 {
            return runnable[0].id();
        }
        let (task, from_byte) = match byte_choice(&self.bytes, &mut self.pos, point) {
            Some(task) => (task, true),
            None => (fallback_choice(point, self.streak, self.quantum), false),
        };
        if Some(task) == current {
            self.streak += 1;
        } else {
            self.streak = 0;
        }
        log.decisions.push(point.decision(step, task, from_byte));
        task
    }

    pub fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.rng)
    }
}

impl Drop for ByteChooser {
    fn drop(&mut self) {
        // The last execution, also when a failure ended `Runner::run` by unwinding.
        self.publish();
    }
}

/// The choice that the schedule bytes from `*pos` on make at `point` (two or more runnable
/// tasks), advancing `*pos` past the bytes it read; `None` when the bytes have run out. The
/// encoding of [`ByteScheduler`], shared with the engine's [fuzzer](super::Fuzzer).
pub(crate) fn byte_choice(bytes: &[u8], pos: &mut usize, point: &Point<'_>) -> Option<TaskId> {
    let &b = bytes.get(*pos)?;
    *pos += 1;
    if point.can_stay() && b >= STAY_THRESHOLD {
        return Some(point.runnable[point.current_index.unwrap_or_default()].id());
    }
    let (first, extra) = index_digits(point.others_count(), point.current_index.is_some());
    let mut index = usize::from(b) % first;
    let mut scale = first;
    for _ in 0..extra {
        let digit = bytes.get(*pos).copied().unwrap_or(0);
        *pos = (*pos + 1).min(bytes.len());
        index = index.wrapping_add(usize::from(digit).wrapping_mul(scale));
        scale = scale.saturating_mul(256);
    }
    Some(point.other(index))
}

/// The deterministic fair policy once the bytes have run out: keep the current task for at most
/// `quantum` consecutive decisions (`streak` so far), then the next `TaskId` round-robin.
pub(crate) fn fallback_choice(point: &Point<'_>, streak: usize, quantum: usize) -> TaskId {
    if point.can_stay() && streak < quantum {
        point.runnable[point.current_index.unwrap_or_default()].id()
    } else {
        point.next_after_current()
    }
}

/// One step of SplitMix64: a fixed, seedable generator for `shuttle::rand`.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A shuttle scheduler that runs exactly one execution, with decisions read from bytes.
///
/// The encoding aims for mutation locality: a byte is read only at a decision (two or more
/// runnable tasks), so byte `k` always governs the `k`-th decision and changing one byte changes
/// one decision (and whatever follows from it).
///
/// * If the current task is runnable and has not yielded, a byte `>= 0x40`
///   ([`STAY_THRESHOLD`]) keeps it running; any other byte `b` switches to
///   `others[b % others.len()]`, where `others` are the runnable tasks other than the current
///   one, sorted by `TaskId`. Random bytes thus preempt about a quarter of the time, and `0xFF`
///   bytes give a schedule without preemptions.
/// * After a yield, `b` picks `others[b % others.len()]` too (a yield always switches).
/// * If the current task is not runnable (blocked or finished), `b` picks
///   `runnable[b % runnable.len()]`.
///
/// * With more than 64 such candidates (more than 256 when the current task is not runnable)
///   one byte cannot name them all: the first byte gives the low digit (`b % 64`, or `b`), and
///   each following byte a base-256 digit, as many as the candidates need (missing bytes read
///   as 0). Tests with at most 64 tasks always read one byte per decision.
///
/// When the bytes run out the scheduler never stops the execution (shuttle would leak the
/// stacks of unfinished tasks). It falls back to a deterministic fair policy: keep the current
/// task for at most [`quantum`](super::EngineConfig::quantum) consecutive decisions, then go
/// round-robin to the next `TaskId`; on a block, exit or yield go to the next `TaskId` at once.
/// Spin loops that yield (`shuttle::hint::spin_loop`, `yield_now`) therefore always make progress,
/// and so do spin loops that don't, after at most `quantum` iterations.
///
/// `shuttle::rand` draws from SplitMix64 seeded with 0, so an execution depends on the bytes
/// only. Keep the [`log`](Self::log) handle
/// before handing the scheduler to a `Runner` to read the decisions afterwards.
///
/// ```
/// use swapfuzz::engine::ByteScheduler;
/// let scheduler = ByteScheduler::new(&[0xFF, 0x00], 32);
/// let log = scheduler.log();
/// let mut config = shuttle::Config::new();
/// config.silence_warnings = true;
/// shuttle::Runner::new(scheduler, config).run(|| {
///     let t = shuttle::thread::spawn(|| {});
///     t.join().unwrap();
/// });
/// assert!(log.lock().unwrap().steps > 0);
/// ```
pub type ByteScheduler<B = std::option::IntoIter<Vec<u8>>> = Scheduled<ByteStrategy<B>>;

/// The [`Strategy`] of a [`ByteScheduler`].
#[derive(Debug)]
pub struct ByteStrategy<B> {
    chooser: ByteChooser,
    /// The bytes of each execution still to run.
    executions: B,
}

impl ByteScheduler {
    /// A scheduler for one execution driven by `bytes`, with fallback quantum `quantum`.
    pub fn new(bytes: &[u8], quantum: usize) -> Self {
        Self::each(Some(bytes.to_vec()).into_iter(), quantum)
    }
}

impl<B: Iterator<Item = Vec<u8>>> ByteScheduler<B> {
    /// A scheduler that runs one execution per item of `executions`, each driven by its bytes
    /// (a batch: [`run_batch`](super::run_batch)).
    pub(crate) fn each(executions: B, quantum: usize) -> Self {
        Scheduled(ByteStrategy {
            chooser: ByteChooser::new(quantum),
            executions,
        })
    }
}

impl<B> ByteScheduler<B> {
    /// A handle on the decision log, which stays readable after the scheduler is gone.
    pub fn log(&self) -> Arc<Mutex<DecisionLog>> {
        self.0.chooser.log()
    }
}

impl<B: Iterator<Item = Vec<u8>>> Strategy for ByteStrategy<B> {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.chooser.publish();
        let bytes = self.executions.next()?;
        self.chooser.reset(bytes);
        Some(Schedule::new(0))
    }

    fn next_task(&mut self, point: &Point<'_>) -> Option<TaskId> {
        Some(self.chooser.choose(point))
    }

    fn next_u64(&mut self) -> u64 {
        self.chooser.next_u64()
    }
}

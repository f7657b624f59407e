//! Running one execution of a shuttle test and classifying how it ended.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use shuttle::scheduler::Scheduler;
use shuttle::{Config, FailurePersistence, MaxSteps, Runner};

use super::byte_scheduler::ByteScheduler;
use super::checked::Checked;
use super::decision::Decision;
use super::quiet::RunGuard;

/// Prefix of the panics the engine's own schedulers raise (classified as
/// [`Outcome::EngineError`]).
pub(crate) const ENGINE_PANIC_PREFIX: &str = "swapfuzz engine:";

/// Settings shared by every way of running a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Scheduling points after which an execution fails with [`Outcome::StepBound`]
    /// (shuttle's `MaxSteps::FailAfter`).
    pub max_steps: usize,
    /// Consecutive decisions the fallback policy keeps a task running before it switches.
    pub quantum: usize,
    /// Stack size of each shuttle task, in bytes.
    pub stack_size: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_steps: 20_000,
            quantum: 32,
            stack_size: 0x10000,
        }
    }
}

/// How an execution ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every task finished.
    Pass,
    /// The code under test panicked; the payload as text (`&str`, `String`, or a placeholder for
    /// other payloads, which [`Execution::payload`] keeps).
    Panic(String),
    /// Shuttle found no runnable task while some were unfinished; shuttle's message.
    Deadlock(String),
    /// The execution exceeded [`EngineConfig::max_steps`] scheduling points.
    StepBound(usize),
    /// Shuttle or the engine failed, not the code under test; the message.
    EngineError(String),
}

impl Outcome {
    /// Whether the execution failed in any way.
    pub fn is_failure(&self) -> bool {
        *self != Outcome::Pass
    }

    /// Whether the failure is the code under test's own (a panic or a deadlock).
    pub fn is_bug(&self) -> bool {
        matches!(self, Outcome::Panic(_) | Outcome::Deadlock(_))
    }
}

/// One finished execution.
#[derive(Debug)]
pub struct Execution {
    /// The scheduling decisions (points with two or more runnable tasks).
    pub decisions: Vec<Decision>,
    /// The number of scheduling points.
    pub steps: usize,
    /// How the execution ended.
    pub outcome: Outcome,
    /// The panic payload, for a failed execution, to downcast custom payloads.
    pub payload: Option<Box<dyn Any + Send>>,
}

impl Execution {
    /// The number of decisions that were preemptions.
    pub fn preemptions(&self) -> usize {
        self.decisions.iter().filter(|d| d.preemption).count()
    }
}

/// Runs `test` once under a [`ByteScheduler`] driven by `schedule`.
///
/// Never panics because the test did: the panic, a deadlock or a step-bound overrun comes back as
/// the [`Outcome`]. Call [`quiet_panics`](super::quiet_panics) once to keep such panics off stderr.
/// Runs on the calling OS thread, or on a fresh one if a failed execution has left the calling
/// thread in a state where `std::thread::panicking()` is stuck at true (shuttle would otherwise
/// fail every later passing execution with "a task was still unwinding a panic").
pub fn run_once<F: Fn() + Send + Sync + 'static>(
    schedule: &[u8],
    cfg: &EngineConfig,
    test: F,
) -> Execution {
    run_bytes(schedule, cfg, |bytes| bytes, test)
}

/// [`run_once`], checked against `expected`, the decisions of an earlier execution of the same
/// test under the same bytes (or under any schedule they encode): a decision that sees another
/// runnable set or makes another choice, or a different number of decisions, ends the run as an
/// [`Outcome::EngineError`] saying the test is nondeterministic (see [`Checked`]).
pub fn run_checked<F: Fn() + Send + Sync + 'static>(
    schedule: &[u8],
    expected: &[Decision],
    cfg: &EngineConfig,
    test: F,
) -> Execution {
    let expected = expected.to_vec();
    run_bytes(schedule, cfg, |bytes| Checked::new(bytes, expected), test)
}

/// Runs `test` under a [`ByteScheduler`] driven by `schedule`, wrapped by `wrap`, and returns
/// the execution with the byte scheduler's decisions.
fn run_bytes<S, F>(
    schedule: &[u8],
    cfg: &EngineConfig,
    wrap: impl FnOnce(ByteScheduler) -> S,
    test: F,
) -> Execution
where
    S: Scheduler + Send + 'static,
    F: Fn() + Send + Sync + 'static,
{
    let bytes = ByteScheduler::new(schedule, cfg.quantum);
    let log = bytes.log();
    let (outcome, payload) = run_with_scheduler(wrap(bytes), cfg, test);
    let log = std::mem::take(&mut *log.lock().expect("decision log"));
    Execution {
        decisions: log.decisions,
        steps: log.steps,
        outcome,
        payload,
    }
}

/// Runs `test` under any shuttle scheduler (e.g. shuttle's `PctScheduler` or
/// `RandomScheduler`, for comparisons), quietly, until the scheduler stops or an execution fails.
/// Returns how the last execution ended and its panic payload. Wrap the scheduler in a
/// [`Recording`](super::Recording) to keep its decisions.
///
/// The one place a shuttle runner runs, for every way of running a test: a runner over
/// `scheduler` with the engine's shuttle configuration, on a clean OS thread (a fresh one if
/// the calling thread is stuck panicking, as for [`run_once`]), quietly and inside a
/// `catch_unwind`.
pub fn run_with_scheduler<S, F>(
    scheduler: S,
    cfg: &EngineConfig,
    test: F,
) -> (Outcome, Option<Box<dyn Any + Send>>)
where
    S: Scheduler + Send + 'static,
    F: Fn() + Send + Sync + 'static,
{
    let config = shuttle_config(cfg);
    on_clean_thread(move || {
        let runner = Runner::new(scheduler, config);
        let result = {
            let _guard = RunGuard::enter();
            panic::catch_unwind(AssertUnwindSafe(move || runner.run(test)))
        };
        split_result(result.map(drop))
    })
}

/// Classifies the result of a `catch_unwind` around `Runner::run`.
pub(crate) fn split_result(
    result: std::thread::Result<()>,
) -> (Outcome, Option<Box<dyn Any + Send>>) {
    match result {
        Ok(()) => (Outcome::Pass, None),
        Err(payload) => (classify(payload.as_ref()), Some(payload)),
    }
}

/// Runs `f` on this OS thread, unless the thread is *poisoned*; then on a fresh OS thread.
///
/// Shuttle tasks are coroutines on the caller's OS thread, and they share its panic count. When an
/// execution fails while another task is suspended in the middle of unwinding a panic (a task
/// panicked holding a shuttle lock, say, and the guard's drop switched to a task that panicked
/// too), shuttle leaks that task's stack, still unwinding, and `std::thread::panicking()` stays
/// true on the OS thread for good. Every later execution on it that passes then fails with
/// shuttle's "a task was still unwinding a panic" instead. Such a thread is avoided here, at the
/// cost of a thread spawn (about 40 µs) per run.
pub(crate) fn on_clean_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    if !std::thread::panicking() {
        return f();
    }
    std::thread::Builder::new()
        .name("swapfuzz-engine".into())
        .spawn(f)
        .expect("spawn an engine thread")
        .join()
        .unwrap_or_else(|payload| panic::resume_unwind(payload))
}

/// The shuttle configuration for engine runs: nothing persisted, no warnings, a hard step bound.
pub(crate) fn shuttle_config(cfg: &EngineConfig) -> Config {
    let mut config = Config::new();
    config.stack_size = cfg.stack_size;
    config.failure_persistence = FailurePersistence::None;
    config.max_steps = MaxSteps::FailAfter(cfg.max_steps);
    config.max_time = None;
    config.silence_warnings = true;
    config
}

/// The panic payload as text, if it is a `&str` or a `String`.
pub fn payload_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Sorts a panic out of `Runner::run` into the code under test's failures and shuttle's own.
pub(crate) fn classify(payload: &(dyn Any + Send)) -> Outcome {
    let Some(text) = payload_text(payload) else {
        return Outcome::Panic("<non-string panic payload>".into());
    };
    const ENGINE_ERRORS: [&str; 5] = [
        "a task was still unwinding a panic",
        "no task was scheduled",
        "`ExecutionState::with` panicked",
        "Task panicked, and early return is enabled",
        ENGINE_PANIC_PREFIX,
    ];
    if text.starts_with("deadlock!") {
        Outcome::Deadlock(text.to_owned())
    } else if let Some(rest) = text.strip_prefix("exceeded max_steps bound ") {
        let bound = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap_or_default();
        Outcome::StepBound(bound.parse().unwrap_or_default())
    } else if ENGINE_ERRORS.iter().any(|p| text.starts_with(p)) {
        Outcome::EngineError(text.to_owned())
    } else {
        Outcome::Panic(text.to_owned())
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;

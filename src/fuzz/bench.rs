//! The benchmark behind `swapfuzz bench`: throughput of one typical execution, and executions
//! and time to the first bug of the shmem race for `hunt` beside shuttle's `RandomScheduler`
//! and `PctScheduler` (depth 2 and 3) driving random programs from the same generator. Every
//! figure comes from the same process, on one core, so the ratios are meaningful on any machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shuttle::scheduler::{PctScheduler, RandomScheduler};

use super::generate;
use super::hunt::{HuntOptions, HuntResult, hunt};
use super::hunt_classic::hunt_classic;
use super::rng::Rng;
use crate::check::run::{BugPanic, execute};
use crate::engine::{EngineConfig, quiet_panics, run_batch, run_with_scheduler};
use crate::model::{Bug, ModelConfig, PatchSet};
use crate::program::Program;

/// Executions each baseline scheduler runs per generated program (one shuttle runner each).
pub const ITERS_PER_PROGRAM: usize = 16;

/// A search strategy of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `swapfuzz hunt`: the engine's fuzzer over the program generator.
    Hunt,
    /// `swapfuzz hunt` before it was rebuilt on the engine's fuzzer.
    HuntClassic,
    /// shuttle's `RandomScheduler`.
    Random,
    /// shuttle's `PctScheduler` with this depth.
    Pct(usize),
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Hunt => write!(f, "swapfuzz hunt"),
            Strategy::HuntClassic => write!(f, "swapfuzz hunt (classic)"),
            Strategy::Random => write!(f, "shuttle RandomScheduler"),
            Strategy::Pct(d) => write!(f, "shuttle PctScheduler(depth {d})"),
        }
    }
}

/// One search's result: executions and time to the first bug, if found within the budget.
#[derive(Clone, Copy, Debug)]
pub struct ToBug {
    /// Executions run (to the bug, or all of the budget).
    pub executions: u64,
    /// Time spent.
    pub elapsed: Duration,
    /// Whether the shmem race was found.
    pub found: bool,
}

/// Whether `bug` is the shmem race: inside `free_swap_and_cache()` called from
/// `shmem_free_swap()`, a bad access (KASAN: swapoff freed the map or the swap cache under it)
/// or a touch of another generation's memory (invariant S3: swapoff finished and a swapon
/// reused the `swap_info[]` slot under it). Both are the race 82b1c07a0af6 closes: with the
/// device reference held, swapoff can neither free nor finish.
pub fn is_shmem_race(bug: &Bug) -> bool {
    use crate::model::BugKind;
    let kind = match &bug.kind {
        BugKind::BadAccess { .. } => true,
        BugKind::Invariant { id, .. } => *id == "S3",
        _ => false,
    };
    kind && bug.stack.contains(&"free_swap_and_cache") && bug.stack.contains(&"shmem_free_swap")
}

/// What a time-to-bug search looks for.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The kernel searched.
    pub model: ModelConfig,
    /// Only the shmem race counts (the seed race on the default kernel); otherwise any bug
    /// (a kernel with one fix reverted has only that fix's race to find).
    pub shmem_race_only: bool,
}

impl Default for Target {
    /// The seed race on v6.8.
    fn default() -> Self {
        Target {
            model: ModelConfig::default(),
            shmem_race_only: true,
        }
    }
}

impl Target {
    /// Whether `bug` is what the search looks for.
    pub fn wants(&self, bug: &Bug) -> bool {
        !self.shmem_race_only || is_shmem_race(bug)
    }
}

/// Searches with `strategy` from seed `seed` until the shmem race or the budget.
pub fn time_to_bug(strategy: Strategy, seed: u64, budget: Duration) -> ToBug {
    search_to_bug(strategy, &Target::default(), seed, budget, None)
}

/// Searches with `strategy` from seed `seed` until `target`'s bug, `budget` or
/// `max_executions` (with an execution budget the count is the same on any machine, unless the
/// time budget ends it first).
pub fn search_to_bug(
    strategy: Strategy,
    target: &Target,
    seed: u64,
    budget: Duration,
    max_executions: Option<u64>,
) -> ToBug {
    quiet_panics();
    let start = Instant::now();
    let cfg = target.model;
    let max = max_executions.unwrap_or(u64::MAX);
    if matches!(strategy, Strategy::Hunt | Strategy::HuntClassic) {
        let opts = HuntOptions {
            model: cfg,
            seed,
            time: budget,
            max_executions,
            ..HuntOptions::default()
        };
        let result = if strategy == Strategy::Hunt {
            hunt(&opts, Box::new(|_| {}))
        } else {
            hunt_classic(&opts, &mut |_| {})
        };
        return match result {
            HuntResult::Found {
                executions, bug, ..
            } => ToBug {
                executions,
                elapsed: start.elapsed(),
                found: target.wants(&bug),
            },
            HuntResult::Clean { executions, .. } | HuntResult::Error { executions, .. } => ToBug {
                executions,
                elapsed: start.elapsed(),
                found: false,
            },
        };
    }
    let mut rng = Rng::new(seed);
    let count = Arc::new(AtomicU64::new(0));
    while start.elapsed() < budget && count.load(Ordering::Relaxed) < max {
        let p = generate::program(&mut rng);
        let s = rng.next_u64();
        let c = Arc::clone(&count);
        let test = move || {
            c.fetch_add(1, Ordering::Relaxed);
            execute(&p, cfg)
        };
        let engine = EngineConfig::default();
        let left = max - count.load(Ordering::Relaxed);
        let iterations = ITERS_PER_PROGRAM.min(usize::try_from(left).unwrap_or(usize::MAX));
        let (outcome, payload) = match strategy {
            Strategy::Random => {
                run_with_scheduler(RandomScheduler::new_from_seed(s, iterations), &engine, test)
            }
            Strategy::Pct(depth) => run_with_scheduler(
                PctScheduler::new_from_seed(s, depth, iterations),
                &engine,
                test,
            ),
            Strategy::Hunt | Strategy::HuntClassic => unreachable!("handled above"),
        };
        if outcome.is_failure()
            && payload
                .as_ref()
                .and_then(|p| p.downcast_ref::<BugPanic>())
                .is_some_and(|b| target.wants(&b.bug))
        {
            return ToBug {
                executions: count.load(Ordering::Relaxed),
                elapsed: start.elapsed(),
                found: true,
            };
        }
    }
    ToBug {
        executions: count.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
        found: false,
    }
}

/// A typical program: 3 CPUs of about ten operations over every path (the one
/// `examples/model_bench.rs` also runs).
pub fn typical_program() -> Program {
    crate::program::text::parse(TYPICAL_PROGRAM)
        .expect("the typical program parses")
        .program
}

/// [`typical_program`] as scenario text.
const TYPICAL_PROGRAM: &str = "\
setup:
  swapon
  mmap pages=4
  mmap huge
  shmem-write file=0 index=0
  shmem-write file=0 index=1
  swapout mm=0 pte=0
  swapout mm=1 pte=0
  shmem-writepage file=0 index=0
cpu0:
  fork mm=0
  swapout mm=0 pte=1
  swapin mm=0 pte=0
  zap mm=2 pte=0
  shmem-writepage file=0 index=1
  reclaim dev=0 offset=0
  swapin mm=1 pte=1 write
  exit mm=0
  shmem-write file=1 index=2
  shmem-truncate file=1
cpu1:
  swapout mm=0 pte=2
  shmem-truncate file=0
  zap mm=0 pte=3
  reclaim dev=0 offset=1
  fork mm=1
  swapin mm=0 pte=1
  exit mm=1
  mmap pages=2
  swapout mm=3 pte=0
  exit mm=2
cpu2:
  reclaim dev=0 offset=2
  swapin mm=0 pte=2 write
  zap mm=1 pte=1
  shmem-write file=1 index=0
  shmem-writepage file=1 index=0
  swapoff dev=0
  swapon
  swapout mm=0 pte=3
  reclaim dev=0 offset=0
  swapoff dev=0
";

/// CPU time this process has used (user and system, every thread): throughput figures divide
/// by it rather than by wall-clock time, so another load on the machine does not skew them.
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux defines.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if r != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Executions per CPU second of [`typical_program`] under random schedules of `schedule_len`
/// bytes (the fair fallback runs the rest), in one shuttle runner (`run_batch`), on the fixed
/// kernel (no execution stops early).
pub fn throughput(executions: usize, schedule_len: usize) -> (f64, usize) {
    quiet_panics();
    let cfg = crate::check::config::model(PatchSet::fixed());
    let p = typical_program();
    let mut rng = Rng::new(0);
    let inputs: Vec<(Program, Vec<u8>)> = (0..executions)
        .map(|_| (p.clone(), (0..schedule_len).map(|_| rng.byte()).collect()))
        .collect();
    let steps = {
        let p = p.clone();
        crate::engine::run_once(&inputs[0].1, &EngineConfig::default(), move || {
            execute(&p, cfg)
        })
        .steps
    };
    let t = cpu_time();
    let r = run_batch(
        inputs.into_iter(),
        &EngineConfig::default(),
        move |p: &Program| execute(p, cfg),
    );
    (r.executions as f64 / (cpu_time() - t).as_secs_f64(), steps)
}

/// Executions per CPU second of the same runner with no model at all: `tasks` shuttle tasks that
/// each only call [`engine::point`](crate::engine::point) `points / tasks` times, under random
/// schedules of `schedule_len` bytes. It is shuttle's and the engine's own cost of `points`
/// scheduling points: the most any model with that many points per execution can reach in
/// this runner (with one task, every point has a single runnable task).
pub fn runtime_floor(executions: usize, points: usize, tasks: usize, schedule_len: usize) -> f64 {
    quiet_panics();
    let per = points / tasks.max(1);
    let mut rng = Rng::new(0);
    let inputs: Vec<((), Vec<u8>)> = (0..executions)
        .map(|_| ((), (0..schedule_len).map(|_| rng.byte()).collect()))
        .collect();
    let t = cpu_time();
    let r = run_batch(
        inputs.into_iter(),
        &EngineConfig::default(),
        move |_: &()| {
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    shuttle::thread::spawn(move || {
                        for _ in 0..per {
                            crate::engine::point();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().expect("a task that only yields does not panic");
            }
        },
    );
    r.executions as f64 / (cpu_time() - t).as_secs_f64()
}

/// Executions per CPU second of the engine's [`Fuzzer`](crate::engine::Fuzzer) searching the
/// schedules of [`typical_program`] on the fixed kernel, for `executions` executions: the
/// search loop's own cost beside [`throughput`]'s bare batch. `arms`: only these strategies
/// (`[Arm::Random]` schedules as the batch's random bytes do); empty: all. `source`: the
/// features rewarded (`FeatureSource::Switches` records no access annotations: the cost of
/// recording and deriving access features is the difference to `Auto`).
pub fn fuzzer_throughput(
    executions: u64,
    arms: &[crate::engine::Arm],
    source: crate::engine::FeatureSource,
) -> f64 {
    use crate::engine::{Fuzzer, Fuzzing, Inputs};
    struct Typical(Program);
    impl Inputs for Typical {
        type Input = Program;
        fn generate(&mut self, _rng: &mut Rng) -> Program {
            self.0.clone()
        }
        fn varies(&self) -> bool {
            false
        }
    }
    quiet_panics();
    let cfg = crate::check::config::model(PatchSet::fixed());
    let t = cpu_time();
    let r = Fuzzer::new()
        .arms(arms)
        .features(source)
        .max_executions(executions)
        .run_inputs(
            Typical(typical_program()),
            move |p: &Program| execute(p, cfg),
            Box::new(|_| {}),
        );
    let n = match r {
        Fuzzing::Exhausted(s) => s.executions,
        Fuzzing::Failed(f) => f.stats.executions,
    };
    n as f64 / (cpu_time() - t).as_secs_f64()
}

/// The resident set size of this process, in KiB (`VmRSS` in `/proc/self/status`; `None` where
/// there is no such file).
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One reading of a long run: executions so far, the resident set size, time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RssSample {
    /// Executions so far.
    pub executions: u64,
    /// `VmRSS` in KiB (0 if unknown).
    pub rss_kib: u64,
    /// Time since the start.
    pub elapsed: Duration,
    /// Whether hunt has returned (and freed its state): the last sample.
    pub finished: bool,
}

/// Runs `hunt` on the fixed kernel (which has no bug to stop at) for `executions` executions
/// and calls `sample` with the resident set size each time another `every` executions have run
/// (hunt reports progress about every 0.5 s, so a sample comes a little after each multiple),
/// and once after it returned. Memory that grows with the run length shows up as a slope.
pub fn rss_run(seed: u64, executions: u64, every: u64, sample: &mut dyn FnMut(RssSample)) {
    let opts = HuntOptions {
        model: crate::check::config::model(PatchSet::fixed()),
        seed,
        max_executions: Some(executions),
        time: Duration::from_secs(u64::MAX / 4),
        ..HuntOptions::default()
    };
    let every = every.max(1);
    let mut next = every;
    // Read at each report, handed over at the end (the search's thread runs the reports).
    let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&samples);
    let progress = move |p: &super::hunt::Progress| {
        if p.executions >= next {
            next = (p.executions / every + 1) * every;
            sink.lock().expect("samples").push(RssSample {
                executions: p.executions,
                rss_kib: rss_kib().unwrap_or_default(),
                elapsed: p.elapsed,
                finished: false,
            });
        }
    };
    let start = Instant::now();
    let result = hunt(&opts, Box::new(progress));
    for s in std::mem::take(&mut *samples.lock().expect("samples")) {
        sample(s);
    }
    let done = match result {
        HuntResult::Clean { executions, .. }
        | HuntResult::Found { executions, .. }
        | HuntResult::Error { executions, .. } => executions,
    };
    sample(RssSample {
        executions: done,
        rss_kib: rss_kib().unwrap_or_default(),
        elapsed: start.elapsed(),
        finished: true,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BugKind;

    fn bug(id: &'static str, stack: &[&'static str]) -> Bug {
        Bug {
            kind: BugKind::Invariant {
                id,
                detail: String::new(),
            },
            func: stack.last().copied().unwrap_or(""),
            cpu: Some(0),
            stack: stack.to_vec(),
            step: 0,
            state: String::new(),
        }
    }

    /// The S3 form of the shmem race counts (the fix closes it); another invariant on the same
    /// path, or S3 on another path, does not.
    #[test]
    fn shmem_race_includes_its_s3_form_only() {
        let path = [
            "shmem_truncate_range",
            "shmem_free_swap",
            "free_swap_and_cache",
            "swap_page_trans_huge_swapped",
        ];
        assert!(is_shmem_race(&bug("S3", &path)));
        assert!(!is_shmem_race(&bug("C3", &path)));
        assert!(!is_shmem_race(&bug(
            "S3",
            &["zap_pte_range", "free_swap_and_cache"]
        )));
    }
}

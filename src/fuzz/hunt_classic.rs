//! The stand-alone search as it was before it was rebuilt on the engine's
//! [`Fuzzer`](crate::engine::Fuzzer) ([`mod@super::hunt`]), kept for `swapfuzz bench`'s
//! comparison: generates and mutates inputs (in the [`input`](crate::program::bytes) format),
//! runs them in batches in one shuttle runner, and stops at the first kernel bug.
//!
//! Each round builds a batch of candidates: fresh ones from the biased [generator](super::generate),
//! and mutants of corpus entries (a changed schedule, a changed program, or raw byte edits of the
//! encoded input). An input joins the small corpus when it shows a new *feature*: its program's
//! shape (the kinds on each CPU) together with the number of context switches the execution
//! made, bucketed. The first failing execution of a batch is run again for the verdict, checked
//! against the batch's decisions ([`run_checked`]). Everything depends only on the options: with
//! `max_executions` and a long `time`, the same seed gives the same executions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::generate::{self, MAX_SCHEDULE};
use super::hunt::{HuntOptions, HuntResult, Progress};
use super::rng::Rng;
use crate::program::bytes::{decode, encode};
use shuttle::scheduler::PctScheduler;

use crate::check::run::{Verdict, execute, run_program};
use crate::engine::{
    EngineConfig, Recording, decisions_to_bytes, quiet_panics, run_batch, run_checked,
    run_with_scheduler,
};
use crate::model::ModelConfig;
use crate::program::Program;

/// Executions per batch (one shuttle runner).
const BATCH: usize = 128;
/// Most corpus entries; new ones replace random old ones beyond this.
const MAX_CORPUS: usize = 256;
/// Slots of the feature table (a power of two; 8 bytes each).
const FEATURE_SLOTS: usize = 1 << 16;
/// Slots per bucket of the feature table.
const FEATURE_WAYS: usize = 4;
/// Time between progress reports.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// One candidate: the input bytes and what they decode to.
struct Candidate {
    input: Vec<u8>,
    program: Program,
    schedule: Vec<u8>,
}

impl Candidate {
    fn new(program: &Program, schedule: &[u8]) -> Self {
        Self::from_input(encode(program, schedule))
    }

    fn from_input(input: Vec<u8>) -> Self {
        let d = decode(&input);
        Candidate {
            input,
            program: d.program,
            schedule: d.schedule,
        }
    }
}

/// The features seen, in fixed memory: a set-associative table of 64-bit feature hashes,
/// [`FEATURE_WAYS`] per bucket. A new feature in a full bucket replaces the bucket's oldest
/// one. Until some bucket overflows it is an exact set (with 16,384 buckets, overflows are rare
/// below about 5,000 features: the first searches behave as with an unbounded set); after that
/// a feature not seen among the last few in its bucket counts as new again.
pub(crate) struct FeatureTable {
    slots: Box<[u64]>,
}

impl FeatureTable {
    pub(crate) fn new() -> Self {
        FeatureTable {
            slots: vec![0; FEATURE_SLOTS].into_boxed_slice(),
        }
    }

    /// Records `feature`; true if it was not in the table.
    pub(crate) fn insert(&mut self, feature: u64) -> bool {
        // 0 marks an empty slot.
        let feature = feature.max(1);
        let buckets = FEATURE_SLOTS / FEATURE_WAYS;
        let at = (feature as usize % buckets) * FEATURE_WAYS;
        let bucket = &mut self.slots[at..at + FEATURE_WAYS];
        if bucket.contains(&feature) {
            return false;
        }
        // Newest first: shift the others down, dropping the oldest (or an empty slot).
        bucket.copy_within(0..FEATURE_WAYS - 1, 1);
        bucket[0] = feature;
        true
    }

    /// Features held (at most `FEATURE_SLOTS`).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().filter(|&&s| s != 0).count()
    }
}

/// The search's state.
struct Hunter {
    rng: Rng,
    corpus: Vec<Candidate>,
    seen: FeatureTable,
    /// The program of a schedule-only search.
    fixed: Option<Program>,
}

impl Hunter {
    fn candidate(&mut self) -> Candidate {
        let rng = &mut self.rng;
        if let Some(p) = &self.fixed {
            let mut s = if self.corpus.is_empty() || rng.chance(1, 4) {
                generate::schedule(rng)
            } else {
                self.corpus[rng.below(self.corpus.len())].schedule.clone()
            };
            for _ in 0..rng.range(1, 3) {
                generate::mutate_schedule(rng, &mut s);
            }
            return Candidate::new(p, &s);
        }
        if self.corpus.is_empty() || rng.chance(1, 4) {
            let p = generate::program(rng);
            return Candidate::new(&p, &generate::schedule(rng));
        }
        // Tournament selection: the more promising of two entries.
        let a = &self.corpus[rng.below(self.corpus.len())];
        let b = &self.corpus[rng.below(self.corpus.len())];
        let parent = if generate::promise(&b.program) > generate::promise(&a.program) {
            b
        } else {
            a
        };
        let (mut p, mut s) = (parent.program.clone(), parent.schedule.clone());
        match rng.below(8) {
            0..=3 => {
                for _ in 0..rng.range(1, 3) {
                    generate::mutate_schedule(rng, &mut s);
                }
            }
            4 => s = generate::schedule(rng),
            5 | 6 => {
                generate::mutate_program(rng, &mut p);
                if rng.chance(1, 2) {
                    generate::mutate_schedule(rng, &mut s);
                }
            }
            _ => {
                let mut bytes = parent.input.clone();
                for _ in 0..rng.range(1, 4) {
                    let at = rng.below(bytes.len().max(1));
                    if at < bytes.len() {
                        bytes[at] = rng.byte();
                    }
                }
                bytes.truncate(1 + 255 + MAX_SCHEDULE);
                return Candidate::from_input(bytes);
            }
        }
        Candidate::new(&p, &s)
    }

    /// A program for a PCT round: fresh, or the more promising of two corpus entries.
    fn pct_program(&mut self) -> Program {
        if let Some(p) = &self.fixed {
            return p.clone();
        }
        let rng = &mut self.rng;
        if self.corpus.is_empty() || rng.chance(1, 2) {
            return generate::program(rng);
        }
        let a = &self.corpus[rng.below(self.corpus.len())].program;
        let b = &self.corpus[rng.below(self.corpus.len())].program;
        if generate::promise(b) > generate::promise(a) {
            b.clone()
        } else {
            a.clone()
        }
    }

    /// Keeps `c` if its feature is new.
    fn observe(&mut self, c: Candidate, switches: usize) {
        let mut h = std::hash::DefaultHasher::new();
        let shape = super::hunt::shape(&c.program);
        std::hash::Hash::hash(&(shape, bucket(switches)), &mut h);
        if self.seen.insert(std::hash::Hasher::finish(&h)) {
            if self.corpus.len() < MAX_CORPUS {
                self.corpus.push(c);
            } else {
                let at = self.rng.below(MAX_CORPUS);
                self.corpus[at] = c;
            }
        }
    }
}

/// Executions of one program under shuttle's PCT scheduler in a PCT round.
const PCT_ITERS: usize = 16;

/// About `budget` executions of shuttle's PCT scheduler (Burckhardt et al., ASPLOS 2010; depth
/// 2 or 3) on programs from the generator and the corpus, recorded as decisions; a failing
/// schedule becomes schedule bytes, so its reproducer is an ordinary input.
fn pct_round(
    hunter: &mut Hunter,
    cfg: ModelConfig,
    engine: &EngineConfig,
    budget: usize,
    executions: &mut u64,
    start: Instant,
) -> Option<HuntResult> {
    for _ in 0..budget.div_ceil(PCT_ITERS) {
        let program = hunter.pct_program();
        let depth = hunter.rng.range(2, 3);
        let seed = hunter.rng.next_u64();
        let count = Arc::new(AtomicU64::new(0));
        let rec = Recording::new(PctScheduler::new_from_seed(seed, depth, PCT_ITERS));
        let log = rec.log();
        let (p, c) = (program.clone(), Arc::clone(&count));
        let (outcome, _) = run_with_scheduler(rec, engine, move || {
            c.fetch_add(1, Ordering::Relaxed);
            execute(&p, cfg)
        });
        *executions += count.load(Ordering::Relaxed);
        if !outcome.is_failure() {
            continue;
        }
        let decisions = log.lock().expect("decision log").decisions.clone();
        let c = Candidate::new(&program, &decisions_to_bytes(&decisions));
        let (verdict, _) = run_program(&c.program, cfg, &c.schedule, engine);
        return Some(match verdict {
            Verdict::Bug(bug, _) => HuntResult::Found {
                input: c.input,
                executions: *executions,
                elapsed: start.elapsed(),
                bug,
            },
            Verdict::Error(message) => HuntResult::Error {
                message,
                input: c.input,
                executions: *executions,
            },
            Verdict::Clean => HuntResult::Error {
                message: format!("a PCT failure ({outcome:?}) did not replay from its bytes"),
                input: c.input,
                executions: *executions,
            },
        });
    }
    None
}

/// Log-scale bucket of a count.
fn bucket(n: usize) -> usize {
    if n < 8 { n } else { 8 + n.ilog2() as usize }
}

/// Searches for a kernel bug in `opts.model`, the old way; calls `progress` about every 0.5 s,
/// and once more when the budget runs out.
pub fn hunt_classic(opts: &HuntOptions, progress: &mut dyn FnMut(&Progress)) -> HuntResult {
    quiet_panics();
    let start = Instant::now();
    let cfg = opts.model;
    let engine = EngineConfig::default();
    let mut hunter = Hunter {
        rng: Rng::new(opts.seed),
        corpus: Vec::new(),
        seen: FeatureTable::new(),
        fixed: opts.program.clone(),
    };
    let mut executions = 0u64;
    let mut round = 0u64;
    let mut last_report = start;
    loop {
        let left = opts
            .max_executions
            .map_or(u64::MAX, |m| m - executions.min(m));
        if left == 0 || start.elapsed() >= opts.time {
            // A last report, with the search's state still alive (for memory readings).
            progress(&Progress {
                executions,
                elapsed: start.elapsed(),
                corpus: hunter.corpus.len(),
            });
            return HuntResult::Clean {
                executions,
                elapsed: start.elapsed(),
            };
        }
        let n = BATCH.min(usize::try_from(left).unwrap_or(BATCH));
        if round % 2 == 1 {
            round += 1;
            if let Some(r) = pct_round(&mut hunter, cfg, &engine, n, &mut executions, start) {
                return r;
            }
            continue;
        }
        round += 1;
        let batch: Vec<Candidate> = (0..n).map(|_| hunter.candidate()).collect();
        let switches = Arc::new(Mutex::new(vec![0usize; n]));
        let inputs: Vec<((usize, Program), Vec<u8>)> = batch
            .iter()
            .enumerate()
            .map(|(i, c)| ((i, c.program.clone()), c.schedule.clone()))
            .collect();
        let sink = Arc::clone(&switches);
        let result = run_batch(
            inputs.into_iter(),
            &engine,
            move |(i, p): &(usize, Program)| {
                execute(p, cfg);
                sink.lock().expect("switch counts")[*i] = shuttle::current::context_switches();
            },
        );
        let switches = std::mem::take(&mut *switches.lock().expect("switch counts"));
        if let Some(failure) = result.failure {
            executions += failure.index as u64 + 1;
            let c = &batch[failure.index];
            // Again for the payload, checked against the batch's decisions: a test that does not
            // repeat them is nondeterministic, an engine error.
            let p = c.program.clone();
            let exec = run_checked(&c.schedule, &failure.decisions, &engine, move || {
                execute(&p, cfg)
            });
            return match Verdict::of(&exec) {
                Verdict::Bug(bug, _) => HuntResult::Found {
                    input: c.input.clone(),
                    executions,
                    elapsed: start.elapsed(),
                    bug,
                },
                Verdict::Error(message) => HuntResult::Error {
                    message,
                    input: c.input.clone(),
                    executions,
                },
                Verdict::Clean => HuntResult::Error {
                    message: format!(
                        "nondeterminism: the batch run failed ({:?}) but the re-run passed",
                        failure.outcome
                    ),
                    input: c.input.clone(),
                    executions,
                },
            };
        }
        executions += n as u64;
        for (c, s) in batch.into_iter().zip(switches) {
            hunter.observe(c, s);
        }
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            progress(&Progress {
                executions,
                elapsed: start.elapsed(),
                corpus: hunter.corpus.len(),
            });
        }
    }
}

#[cfg(test)]
#[path = "hunt_classic_tests.rs"]
mod tests;

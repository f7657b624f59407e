//! The stand-alone search on stable Rust: the engine's [`Fuzzer`] over the swap programs of the
//! biased [generator](super::generate), stopping at the first kernel bug.
//!
//! The generator is the fuzzer's [`Inputs`]: fresh programs, mutated programs, and a feature
//! per program shape (the kinds on each CPU); the fuzzer searches the schedules of each
//! program with its strategies (random walks, PCT, partial order sampling, corpus mutation,
//! reads-from constraints) and, most of the time, runs a fresh program, or a corpus program
//! drawn by its novelty and mutated half the time, under an early PCT schedule (the engine's
//! fresh- and mutant-input strategies), rewarded for new interleaving features: access
//! features where the model annotates its
//! shared state, switch features otherwise. The failing execution comes back as a program and
//! schedule bytes, replayed and checked against the search's decisions; its reproducer is an
//! ordinary input ([`encode`]). Everything depends only on the options: with `max_executions`
//! and a long `time`, the same seed gives the same executions. The search before the fuzzer
//! is [`hunt_classic`](super::hunt_classic::hunt_classic), kept for `swapfuzz bench`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::generate;
use crate::check::run::{Verdict, execute};
use crate::engine::{FuzzStats, Fuzzer, Fuzzing, Inputs, Rng};
use crate::model::{Bug, ModelConfig};
use crate::program::Program;
use crate::program::bytes::{decode, encode};

/// What to search and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuntOptions {
    /// The model searched: the `free_swap_and_cache()` under test and the kernel's switches.
    pub model: ModelConfig,
    /// Wall-clock budget (checked between batches).
    pub time: Duration,
    /// Seed of the search's generator.
    pub seed: u64,
    /// Stop after this many executions.
    pub max_executions: Option<u64>,
    /// Search schedules of this program only (a scenario), instead of programs and schedules.
    pub program: Option<Program>,
    /// A corpus directory in libFuzzer's format (one input per file, the
    /// [`input`](crate::program::bytes) format): its inputs run first, and every input the
    /// search keeps is written there, named by a hash of its bytes.
    pub corpus: Option<PathBuf>,
}

impl Default for HuntOptions {
    fn default() -> Self {
        HuntOptions {
            model: ModelConfig::default(),
            time: Duration::from_secs(60),
            seed: 1,
            max_executions: None,
            program: None,
            corpus: None,
        }
    }
}

/// A progress report, about every 0.5 s and once when the budget runs out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Executions so far.
    pub executions: u64,
    /// Time since the start.
    pub elapsed: Duration,
    /// Corpus entries.
    pub corpus: usize,
}

/// How a search ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HuntResult {
    /// A kernel bug.
    Found {
        /// The reproducer, in the [`input`](crate::program::bytes) format.
        input: Vec<u8>,
        /// Executions up to and including the failing one.
        executions: u64,
        /// Time to the bug.
        elapsed: Duration,
        /// The bug.
        bug: Box<Bug>,
    },
    /// The budget ran out with no bug.
    Clean {
        /// Executions run.
        executions: u64,
        /// Time spent.
        elapsed: Duration,
    },
    /// swapfuzz itself failed on an input (never a kernel bug).
    Error {
        /// What failed.
        message: String,
        /// The input, in the [`input`](crate::program::bytes) format.
        input: Vec<u8>,
        /// Executions up to and including the failing one.
        executions: u64,
    },
}

/// The programs of a search: generated and mutated, or one fixed program.
struct Programs {
    fixed: Option<Program>,
    corpus: Option<PathBuf>,
    /// The corpus directory's inputs this search runs first (read once, before the workers
    /// start, so that no worker sees what another kept).
    initial: Vec<Vec<u8>>,
    /// With `--jobs`: the exchange with the other workers.
    share: Option<Share>,
}

/// Executions between two exchanges of kept inputs among [`hunt_jobs`] workers: past the
/// seed race's typical find (a few hundred executions a worker), which exchanges every 256
/// executions made twice as costly (docs/continuous-fuzzing.md#hunt---jobs).
pub const SHARE_EVERY: u64 = 1024;

/// A worker imports at most `1 / IMPORT_SHARE` of an epoch's executions from the others.
pub const IMPORT_SHARE: u64 = 8;

/// What a worker kept: (program, canonical schedule) pairs.
type Kept = Vec<(Program, Vec<u8>)>;

/// The exchange of the workers of one [`hunt_jobs`] search.
struct Exchange {
    state: Mutex<ExchangeState>,
    changed: Condvar,
    /// The lowest execution index of a worker's find so far: no worker runs beyond it. Read
    /// before every execution, so it is an atomic, not behind the mutex; lowered (`fetch_min`)
    /// before the finder departs, whose notification wakes any worker waiting in an epoch.
    stop_at: AtomicU64,
}

impl Exchange {
    /// An exchange for `jobs` workers, nothing published yet.
    fn new(jobs: usize) -> Self {
        Exchange {
            state: Mutex::new(ExchangeState {
                epochs: BTreeMap::new(),
                imported: vec![0; jobs],
                departed: vec![false; jobs],
            }),
            changed: Condvar::new(),
            stop_at: AtomicU64::new(u64::MAX),
        }
    }
}

struct ExchangeState {
    /// What each worker kept in each epoch: `epochs[e][w]` (published at the end of epoch
    /// `e`, dropped once every worker imported it).
    epochs: BTreeMap<u64, Vec<Option<Arc<Kept>>>>,
    /// The last epoch each worker imported.
    imported: Vec<u64>,
    /// Workers that ended (found a bug, ran out of budget or time).
    departed: Vec<bool>,
}

/// A worker's side of the [`Exchange`].
struct Share {
    exchange: Arc<Exchange>,
    worker: usize,
    /// Executions per epoch (0: keep everything to oneself).
    every: u64,
    /// What this worker kept in the running epoch, not yet published.
    outbox: Kept,
    /// Hashes of the inputs already shared (published or imported): not published again.
    known: std::collections::HashSet<u64>,
}

impl Share {
    /// Before execution `executions + 1`: stop at a find's index; at the end of an epoch,
    /// publish what this worker kept, wait until every other worker has published the same
    /// epoch (or ended), and import theirs in worker order.
    fn sync(&mut self, executions: u64) -> Option<Kept> {
        let ex = Arc::clone(&self.exchange);
        if executions >= ex.stop_at.load(Ordering::Acquire) {
            return None;
        }
        if self.every == 0 || executions == 0 || !executions.is_multiple_of(self.every) {
            return Some(Vec::new());
        }
        let mut st = ex.state.lock().expect("hunt exchange");
        let epoch = executions / self.every;
        let jobs = st.departed.len();
        let out = Arc::new(std::mem::take(&mut self.outbox));
        st.epochs.entry(epoch).or_insert_with(|| vec![None; jobs])[self.worker] = Some(out);
        ex.changed.notify_all();
        loop {
            if executions >= ex.stop_at.load(Ordering::Acquire) {
                return None;
            }
            let row = &st.epochs[&epoch];
            if (0..jobs).all(|w| row[w].is_some() || st.departed[w]) {
                break;
            }
            st = ex.changed.wait(st).expect("hunt exchange");
        }
        // Each import costs an execution: at most 1/IMPORT_SHARE of the epoch's, split among
        // the other workers, the newest each kept (early epochs keep almost every execution).
        let cap = (self.every / IMPORT_SHARE / (jobs as u64 - 1).max(1)).max(1) as usize;
        let mut imports = Vec::new();
        for (w, kept) in st.epochs[&epoch].iter().enumerate() {
            if w == self.worker {
                continue;
            }
            let kept = kept
                .as_deref()
                .map_or(&[][..], |k| &k[k.len().saturating_sub(cap)..]);
            for (p, schedule) in kept {
                if self.known.insert(fnv(&encode(p, schedule))) {
                    imports.push((p.clone(), schedule.clone()));
                }
            }
        }
        st.imported[self.worker] = epoch;
        let done = (0..jobs)
            .filter(|&w| !st.departed[w])
            .map(|w| st.imported[w])
            .min()
            .unwrap_or(u64::MAX);
        st.epochs.retain(|&e, _| e > done);
        Some(imports)
    }
}

/// FNV-1a of `data`: the name of a corpus file.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl Inputs for Programs {
    type Input = Program;

    fn generate(&mut self, rng: &mut Rng) -> Program {
        match &self.fixed {
            Some(p) => p.clone(),
            None => generate::program(rng),
        }
    }

    fn mutate(&mut self, rng: &mut Rng, p: &Program) -> Option<Program> {
        if self.fixed.is_some() {
            return None;
        }
        let mut q = p.clone();
        generate::mutate_program_extending(rng, &mut q);
        Some(q)
    }

    fn seeds(&mut self) -> Vec<(Program, Vec<u8>)> {
        std::mem::take(&mut self.initial)
            .iter()
            .map(|data| {
                let d = decode(data);
                (self.fixed.clone().unwrap_or(d.program), d.schedule)
            })
            .collect()
    }

    fn sync(&mut self, executions: u64) -> Option<Vec<(Program, Vec<u8>)>> {
        match &mut self.share {
            Some(share) => share.sync(executions),
            None => Some(Vec::new()),
        }
    }

    fn kept(&mut self, p: &Program, schedule: &[u8]) {
        let sharing = self.share.as_ref().is_some_and(|s| s.every > 0);
        if !sharing && self.corpus.is_none() {
            return;
        }
        // One encoding and hash of the entry for both the exchange and the corpus directory.
        let input = encode(p, schedule);
        let hash = fnv(&input);
        if let Some(share) = &mut self.share
            && sharing
            && share.known.insert(hash)
        {
            share.outbox.push((p.clone(), schedule.to_vec()));
        }
        if let Some(dir) = &self.corpus {
            let path = dir.join(format!("{hash:016x}"));
            // A corpus file that cannot be written is a lost seed, not a lost bug.
            let _ = crate::output_file::create_dir(dir)
                .and_then(|()| crate::output_file::write(&path, &input, false).map(drop));
        }
    }

    fn varies(&self) -> bool {
        self.fixed.is_none()
    }

    fn feature(&self, p: &Program) -> Option<u64> {
        let mut h = std::hash::DefaultHasher::new();
        shape(p).hash(&mut h);
        Some(h.finish())
    }
}

/// A program's shape: each CPU's operation kinds, in order (a feature of the search).
pub(crate) fn shape(p: &Program) -> Vec<Vec<u8>> {
    p.cpus
        .iter()
        .map(|ops| {
            ops.iter()
                .map(|op| crate::program::ops::op_bytes(op).0)
                .collect()
        })
        .collect()
}

/// Searches for a kernel bug in `opts.model`; calls `progress` about every 0.5 s, and once
/// more at the end.
pub fn hunt(opts: &HuntOptions, progress: Box<dyn FnMut(&Progress) + Send>) -> HuntResult {
    let initial = opts.corpus.as_deref().map(read_corpus).unwrap_or_default();
    hunt_until(opts, initial, None, progress)
}

/// The inputs of a corpus directory, in file-name order (none if it does not exist yet).
fn read_corpus(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    files
        .iter()
        .filter(|f| f.is_file())
        .filter_map(|f| std::fs::read(f).ok())
        .collect()
}

/// [`hunt`] with `jobs` workers on as many threads, sharing what they keep every
/// [`SHARE_EVERY`] executions: [`hunt_jobs_sharing`] with that period.
pub fn hunt_jobs(
    opts: &HuntOptions,
    jobs: usize,
    progress: Box<dyn FnMut(&Progress) + Send>,
) -> HuntResult {
    hunt_jobs_sharing(opts, jobs, SHARE_EVERY, progress)
}

/// [`hunt`] with `jobs` workers on as many threads, worker `i` with seed `opts.seed + i`.
///
/// Every `share_every` executions (0: never) the workers exchange what they kept since the
/// last exchange: each publishes its new corpus entries, waits until every other worker has
/// published the same epoch, and runs theirs next, in worker order (an entry joins its corpus
/// if it shows a feature new to it), as libFuzzer's `-jobs` share a corpus directory, but at
/// fixed executions, so that each worker's search depends on the seed only, not on timing.
/// The corpus directory, if any, is read once before the workers start and split among them
/// (worker `i` runs the inputs `i`, `i + jobs`, … first; with `share_every` 0 each runs all);
/// what they keep is written there.
///
/// The first find ends the search at its execution index `n`: the other workers run up to
/// `n` too (a faster one stops at its next execution), so the find with the lowest index wins,
/// the lowest worker on a tie, whatever the timing. Its `executions` is `n × jobs`, the
/// executions of the workers in lock-step up to the find (a worker that ran ahead is not
/// counted beyond `n`). With an execution budget and no find every worker runs it: `executions`
/// is the budget × `jobs`. A time budget stops each worker at whatever execution the clock says.
pub fn hunt_jobs_sharing(
    opts: &HuntOptions,
    jobs: usize,
    share_every: u64,
    progress: Box<dyn FnMut(&Progress) + Send>,
) -> HuntResult {
    if jobs <= 1 {
        return hunt(opts, progress);
    }
    let initial = opts.corpus.as_deref().map(read_corpus).unwrap_or_default();
    let exchange = Arc::new(Exchange::new(jobs));
    let shared = Arc::new(Mutex::new((vec![None::<Progress>; jobs], progress)));
    let workers: Vec<_> = (0..jobs)
        .map(|i| {
            let opts = HuntOptions {
                seed: opts.seed.wrapping_add(i as u64),
                ..opts.clone()
            };
            let initial: Vec<Vec<u8>> = if share_every == 0 {
                initial.clone()
            } else {
                initial.iter().skip(i).step_by(jobs).cloned().collect()
            };
            let share = Share {
                exchange: Arc::clone(&exchange),
                worker: i,
                every: share_every,
                outbox: Vec::new(),
                known: Default::default(),
            };
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                let report = Box::new(move |p: &Progress| {
                    let mut guard = shared.lock().expect("progress");
                    let (slots, progress) = &mut *guard;
                    slots[i] = Some(p.clone());
                    let live = slots.iter().flatten();
                    let sum = live.fold(
                        Progress {
                            executions: 0,
                            elapsed: Duration::ZERO,
                            corpus: 0,
                        },
                        |a, p| Progress {
                            executions: a.executions + p.executions,
                            elapsed: a.elapsed.max(p.elapsed),
                            corpus: a.corpus + p.corpus,
                        },
                    );
                    progress(&sum);
                });
                // Marks the worker departed however it ends (a panic included), so that no
                // other worker waits for it.
                let departs = Departs(Arc::clone(&share.exchange), i);
                let r = hunt_until(&opts, initial, Some(share), report);
                if let HuntResult::Found { executions, .. } | HuntResult::Error { executions, .. } =
                    &r
                {
                    departs.0.stop_at.fetch_min(*executions, Ordering::AcqRel);
                }
                drop(departs);
                r
            })
        })
        .collect();
    let results: Vec<HuntResult> = workers
        .into_iter()
        .map(|w| w.join().expect("a hunt worker panicked"))
        .collect();
    let index = |r: &HuntResult| match r {
        HuntResult::Found { executions, .. } | HuntResult::Error { executions, .. } => {
            Some(*executions)
        }
        HuntResult::Clean { .. } => None,
    };
    let elapsed = results
        .iter()
        .map(|r| match r {
            HuntResult::Found { elapsed, .. } | HuntResult::Clean { elapsed, .. } => *elapsed,
            HuntResult::Error { .. } => Duration::ZERO,
        })
        .max()
        .unwrap_or_default();
    let first = results
        .iter()
        .enumerate()
        .filter_map(|(w, r)| index(r).map(|n| (n, w)))
        .min();
    let lockstep = |n: u64| n.saturating_mul(jobs as u64);
    match first {
        Some((n, w)) => match results.into_iter().nth(w) {
            Some(HuntResult::Found {
                input,
                elapsed,
                bug,
                ..
            }) => HuntResult::Found {
                input,
                executions: lockstep(n),
                elapsed,
                bug,
            },
            Some(HuntResult::Error { message, input, .. }) => HuntResult::Error {
                message,
                input,
                executions: lockstep(n),
            },
            _ => unreachable!("worker {w} found something"),
        },
        None => HuntResult::Clean {
            executions: results
                .iter()
                .map(|r| match r {
                    HuntResult::Clean { executions, .. } => *executions,
                    _ => 0,
                })
                .sum(),
            elapsed,
        },
    }
}

/// Marks worker `.1` of an exchange departed when dropped.
struct Departs(Arc<Exchange>, usize);

impl Drop for Departs {
    fn drop(&mut self) {
        // A poisoned lock (a worker panicked holding it) still marks the worker departed.
        let mut st = match self.0.state.lock() {
            Ok(st) => st,
            Err(poisoned) => poisoned.into_inner(),
        };
        st.departed[self.1] = true;
        self.0.changed.notify_all();
    }
}

fn hunt_until(
    opts: &HuntOptions,
    initial: Vec<Vec<u8>>,
    share: Option<Share>,
    mut progress: Box<dyn FnMut(&Progress) + Send>,
) -> HuntResult {
    let cfg = opts.model;
    let mut fuzzer = Fuzzer::new().seed(opts.seed).time(opts.time);
    if let Some(n) = opts.max_executions {
        fuzzer = fuzzer.max_executions(n);
    }
    let report = Box::new(move |s: &FuzzStats| {
        progress(&Progress {
            executions: s.executions,
            elapsed: s.elapsed,
            corpus: s.corpus,
        })
    });
    let inputs = Programs {
        fixed: opts.program.clone(),
        corpus: opts.corpus.clone(),
        initial,
        share,
    };
    let found = match fuzzer.run_inputs(inputs, move |p: &Program| execute(p, cfg), report) {
        Fuzzing::Exhausted(s) => {
            return HuntResult::Clean {
                executions: s.executions,
                elapsed: s.elapsed,
            };
        }
        Fuzzing::Failed(found) => found,
    };
    let input = encode(&found.input, &found.schedule);
    let executions = found.stats.executions;
    match Verdict::of(&found.execution) {
        Verdict::Bug(bug, _) => HuntResult::Found {
            input,
            executions,
            elapsed: found.stats.elapsed,
            bug,
        },
        Verdict::Error(message) => HuntResult::Error {
            message,
            input,
            executions,
        },
        Verdict::Clean => HuntResult::Error {
            message: "nondeterminism: the search's execution failed but its replay passed".into(),
            input,
            executions,
        },
    }
}

#[cfg(test)]
#[path = "hunt_tests.rs"]
mod tests;

//! The stand-alone search on stable Rust: the engine's [`Fuzzer`] over the swap programs of the
//! biased [generator](super::generate), stopping at the first kernel bug.
//!
//! The generator is the fuzzer's [`Inputs`]: fresh programs, mutated programs, and a feature
//! per program shape (the kinds on each CPU); the fuzzer searches the schedules of each
//! program with its strategies (random walks, PCT, partial order sampling, corpus mutation,
//! reads-from constraints) and, most of the time, runs a fresh program under an early PCT
//! schedule (the engine's fresh-input strategy), rewarded for new interleaving features: access features where the model annotates its
//! shared state, switch features otherwise. The failing execution comes back as a program and
//! schedule bytes, replayed and checked against the search's decisions; its reproducer is an
//! ordinary input ([`encode`]). Everything depends only on the options: with `max_executions`
//! and a long `time`, the same seed gives the same executions. The search before the fuzzer
//! is [`hunt_classic`](super::hunt_classic::hunt_classic), kept for `swapfuzz bench`.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
        generate::mutate_program(rng, &mut q);
        Some(q)
    }

    fn seeds(&mut self) -> Vec<(Program, Vec<u8>)> {
        let Some(dir) = &self.corpus else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        files
            .iter()
            .filter(|f| f.is_file())
            .filter_map(|f| std::fs::read(f).ok())
            .map(|data| {
                let d = decode(&data);
                (self.fixed.clone().unwrap_or(d.program), d.schedule)
            })
            .collect()
    }

    fn kept(&mut self, p: &Program, schedule: &[u8]) {
        if let Some(dir) = &self.corpus {
            let input = encode(p, schedule);
            let path = dir.join(format!("{:016x}", fnv(&input)));
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
    hunt_until(opts, None, progress)
}

/// [`hunt`] with `jobs` workers on as many threads, worker `i` with seed `opts.seed + i` (each
/// deterministic for its seed, as [`hunt`]); the first worker to find a bug stops the others.
/// They share the corpus directory, if any: what one keeps is there for the next search.
/// `progress` sees the sums over the workers. With several finds the lowest worker's wins, and
/// `executions` counts every worker's.
pub fn hunt_jobs(
    opts: &HuntOptions,
    jobs: usize,
    progress: Box<dyn FnMut(&Progress) + Send>,
) -> HuntResult {
    if jobs <= 1 {
        return hunt(opts, progress);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Mutex::new((vec![None::<Progress>; jobs], progress)));
    let workers: Vec<_> = (0..jobs)
        .map(|i| {
            let opts = HuntOptions {
                seed: opts.seed.wrapping_add(i as u64),
                ..opts.clone()
            };
            let (stop, shared) = (Arc::clone(&stop), Arc::clone(&shared));
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
                let r = hunt_until(&opts, Some(Arc::clone(&stop)), report);
                if !matches!(r, HuntResult::Clean { .. }) {
                    stop.store(true, Ordering::Relaxed);
                }
                r
            })
        })
        .collect();
    let results: Vec<HuntResult> = workers
        .into_iter()
        .map(|w| w.join().expect("a hunt worker panicked"))
        .collect();
    let total: u64 = results
        .iter()
        .map(|r| match r {
            HuntResult::Found { executions, .. }
            | HuntResult::Clean { executions, .. }
            | HuntResult::Error { executions, .. } => *executions,
        })
        .sum();
    let elapsed = results
        .iter()
        .map(|r| match r {
            HuntResult::Found { elapsed, .. } | HuntResult::Clean { elapsed, .. } => *elapsed,
            HuntResult::Error { .. } => Duration::ZERO,
        })
        .max()
        .unwrap_or_default();
    let mut results = results.into_iter();
    let first = results
        .by_ref()
        .find(|r| !matches!(r, HuntResult::Clean { .. }));
    match first {
        Some(HuntResult::Found {
            input,
            elapsed,
            bug,
            ..
        }) => HuntResult::Found {
            input,
            executions: total,
            elapsed,
            bug,
        },
        Some(HuntResult::Error { message, input, .. }) => HuntResult::Error {
            message,
            input,
            executions: total,
        },
        _ => HuntResult::Clean {
            executions: total,
            elapsed,
        },
    }
}

fn hunt_until(
    opts: &HuntOptions,
    stop: Option<Arc<AtomicBool>>,
    mut progress: Box<dyn FnMut(&Progress) + Send>,
) -> HuntResult {
    let cfg = opts.model;
    let mut fuzzer = Fuzzer::new().seed(opts.seed).time(opts.time);
    if let Some(stop) = stop {
        fuzzer = fuzzer.stop_when(stop);
    }
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

//! The structure-aware mutator of the libFuzzer target (`LLVMFuzzerCustomMutator`, installed by
//! [`swapfuzz_target!`](crate::swapfuzz_target)): libFuzzer's byte mutations rarely turn an
//! input into a racy program *and* a schedule that races it, where `swapfuzz hunt` finds the
//! seed race in a few hundred executions. So most calls decode the input as the target does
//! ([`decode`]), change it with the operators `hunt` uses ([`generate`]: a fresh program and
//! schedule, a changed program, changed or new schedule bytes) and encode the result in the
//! same format ([`encode`]); the rest go to libFuzzer's own byte mutator, which keeps its
//! dictionary and comparison feedback in play and reaches inputs outside the generator's
//! habits.
//!
//! The input format does not change, so the committed corpus, the seed corpus and old crash
//! files run exactly as before: the mutator only changes which inputs libFuzzer tries. Every
//! byte string decodes, so no input is refused: garbage is mutated as the program it decodes
//! to; an empty input (libFuzzer's first) gets a fresh one.
//!
//! libFuzzer's contract: the result fits in `max_size` (a fresh program that does not fit is
//! generated again, the schedule bytes are cut to fit; run with `-len_control=0`, as
//! `fuzz/swapfuzz.options` does: libFuzzer's length control would hold `max_size` near the
//! longest seed, where no race fits), and the same input and `seed` give the same result (every
//! choice comes from an [`Rng`] seeded with `seed`; the byte branch is libFuzzer's own mutator,
//! deterministic for libFuzzer's `-seed`).
//!
//! `SWAPFUZZ_MUTATOR=off` ([`MUTATOR_ENV`]) hands every call to libFuzzer's byte mutator: the
//! baseline of `scripts/libfuzzer-bench`, and a way to fuzz the decoder and the model with
//! inputs the generator would not make.

use once_cell::sync::Lazy;

use super::generate;
use super::rng::Rng;
use crate::engine::STAY_THRESHOLD;
use crate::program::Program;
use crate::program::bytes::{decode, encode};

/// Environment variable that switches the structure-aware mutator: `on` (the default; also
/// `1`) or `off` (`0`: libFuzzer's byte mutator only). Read once per process.
pub const MUTATOR_ENV: &str = "SWAPFUZZ_MUTATOR";

/// Whether the structure-aware mutator named by `value` (a [`MUTATOR_ENV`] value) is on.
pub fn parse_mutator(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Ok(true),
        "0" | "off" | "no" | "false" => Ok(false),
        other => Err(format!("{MUTATOR_ENV}={other}: expected on or off")),
    }
}

/// The mutator of this process is on: [`MUTATOR_ENV`], on when unset (the fuzz binary's start-up
/// refuses a bad value with exit 2 first; elsewhere it panics with [`parse_mutator`]'s message).
pub static MUTATOR: Lazy<bool> = Lazy::new(|| match std::env::var(MUTATOR_ENV) {
    Ok(v) => parse_mutator(&v).unwrap_or_else(|e| panic!("{e}")),
    Err(_) => true,
});

/// Schedule bytes of [`early_schedule`]: enough that the bytes last the whole execution of a
/// typical generated program (past them the engine's fair fallback switches CPUs every 32
/// decisions, which cut short the long uninterrupted runs a race window needs: in a one-off
/// experiment on 20,000 fresh programs, no bug with 96 bytes, 35 with 128, 63 with 256).
pub const EARLY_LEN: usize = 256;

/// The decisions within which [`early_schedule`] preempts.
pub const EARLY_HORIZON: usize = 32;

/// Tries at generating a fresh program that fits before giving the call to the byte mutator.
const FRESH_TRIES: usize = 8;

/// A schedule in the manner of the engine's fresh-input strategy (PCT with its change points in
/// the first third of an execution), in bytes: a random first decision (which CPU starts), one
/// or two preemptions among the first [`EARLY_HORIZON`] decisions, and "stay" bytes for the rest
/// ([`EARLY_LEN`] in all), so that the CPU switched to runs on. In a one-off experiment on
/// 20,000 fresh generated programs run on the `buggy` target's oracle, 68 of these schedules
/// hit a bug where 5 of [`generate::schedule`]'s did.
pub fn early_schedule(rng: &mut Rng) -> Vec<u8> {
    let mut s = vec![0xFF; EARLY_LEN];
    s[0] = rng.byte();
    for _ in 0..rng.range(1, 2) {
        s[rng.below(EARLY_HORIZON)] = rng.below(usize::from(STAY_THRESHOLD)) as u8;
    }
    s
}

/// What one call of [`mutate`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// libFuzzer's byte mutator.
    Bytes,
    /// A fresh program and schedule from the generator (the input is not read).
    Fresh,
    /// The input's program with changed schedule bytes.
    Schedule,
    /// The input's program with a fresh schedule.
    NewSchedule,
    /// The input with a changed program (and sometimes a changed schedule).
    Program,
}

/// The action for an input of `size` bytes: out of 16 calls, 2 to the byte mutator, 8 fresh
/// inputs (what `hunt` spends most executions on: a race needs the right program as much as the
/// right schedule), 3 schedule changes, 1 new schedule and 2 program changes.
pub fn action(rng: &mut Rng, size: usize) -> Action {
    if size == 0 {
        return Action::Fresh;
    }
    match rng.below(16) {
        0..=1 => Action::Bytes,
        2..=9 => Action::Fresh,
        10..=12 => Action::Schedule,
        13 => Action::NewSchedule,
        _ => Action::Program,
    }
}

/// A schedule for a fresh or reused program: [`early_schedule`] 3 times in 4, else the
/// generator's [`generate::schedule`] (dense, empty and later preemptions too).
fn new_schedule(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(3, 4) {
        early_schedule(rng)
    } else {
        generate::schedule(rng)
    }
}

/// The mutated input of `input` by `action` (not [`Action::Bytes`]), at most `max_size` bytes,
/// or `None` when none fits (then the byte mutator takes the call).
pub fn structured(rng: &mut Rng, action: Action, input: &[u8], max_size: usize) -> Option<Vec<u8>> {
    if action == Action::Fresh {
        for _ in 0..FRESH_TRIES {
            let p = generate::program(rng);
            let s = new_schedule(rng);
            if let Some(out) = fit(&p, &s, max_size) {
                return Some(out);
            }
        }
        return None;
    }
    let d = decode(input);
    let (mut p, mut s) = (d.program, d.schedule);
    match action {
        Action::Schedule => {
            for _ in 0..rng.range(1, 3) {
                generate::mutate_schedule(rng, &mut s);
            }
        }
        Action::NewSchedule => s = new_schedule(rng),
        Action::Program => {
            generate::mutate_program(rng, &mut p);
            if rng.chance(1, 2) {
                generate::mutate_schedule(rng, &mut s);
            }
        }
        Action::Bytes | Action::Fresh => unreachable!("handled above"),
    }
    fit(&p, &s, max_size)
}

/// `encode(p, s)` with the schedule cut to fit in `max_size` bytes; `None` if the workload
/// alone does not fit.
fn fit(p: &Program, s: &[u8], max_size: usize) -> Option<Vec<u8>> {
    let mut out = encode(p, &[]);
    if out.len() > max_size {
        return None;
    }
    let room = max_size - out.len();
    out.extend_from_slice(&s[..s.len().min(room)]);
    Some(out)
}

/// libFuzzer's `LLVMFuzzerCustomMutator`: mutates `data[..size]` in place and returns the new
/// size, at most `max_size` (`data` holds at least `max(size, max_size)` bytes). `bytes` is
/// libFuzzer's own mutator (`libfuzzer_sys::fuzzer_mutate`), called with the same arguments
/// for [`Action::Bytes`] and when no structured result fits. With [`MUTATOR`] off every call
/// goes to `bytes`.
pub fn mutate(
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
    bytes: impl FnOnce(&mut [u8], usize, usize) -> usize,
) -> usize {
    if !*MUTATOR {
        return bytes(data, size, max_size);
    }
    mutate_with(data, size, max_size, seed, bytes)
}

/// [`mutate`] with the structure-aware mutator on, whatever [`MUTATOR_ENV`] says.
pub fn mutate_with(
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
    bytes: impl FnOnce(&mut [u8], usize, usize) -> usize,
) -> usize {
    let max_size = max_size.min(data.len());
    let size = size.min(data.len());
    let mut rng = Rng::new(u64::from(seed));
    let action = action(&mut rng, size);
    let out = match action {
        Action::Bytes => None,
        a => structured(&mut rng, a, &data[..size], max_size),
    };
    match out {
        Some(out) => {
            data[..out.len()].copy_from_slice(&out);
            out.len()
        }
        None => bytes(data, size, max_size),
    }
}

#[cfg(test)]
#[path = "mutator_tests.rs"]
mod tests;

//! Minimisation of a reproducer to what a human has to read: the fewest CPUs, then the fewest
//! operations, then the fewest preemptions, then the shortest schedule, all while the bug keeps
//! its [signature].
//!
//! Each candidate program is searched with the engine's bounded exploration
//! ([`Explorer::run_deepening`], accepting only one signature) at 0, 1, 2 … preemptions, accepting only failures with the same
//! signature; so the schedule found has the fewest preemptions the bound allows. libFuzzer's
//! `tmin` minimises bytes instead, which keeps preemptions a reader does not need.

use crate::check::run::{Verdict, execute, run_program};
use crate::engine::{Deepening, EngineConfig, Explorer};
use crate::model::{Bug, ModelConfig};
use crate::program::Program;

use super::report::signature;

/// Limits of a minimisation.
#[derive(Clone, Copy, Debug)]
pub struct MinimizeLimits {
    /// Most preemptions searched per candidate program.
    pub max_preemptions: usize,
    /// Most executions per candidate and preemption bound.
    pub max_executions: usize,
}

impl Default for MinimizeLimits {
    fn default() -> Self {
        MinimizeLimits {
            max_preemptions: 3,
            max_executions: 20_000,
        }
    }
}

/// The sizes a reader cares about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// CPUs.
    pub cpus: usize,
    /// Operations, set-up included.
    pub ops: usize,
    /// Preemptions in the schedule.
    pub preemptions: usize,
    /// Schedule bytes.
    pub schedule: usize,
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} CPUs, {} operations, {} preemptions, {} schedule bytes",
            self.cpus, self.ops, self.preemptions, self.schedule
        )
    }
}

/// A minimised reproducer.
#[derive(Clone, Debug)]
pub struct Minimized {
    /// The program.
    pub program: Program,
    /// Its schedule bytes (for the engine's byte scheduler).
    pub schedule: Vec<u8>,
    /// The bug it shows (same signature as the original).
    pub bug: Box<Bug>,
    /// Sizes before.
    pub before: Size,
    /// Sizes after.
    pub after: Size,
    /// Candidate searches run.
    pub candidates: usize,
}

fn ops(p: &Program) -> usize {
    p.setup.len() + p.cpus.iter().map(Vec::len).sum::<usize>()
}

/// Runs `program` under `schedule`; the bug's signature and the preemption count.
fn run(program: &Program, schedule: &[u8], cfg: ModelConfig) -> (Option<Box<Bug>>, usize) {
    let (v, exec) = run_program(program, cfg, schedule, &EngineConfig::default());
    let pre = exec.preemptions();
    match v {
        Verdict::Bug(b, _) => (Some(b), pre),
        _ => (None, pre),
    }
}

/// The schedule with the fewest preemptions (up to the limit) under which `program` shows a bug
/// with signature `sig`, and its preemption count.
pub fn schedule_for(
    program: &Program,
    cfg: ModelConfig,
    sig: &str,
    limits: MinimizeLimits,
) -> Option<(Vec<u8>, usize)> {
    let p = program.clone();
    let want = sig.to_string();
    let found = Explorer::new()
        .preemptions(limits.max_preemptions)
        .max_executions(limits.max_executions)
        .next_bound_when_truncated(true)
        .accept(move |e| matches!(Verdict::of(e), Verdict::Bug(b, _) if signature(&b) == want))
        .run_deepening(move || execute(&p, cfg));
    match found {
        Deepening::Failed { counterexample, .. } => {
            let pre = counterexample.execution.preemptions();
            Some((counterexample.schedule, pre))
        }
        _ => None,
    }
}

/// `sched` without the trailing bytes `program` does not need to show the bug `sig` with at
/// most `max_pre` preemptions (shorter only while the fallback for the missing bytes adds no
/// preemption).
fn shorten(
    program: &Program,
    mut sched: Vec<u8>,
    cfg: ModelConfig,
    sig: &str,
    max_pre: usize,
) -> Vec<u8> {
    while !sched.is_empty() {
        let shorter = &sched[..sched.len() - 1];
        match run(program, shorter, cfg) {
            (Some(b), p) if signature(&b) == sig && p <= max_pre => sched.truncate(sched.len() - 1),
            _ => break,
        }
    }
    sched
}

/// The CPUs of `program` in the order they first appear in the diagram of its run under
/// `schedule`, if it shows a bug.
fn drawn_order(program: &Program, schedule: &[u8], cfg: ModelConfig) -> Option<Vec<usize>> {
    let cfg = ModelConfig {
        record: true,
        ..cfg
    };
    match run_program(program, cfg, schedule, &EngineConfig::default()).0 {
        Verdict::Bug(_, events) => Some(super::diagram::cpu_order(&events, program.cpus.len())),
        _ => None,
    }
}

/// What a developer wants to read first: [`minimize`], then the CPUs renumbered so that CPU0
/// acts first ([`cpus_in_drawn_order`]).
pub fn minimize_for_reading(
    program: &Program,
    schedule: &[u8],
    cfg: ModelConfig,
    limits: MinimizeLimits,
) -> Result<Minimized, String> {
    let m = minimize(program, schedule, cfg, limits)?;
    Ok(cpus_in_drawn_order(m, cfg, limits))
}

/// `m` with its CPUs renumbered in the order they first act, so that the diagram starts in
/// CPU0's column as commit messages draw races: the renumbered program's schedule is searched
/// again, and kept only if it shows the same bug, with no more preemptions, in that order.
/// Otherwise `m` as it is.
pub fn cpus_in_drawn_order(m: Minimized, cfg: ModelConfig, limits: MinimizeLimits) -> Minimized {
    let cfg = ModelConfig {
        record: false,
        ..cfg
    };
    let n = m.program.cpus.len();
    let identity: Vec<usize> = (0..n).collect();
    let Some(order) = drawn_order(&m.program, &m.schedule, cfg) else {
        return m;
    };
    if order == identity {
        return m;
    }
    let program = Program {
        setup: m.program.setup.clone(),
        cpus: order.iter().map(|&c| m.program.cpus[c].clone()).collect(),
    };
    let sig = signature(&m.bug);
    let Some((sched, pre)) = schedule_for(&program, cfg, &sig, limits) else {
        return m;
    };
    if pre > m.after.preemptions || drawn_order(&program, &sched, cfg) != Some(identity) {
        return m;
    }
    let sched = shorten(&program, sched, cfg, &sig, pre);
    match run(&program, &sched, cfg) {
        (Some(bug), pre) if signature(&bug) == sig => Minimized {
            after: Size {
                preemptions: pre,
                schedule: sched.len(),
                ..m.after
            },
            program,
            schedule: sched,
            bug,
            ..m
        },
        _ => m,
    }
}

/// Minimises `program` + `schedule`, which must show a bug under `cfg`.
pub fn minimize(
    program: &Program,
    schedule: &[u8],
    cfg: ModelConfig,
    limits: MinimizeLimits,
) -> Result<Minimized, String> {
    let cfg = ModelConfig {
        record: false,
        ..cfg
    };
    let (Some(bug), pre) = run(program, schedule, cfg) else {
        return Err("the reproducer shows no bug under these settings".into());
    };
    let sig = signature(&bug);
    let before = Size {
        cpus: program.cpus.len(),
        ops: ops(program),
        preemptions: pre,
        schedule: schedule.len(),
    };
    let mut candidates = 0;
    let mut try_program = |p: &Program| {
        candidates += 1;
        schedule_for(p, cfg, &sig, limits)
    };
    let mut best = program.clone();
    // The original's own schedule is the fallback if no bounded search reproduces it.
    let mut best_sched = try_program(&best);
    // 1. CPUs (at least two: the fuzz format needs them, and a race needs them).
    let mut c = best.cpus.len();
    while c > 0 && best.cpus.len() > 2 {
        c -= 1;
        let mut p = best.clone();
        p.cpus.remove(c);
        if let Some(s) = try_program(&p) {
            best = p;
            best_sched = Some(s);
        }
    }
    // 2. Operations, until no single removal keeps the bug.
    loop {
        let mut changed = false;
        let slots: Vec<(Option<usize>, usize)> = (0..best.setup.len())
            .map(|i| (None, i))
            .chain(
                best.cpus
                    .iter()
                    .enumerate()
                    .flat_map(|(c, ops)| (0..ops.len()).map(move |i| (Some(c), i))),
            )
            .collect();
        for (list, i) in slots.into_iter().rev() {
            let mut p = best.clone();
            match list {
                None => {
                    p.setup.remove(i);
                }
                Some(c) if p.cpus[c].len() > 1 => {
                    p.cpus[c].remove(i);
                }
                Some(_) => continue,
            }
            if let Some(s) = try_program(&p) {
                best = p;
                best_sched = Some(s);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // 3. The schedule: the fewest preemptions (from the search), then the fewest bytes.
    let (sched, best_pre) = best_sched.unwrap_or_else(|| (schedule.to_vec(), pre));
    let sched = shorten(&best, sched, cfg, &sig, best_pre);
    let (Some(bug), pre) = run(&best, &sched, cfg) else {
        return Err("internal error: the minimised reproducer lost the bug".into());
    };
    Ok(Minimized {
        after: Size {
            cpus: best.cpus.len(),
            ops: ops(&best),
            preemptions: pre,
            schedule: sched.len(),
        },
        program: best,
        schedule: sched,
        bug,
        before,
        candidates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::seeds;

    #[test]
    fn the_cpu_that_acts_first_becomes_cpu0() {
        let mut program = seeds::all()
            .into_iter()
            .find(|(n, _)| *n == "shmem-truncate")
            .expect("seed")
            .1;
        // swapoff on CPU0, the truncation on CPU1: the race starts in CPU1's column.
        program.cpus.reverse();
        let cfg = ModelConfig::default();
        let limits = MinimizeLimits::default();
        let sig =
            "null-deref:swap_page_trans_huge_swapped:si->swap_map[roffset]:shmem_truncate_range";
        let (schedule, _) = schedule_for(&program, cfg, sig, limits).expect("the seed race");
        let m = minimize(&program, &schedule, cfg, limits).unwrap();
        assert_eq!(drawn_order(&m.program, &m.schedule, cfg), Some(vec![1, 0]));
        let r = cpus_in_drawn_order(m.clone(), cfg, limits);
        assert_eq!(r.program.cpus[0], m.program.cpus[1]);
        assert_eq!(r.program.cpus[1], m.program.cpus[0]);
        assert_eq!(drawn_order(&r.program, &r.schedule, cfg), Some(vec![0, 1]));
        assert_eq!(signature(&r.bug), sig);
        assert!(r.after.preemptions <= m.after.preemptions);
        // Already in order: unchanged.
        let again = cpus_in_drawn_order(r.clone(), cfg, limits);
        assert_eq!((again.program, again.schedule), (r.program, r.schedule));
    }
}

//! Schedules the way commit messages state them: "CPU0 runs until after `__swap_entry_free()`,
//! then CPU1 runs, then CPU0".
//!
//! ```text
//! schedule:
//!   cpu0 until after __swap_entry_free
//!   cpu1
//!   cpu0
//! ```
//!
//! A schedule is a list of [`Segment`]s. Each names a CPU, which runs alone until its `until`
//! point, or, without one, until it blocks (sleeps on a lock, a completion, a grace period) or
//! finishes. Then the next segment starts. Points are named by the CPU's own kernel events:
//!
//! * `until after F` — the first scheduling point after this CPU returns from `F`;
//! * `until in F` — the first scheduling point after this CPU enters `F` (before `F`'s first
//!   access to shared state);
//! * `F#n` — the `n`-th call of `F` on this CPU (default: the first);
//! * a trailing `+k` — `k` scheduling points later (only where two accesses follow each other
//!   with no call in between).
//!
//! A segment also ends as soon as its CPU can no longer run. Before the first segment the set-up
//! runs and starts the CPUs; after the last one, the running CPU keeps running while it can,
//! then the lowest-numbered runnable CPU runs (no preemption). Unlike schedule bytes, such a
//! schedule does not depend on where the model puts its scheduling points, only on the kernel
//! functions each CPU runs, so it survives changes of the model that add or remove points.

use shuttle::scheduler::{Schedule, TaskId};

use crate::engine::{Observe, Observer, Point, Scheduled, Strategy};
use crate::model::events::{Event, Tracking, logged, stop_tracking, with_log};
pub use crate::model::events::{Segment, Until};
use crate::model::kernel::Cpu;

/// The task id of CPU `cpu` (the harness spawns CPU n as task n + 1; task 0 runs the set-up).
fn task_of(cpu: Cpu) -> usize {
    cpu + 1
}

/// A scheduling strategy that follows a list of [`Segment`]s (one execution).
pub struct EventScheduler {
    segments: Vec<Segment>,
    /// The segment running, or `segments.len()` after the last.
    at: usize,
    /// The segment's CPU has been chosen once.
    started: bool,
    /// Scheduling points of the segment's CPU after its event.
    after_event: Option<u32>,
    executions: usize,
}

impl EventScheduler {
    /// A scheduler for one execution of `segments`.
    pub fn new(segments: Vec<Segment>) -> Self {
        EventScheduler {
            segments,
            at: 0,
            started: false,
            after_event: None,
            executions: 0,
        }
    }

    /// Whether the current segment's `until` has been reached (at a point of its CPU).
    fn reached(&mut self) -> bool {
        let Some(u) = &self.segments[self.at].until else {
            return false;
        };
        if self.after_event.is_none() {
            let cpu = self.segments[self.at].cpu;
            let found = with_log(|p| {
                let mut seen = 0;
                for e in p {
                    if e.cpu == cpu && e.ret == u.ret && e.func == u.func {
                        seen += 1;
                        if seen == u.nth {
                            return true;
                        }
                    }
                }
                false
            });
            if !found {
                return false;
            }
            self.after_event = Some(0);
        }
        let n = self.after_event.as_mut().expect("set above");
        if *n == u.extra {
            true
        } else {
            *n += 1;
            false
        }
    }

    fn next_segment(&mut self) {
        self.at += 1;
        self.started = false;
        self.after_event = None;
    }
}

impl Strategy for EventScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.executions += 1;
        if self.executions > 1 {
            return None;
        }
        Some(Schedule::new(0))
    }

    fn next_task(&mut self, point: &Point<'_>) -> Option<TaskId> {
        let (runnable, current) = (point.runnable, point.current);
        let is_runnable = |t: usize| runnable.iter().any(|r| usize::from(r.id()) == t);
        let pick = |t: usize| {
            runnable
                .iter()
                .find(|r| usize::from(r.id()) == t)
                .map(|r| r.id())
        };
        // The set-up (task 0) runs first, until it has started every CPU and waits for them.
        if is_runnable(0) {
            return pick(0);
        }
        let current = current.map(usize::from);
        while self.at < self.segments.len() {
            let task = task_of(self.segments[self.at].cpu);
            if !is_runnable(task) {
                // Blocked or finished: the segment is over.
                self.next_segment();
                continue;
            }
            if !self.started {
                self.started = true;
                return pick(task);
            }
            if current == Some(task) && self.reached() {
                self.next_segment();
                continue;
            }
            return pick(task);
        }
        // No segment left: no preemption; else the lowest-numbered runnable task.
        match current {
            Some(c) if is_runnable(c) => pick(c),
            _ => runnable.first().map(|r| r.id()),
        }
    }

    fn next_u64(&mut self) -> u64 {
        0
    }
}

/// One scheduling point as [`Noting`] saw it.
#[derive(Clone, Copy, Debug)]
struct Seen {
    /// The task that ran before the point, and whether it could go on.
    current: Option<usize>,
    current_runnable: bool,
    /// The task chosen.
    chosen: usize,
    /// Kernel events logged before the point.
    logged: usize,
}

/// Notes, at each scheduling point of the scheduler it observes, who ran, who runs next and how
/// many kernel events were logged: what [`segments_of`] turns into segments.
struct Noting {
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    /// The progress log, copied out as it grows (it lives on the execution's thread).
    events: std::sync::Arc<std::sync::Mutex<Vec<Event>>>,
}

impl Observer for Noting {
    fn chose(&mut self, point: &Point<'_>, chosen: Option<TaskId>) {
        let Some(chosen) = chosen else { return };
        {
            let mut events = self.events.lock().expect("events");
            with_log(|p| {
                let have = events.len();
                events.extend_from_slice(&p[have.min(p.len())..]);
            });
        }
        self.seen.lock().expect("noting").push(Seen {
            current: point.current.map(usize::from),
            current_runnable: point.current_index.is_some(),
            chosen: chosen.into(),
            logged: logged(),
        });
    }
}

/// Runs `program` once under the segments `schedule`; the verdict and the execution (its
/// decisions as any engine run records them).
pub fn run_segments(
    program: &crate::model::Program,
    cfg: crate::model::ModelConfig,
    schedule: &[Segment],
) -> (crate::check::run::Verdict, crate::engine::Execution) {
    let scheduler =
        crate::engine::Recording::new(Scheduled(EventScheduler::new(schedule.to_vec())));
    let log = scheduler.log();
    let p = program.clone();
    let (outcome, payload) = crate::engine::run_with_scheduler(
        scheduler,
        &crate::engine::EngineConfig::default(),
        move || {
            let _tracking = Tracking::start();
            crate::check::run::execute(&p, cfg)
        },
    );
    stop_tracking();
    let log = log.lock().expect("decision log").clone();
    let exec = crate::engine::Execution {
        decisions: log.decisions,
        steps: log.steps,
        outcome,
        payload,
    };
    (crate::check::run::Verdict::of(&exec), exec)
}

/// The schedule bytes `bytes` of `program` as segments, when they can be stated that way: each
/// stretch of one CPU running becomes a segment that ends at the CPU's last kernel event before
/// it was switched out. `None` when the bytes switch away from the set-up before it has started
/// every CPU. The caller checks that the segments give the same result ([`run_segments`]).
pub fn segments_of(
    program: &crate::model::Program,
    cfg: crate::model::ModelConfig,
    bytes: &[u8],
) -> Option<Vec<Segment>> {
    let engine = crate::engine::EngineConfig::default();
    let seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>> = Default::default();
    let events: std::sync::Arc<std::sync::Mutex<Vec<Event>>> = Default::default();
    let noting = Noting {
        seen: std::sync::Arc::clone(&seen),
        events: std::sync::Arc::clone(&events),
    };
    let scheduler = Observe::wrap(
        crate::engine::ByteScheduler::new(bytes, engine.quantum),
        noting,
    );
    let p = program.clone();
    let _ = crate::engine::run_with_scheduler(scheduler, &engine, move || {
        let _tracking = Tracking::start();
        crate::check::run::execute(&p, cfg)
    });
    stop_tracking();
    let events = events.lock().expect("events").clone();
    let seen = seen.lock().expect("noting").clone();
    let mut segments = Vec::new();
    // The running task and the index of the point where it was chosen.
    let mut running: Option<(usize, usize)> = None;
    for (i, s) in seen.iter().enumerate() {
        if s.current.is_none_or(|c| c == s.chosen) {
            if running.is_none() {
                running = Some((s.chosen, i));
            }
            continue;
        }
        let from = s.current.expect("checked");
        if from == 0 && s.current_runnable {
            return None; // the set-up was preempted
        }
        if from > 0 {
            let cpu = from - 1;
            let until = if s.current_runnable {
                // The CPU's last event before this point, and its points after it in this run.
                let last = (0..s.logged).rev().find(|&e| events[e].cpu == cpu)?;
                // Events since the CPU's previous point all name this point; the first return
                // among them reads best ("until after __swap_entry_free", not "until in
                // swap_page_trans_huge_swapped").
                let start = running.map_or(0, |(_, at)| at);
                let previous = seen[start + 1..i]
                    .iter()
                    .rev()
                    .find(|x| x.current == Some(from))
                    .map_or(seen[start].logged, |x| x.logged);
                let e = if last >= previous {
                    let same: Vec<usize> = (previous..s.logged)
                        .filter(|&e| events[e].cpu == cpu)
                        .collect();
                    same.iter()
                        .copied()
                        .find(|&e| events[e].ret)
                        .unwrap_or(same[0])
                } else {
                    last
                };
                let ev = events[e];
                let nth = events[..=e]
                    .iter()
                    .filter(|x| x.cpu == cpu && x.func == ev.func && x.ret == ev.ret)
                    .count() as u32;
                let extra = seen[start + 1..i]
                    .iter()
                    .filter(|x| x.current == Some(from) && x.logged > e)
                    .count() as u32;
                Some(Until {
                    func: ev.func.to_string(),
                    ret: ev.ret,
                    nth,
                    extra,
                })
            } else {
                None
            };
            segments.push(Segment { cpu, until });
        }
        running = Some((s.chosen, i));
    }
    if let Some((t, _)) = running
        && t > 0
    {
        segments.push(Segment {
            cpu: t - 1,
            until: None,
        });
    }
    // A CPU's stretch that ends with nothing else to run merges with its next one.
    segments.dedup_by(|b, a| a.cpu == b.cpu && a.until.is_none() && b.until.is_none());
    Some(segments)
}

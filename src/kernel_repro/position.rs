//! Where the model preempted a CPU, as a kernel developer places a delay point: the CPU's call
//! stack, the last function it entered or returned from, and how many of its scheduling points
//! followed that event ("`in filemap_get_folio` +1": after `filemap_get_folio()`'s first access).
//!
//! A schedule stated in steps can name one point several ways (`until after __swap_entry_free`
//! is `until in swap_page_trans_huge_swapped`: nothing shared is touched between); the position
//! is the same for both, which is what [`super::points`] matches delay points against.

use std::sync::{Arc, Mutex};

use shuttle::scheduler::TaskId;

use crate::check::steps::{EventScheduler, Segment};
use crate::engine::{EngineConfig, Observe, Point, Scheduled, run_with_scheduler};
use crate::model::events::{Event, Tracking, logged, stop_tracking, with_log};
use crate::model::{ModelConfig, Program};

/// One preemption of a CPU in the middle of its operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The CPU preempted.
    pub cpu: usize,
    /// Its model call stack at the point, outermost first.
    pub stack: Vec<&'static str>,
    /// The last function it entered (`ret == false`) or returned from before the point.
    pub last: (&'static str, bool),
    /// Its scheduling points between that event and this one (0: the first point after it).
    pub extra: u32,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cpu{} {} {}",
            self.cpu,
            if self.last.1 { "after" } else { "in" },
            self.last.0
        )?;
        if self.extra > 0 {
            write!(f, " +{}", self.extra)?;
        }
        write!(f, " (stack: {})", self.stack.join(" > "))
    }
}

/// Per CPU: the index of its last event seen at its previous point, and its points since.
#[derive(Default)]
struct Cpu {
    last_event: Option<usize>,
    points_since: u32,
}

struct Watch {
    events: Vec<Event>,
    cpus: Vec<Cpu>,
    preemptions: Vec<Position>,
}

/// Runs `program` under `segments` and returns each point where a CPU that could go on was
/// switched out inside a kernel function (a preemption), in order.
pub fn preemptions(program: &Program, cfg: ModelConfig, segments: &[Segment]) -> Vec<Position> {
    let nr = program.cpus.len();
    let watch = Arc::new(Mutex::new(Watch {
        events: Vec::new(),
        cpus: (0..nr).map(|_| Cpu::default()).collect(),
        preemptions: Vec::new(),
    }));
    let w = Arc::clone(&watch);
    let observer = move |point: &Point<'_>, chosen: Option<TaskId>| {
        let Some(chosen) = chosen else { return };
        let mut w = w.lock().expect("watch");
        let have = w.events.len();
        with_log(|p| {
            let add = p[have.min(p.len())..].to_vec();
            w.events.extend(add);
        });
        let Some(current) = point.current.map(usize::from) else {
            return;
        };
        if current == 0 {
            return; // the set-up
        }
        let cpu = current - 1;
        let n = logged().min(w.events.len());
        let last = (0..n).rev().find(|&e| w.events[e].cpu == cpu);
        let c = &mut w.cpus[cpu];
        if c.last_event == last {
            c.points_since += 1;
        } else {
            c.last_event = last;
            c.points_since = 0;
        }
        let extra = c.points_since;
        if usize::from(chosen) != current
            && point.current_index.is_some()
            && let Some(e) = last
        {
            let mut stack = Vec::new();
            for ev in w.events[..=e].iter().filter(|x| x.cpu == cpu) {
                if ev.ret {
                    if let Some(i) = stack.iter().rposition(|&f| f == ev.func) {
                        stack.truncate(i);
                    }
                } else {
                    stack.push(ev.func);
                }
            }
            if stack.is_empty() {
                // Between operations (its last one returned): not inside the kernel.
                return;
            }
            let ev = w.events[e];
            w.preemptions.push(Position {
                cpu,
                stack,
                last: (ev.func, ev.ret),
                extra,
            });
        }
    };
    let scheduler = Observe::wrap(Scheduled(EventScheduler::new(segments.to_vec())), observer);
    let p = program.clone();
    let cfg = ModelConfig {
        record: false,
        ..cfg
    };
    let _ = run_with_scheduler(scheduler, &EngineConfig::default(), move || {
        let _tracking = Tracking::start();
        crate::check::run::execute(&p, cfg)
    });
    stop_tracking();
    let w = watch.lock().expect("watch");
    w.preemptions.clone()
}

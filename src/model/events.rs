//! Kernel events: the [`Segment`]s of a schedule stated in steps ("cpu0 until after
//! `__swap_entry_free`"; run by `crate::check::steps`), and the events of an execution in order — which CPU entered or returned from which model
//! function — kept only while something asks for them (a schedule stated in steps,
//! `crate::check::steps`). `Kernel::enter` and its frame's drop call [`note`]; when no one
//! tracks, that is one thread-local flag read.

use std::cell::{Cell, RefCell};
use std::fmt;

use super::kernel::Cpu;

/// A kernel event of one CPU, as the progress log keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    /// The CPU.
    pub cpu: Cpu,
    /// The function.
    pub func: &'static str,
    /// Returned (true) or entered (false).
    pub ret: bool,
}

thread_local! {
    /// Whether [`progress`] is being kept (only while an event schedule runs or is derived).
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    /// The kernel events of the current execution, in order.
    static PROGRESS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

/// Notes a kernel event (called by `Kernel::enter` and its frame's drop); cheap when no event
/// schedule is running.
#[inline]
pub fn note(cpu: Cpu, func: &'static str, ret: bool) {
    if TRACKING.get() {
        PROGRESS.with_borrow_mut(|p| p.push(Event { cpu, func, ret }));
    }
}

/// Keeps the progress log while it lives (executions run on the creating OS thread).
pub struct Tracking(());

impl Tracking {
    /// Starts keeping the log, empty.
    pub fn start() -> Tracking {
        PROGRESS.with_borrow_mut(Vec::clear);
        TRACKING.set(true);
        Tracking(())
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        TRACKING.set(false);
    }
}

/// Stops keeping the log on this thread (after a run whose teardown may have leaked the
/// [`Tracking`] guard of a failed execution).
pub fn stop_tracking() {
    TRACKING.set(false);
    PROGRESS.with_borrow_mut(|p| {
        p.clear();
        p.shrink_to(1024);
    });
}

/// The number of events logged so far.
pub fn logged() -> usize {
    PROGRESS.with_borrow(Vec::len)
}

/// Calls `f` on the events logged so far.
pub fn with_log<R>(f: impl FnOnce(&[Event]) -> R) -> R {
    PROGRESS.with_borrow(|p| f(p))
}

/// One CPU's kernel event: it entered (`ret == false`) or returned from (`ret == true`) the
/// `nth` call (1-based) of `func`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Until {
    /// The model function, by its kernel name.
    pub func: String,
    /// After the return (true) or after the entry (false).
    pub ret: bool,
    /// Which call of `func` on this CPU, from 1.
    pub nth: u32,
    /// Further scheduling points of this CPU after the event.
    pub extra: u32,
}

/// One segment of a schedule: `cpu` runs alone until `until` (or until it blocks or finishes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    /// The CPU.
    pub cpu: Cpu,
    /// Where it stops; `None`: when it blocks or finishes.
    pub until: Option<Until>,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpu{}", self.cpu)?;
        if let Some(u) = &self.until {
            write!(
                f,
                " until {} {}",
                if u.ret { "after" } else { "in" },
                u.func
            )?;
            if u.nth != 1 {
                write!(f, "#{}", u.nth)?;
            }
            if u.extra != 0 {
                write!(f, " +{}", u.extra)?;
            }
        }
        Ok(())
    }
}

impl Segment {
    /// Parses `cpuN [until after|in FUNC[#n] [+k]]`.
    pub fn parse(text: &str, max_cpus: usize) -> Result<Segment, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let expected = "expected \"cpuN\", \"cpuN until after FUNCTION\" or \"cpuN until in \
                        FUNCTION\" (optionally FUNCTION#n for its n-th call, and +k for k more \
                        scheduling points)";
        let cpu = words
            .first()
            .and_then(|w| w.strip_prefix("cpu"))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| format!("bad schedule step \"{text}\": {expected}"))?;
        if cpu >= max_cpus {
            return Err(format!(
                "schedule step \"{text}\": the model has at most {max_cpus} CPUs"
            ));
        }
        let until = match words.as_slice() {
            [_] => None,
            [_, "until", kind @ ("after" | "in"), func, rest @ ..] => {
                let (name, nth) = match func.split_once('#') {
                    Some((n, k)) => (
                        n,
                        k.parse::<u32>()
                            .ok()
                            .filter(|&k| k > 0)
                            .ok_or_else(|| format!("bad call number \"#{k}\" in \"{text}\""))?,
                    ),
                    None => (*func, 1),
                };
                let valid = |c: char| c.is_ascii_alphanumeric() || c == '_';
                if name.is_empty() || !name.chars().all(valid) {
                    return Err(format!("bad function name \"{name}\" in \"{text}\""));
                }
                let extra = match rest {
                    [] => 0,
                    [k] => k
                        .strip_prefix('+')
                        .and_then(|k| k.parse::<u32>().ok())
                        .ok_or_else(|| format!("bad \"{k}\" in \"{text}\": {expected}"))?,
                    _ => return Err(format!("bad schedule step \"{text}\": {expected}")),
                };
                Some(Until {
                    func: name.to_string(),
                    ret: *kind == "after",
                    nth,
                    extra,
                })
            }
            _ => return Err(format!("bad schedule step \"{text}\": {expected}")),
        };
        Ok(Segment { cpu, until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_parse_and_print() {
        for text in [
            "cpu0 until after __swap_entry_free",
            "cpu1",
            "cpu0 until in swap_page_trans_huge_swapped#2 +1",
        ] {
            let s = Segment::parse(text, 4).unwrap();
            assert_eq!(s.to_string(), text);
        }
        assert_eq!(
            Segment::parse("cpu2 until after f#1 +0", 4)
                .unwrap()
                .to_string(),
            "cpu2 until after f"
        );
        for bad in [
            "cpu9",
            "cpu0 until",
            "cpu0 until before f",
            "cpu0 until after f#0",
            "cpu0 until after f +x",
            "cpux",
            "cpu0 until after f-g",
        ] {
            assert!(Segment::parse(bad, 4).is_err(), "{bad}");
        }
    }
}

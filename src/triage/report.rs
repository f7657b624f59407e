//! Bug reports in the shape of the kernel's: KASAN for bad accesses, the page-fault oops for NULL
//! dereferences, `WARNING:`/`kernel BUG` for assertions, and swapfuzz's own for invariants.

use std::fmt::Write;

use crate::model::kernel::kasan::{BadKind, Origin};
use crate::model::world::Waiter;
use crate::model::{Bug, BugKind};

const RULE: &str = "==================================================================";

fn cpu_name(cpu: Option<usize>) -> String {
    cpu.map_or_else(|| "setup".to_string(), |c| format!("CPU{c}"))
}

fn stack_lines(out: &mut String, stack: &[&'static str]) {
    for f in stack.iter().rev() {
        let _ = writeln!(out, " {f}");
    }
}

fn origin(out: &mut String, what: &str, o: &Origin) {
    let _ = writeln!(out, "{what} by task {} (step {}):", cpu_name(o.cpu), o.step);
    stack_lines(out, &o.stack);
}

/// How the reports name a kind of bad access: the one place where a [`BadKind`] becomes words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadKindWords {
    /// The title's, before ` in function` (and, for a NULL dereference, the address):
    /// `BUG: KASAN: use-after-free`.
    pub title: &'static str,
    /// The diagram's fatal line's, before the expression: `use-after-free of`.
    pub diagram: &'static str,
    /// The signature's: `use-after-free`.
    pub signature: &'static str,
}

/// The words of `kind` in the title, the diagram and the signature.
pub fn bad_kind_words(kind: BadKind) -> BadKindWords {
    let (title, diagram, signature) = match kind {
        BadKind::Null => (
            "BUG: kernel NULL pointer dereference",
            "NULL dereference of",
            "null-deref",
        ),
        BadKind::UseAfterFree => (
            "BUG: KASAN: use-after-free",
            "use-after-free of",
            "use-after-free",
        ),
        BadKind::OutOfBounds => (
            "BUG: KASAN: slab-out-of-bounds",
            "out-of-bounds",
            "out-of-bounds",
        ),
    };
    BadKindWords {
        title,
        diagram,
        signature,
    }
}

/// The CPUs of a deadlock, each with what it waits for and where: `CPU0 waits for GracePeriod in
/// swapoff > synchronize_rcu; …`.
pub fn waiters_words(waiters: &[Waiter]) -> String {
    let each: Vec<String> = waiters
        .iter()
        .map(|w| {
            format!(
                "CPU{} waits for {:?} in {}",
                w.cpu,
                w.waits_for,
                w.stack.join(" > ")
            )
        })
        .collect();
    each.join("; ")
}

/// The first line of the report of `bug`, e.g.
/// `BUG: KASAN: use-after-free in swap_page_trans_huge_swapped`.
pub fn title(bug: &Bug) -> String {
    let func = bug.func;
    match &bug.kind {
        BugKind::BadAccess { bad, .. } => {
            let words = bad_kind_words(bad.kind).title;
            if bad.kind == BadKind::Null {
                format!("{words}, address: {:#018x} in {func}", bad.offset)
            } else {
                format!("{words} in {func}")
            }
        }
        BugKind::Warn(m) => format!("WARNING: in {func}: {m}"),
        BugKind::KernelBug(m) => format!("kernel BUG in {func}: {m}"),
        BugKind::Invariant { id, detail } => {
            format!("swapfuzz: invariant {id} violated in {func}: {detail}")
        }
        BugKind::Deadlock(w) => format!("INFO: task hung (deadlock): {}", waiters_words(w)),
    }
}

/// What went wrong, as the diagram's fatal line says it after `function <-- `: e.g.
/// `NULL dereference of si->swap_map[roffset]`, `WARN_ON: …`.
pub fn fatal_what(kind: &BugKind) -> String {
    match kind {
        BugKind::BadAccess { expr, bad, .. } => {
            format!("{} {expr}", bad_kind_words(bad.kind).diagram)
        }
        BugKind::Warn(m) => format!("WARN_ON: {m}"),
        BugKind::KernelBug(m) => format!("BUG: {m}"),
        BugKind::Invariant { id, .. } => format!("invariant {id} violated"),
        BugKind::Deadlock(w) => waiters_words(w),
    }
}

/// The full report of `bug`, as the kernel would print it.
pub fn render(bug: &Bug) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{RULE}");
    let _ = writeln!(out, "{}", title(bug));
    match &bug.kind {
        BugKind::BadAccess {
            bad,
            expr,
            object,
            allocated_by,
            freed_by,
        } => {
            let rw = if bad.write { "Write" } else { "Read" };
            match bad.kind {
                BadKind::Null => {
                    let _ = writeln!(
                        out,
                        "#PF: supervisor {} access in kernel mode",
                        if bad.write { "write" } else { "read" }
                    );
                    let _ = writeln!(out, "#PF: {expr} is NULL (swapoff cleared the pointer)");
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "{rw} of size {} at addr {object}+{:#x} by task {}",
                        bad.size,
                        bad.offset,
                        cpu_name(bug.cpu)
                    );
                    let _ = writeln!(out, "(the access: {expr})");
                }
            }
            let _ = writeln!(out, "\nCall Trace:");
            stack_lines(&mut out, &bug.stack);
            if let Some(a) = allocated_by {
                out.push('\n');
                origin(&mut out, "Allocated", a);
            }
            if let Some(f) = freed_by {
                out.push('\n');
                origin(&mut out, "Freed", f);
            }
            if bad.kind != BadKind::Null {
                let _ = writeln!(
                    out,
                    "\nThe buggy address belongs to the object {object}, {:#x} bytes inside it.",
                    bad.offset
                );
            }
        }
        BugKind::Warn(_)
        | BugKind::KernelBug(_)
        | BugKind::Invariant { .. }
        | BugKind::Deadlock(_) => {
            let _ = writeln!(out, "CPU: {} (step {})", cpu_name(bug.cpu), bug.step);
            if !bug.stack.is_empty() {
                let _ = writeln!(out, "Call Trace:");
                stack_lines(&mut out, &bug.stack);
            }
        }
    }
    let _ = writeln!(out, "\nSwap state at the report:");
    for l in bug.state.lines() {
        let _ = writeln!(out, " {l}");
    }
    let _ = writeln!(out, "{RULE}");
    out
}

/// A short, stable signature of `bug` for deduplication: the kind of bug, the function of the
/// bad access (or the invariant), the object, and the racing call chains as far as the report
/// knows them: the operation the failing CPU was running, and for a use-after-free the one that
/// freed the object (e.g. `use-after-free:swap_page_trans_huge_swapped:si->swap_map:
/// shmem_truncate_range/swapoff`).
pub fn signature(bug: &Bug) -> String {
    let op = bug.stack.first().copied().unwrap_or("end-of-run");
    match &bug.kind {
        BugKind::BadAccess {
            bad,
            object,
            freed_by,
            ..
        } => {
            let k = bad_kind_words(bad.kind).signature;
            let freer = freed_by
                .as_ref()
                .and_then(|o| o.stack.first())
                .map(|f| format!("/{f}"))
                .unwrap_or_default();
            format!("{k}:{}:{object}:{op}{freer}", bug.func)
        }
        BugKind::Warn(_) => format!("warn:{}:{op}", bug.func),
        BugKind::KernelBug(_) => format!("bug:{}:{op}", bug.func),
        BugKind::Invariant { id, .. } => format!("invariant-{id}:{}:{op}", bug.func),
        BugKind::Deadlock(_) => format!("deadlock:{op}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::kernel::kasan::BadAccess;
    use crate::model::world::WaitFor;

    fn bug(kind: BugKind) -> Bug {
        Bug {
            kind,
            func: "f",
            cpu: Some(0),
            stack: vec!["op", "f"],
            step: 1,
            state: String::new(),
        }
    }

    fn bad(kind: BadKind) -> BugKind {
        BugKind::BadAccess {
            bad: BadAccess {
                kind,
                alloc: None,
                offset: 3,
                size: 1,
                write: false,
            },
            expr: "p->swap_map[offset]",
            object: "si->swap_map",
            allocated_by: None,
            freed_by: None,
        }
    }

    #[test]
    fn titles_fatal_lines_and_signatures_name_each_kind() {
        let cases = [
            (
                bad(BadKind::Null),
                "BUG: kernel NULL pointer dereference, address: 0x0000000000000003 in f",
                "NULL dereference of p->swap_map[offset]",
                "null-deref:f:si->swap_map:op",
            ),
            (
                bad(BadKind::UseAfterFree),
                "BUG: KASAN: use-after-free in f",
                "use-after-free of p->swap_map[offset]",
                "use-after-free:f:si->swap_map:op",
            ),
            (
                bad(BadKind::OutOfBounds),
                "BUG: KASAN: slab-out-of-bounds in f",
                "out-of-bounds p->swap_map[offset]",
                "out-of-bounds:f:si->swap_map:op",
            ),
            (
                BugKind::Warn("WARN_ON(x)".into()),
                "WARNING: in f: WARN_ON(x)",
                "WARN_ON: WARN_ON(x)",
                "warn:f:op",
            ),
            (
                BugKind::KernelBug("y".into()),
                "kernel BUG in f: y",
                "BUG: y",
                "bug:f:op",
            ),
            (
                BugKind::Invariant {
                    id: "S3",
                    detail: "z".into(),
                },
                "swapfuzz: invariant S3 violated in f: z",
                "invariant S3 violated",
                "invariant-S3:f:op",
            ),
            (
                BugKind::Deadlock(vec![
                    Waiter {
                        cpu: 0,
                        waits_for: WaitFor::GracePeriod,
                        stack: vec!["swapoff", "synchronize_rcu"],
                    },
                    Waiter {
                        cpu: 1,
                        waits_for: WaitFor::Completion(crate::model::types::SwapType(0)),
                        stack: vec!["swapoff"],
                    },
                ]),
                "INFO: task hung (deadlock): CPU0 waits for GracePeriod in swapoff > \
                 synchronize_rcu; CPU1 waits for Completion(0) in swapoff",
                "CPU0 waits for GracePeriod in swapoff > synchronize_rcu; CPU1 waits for \
                 Completion(0) in swapoff",
                "deadlock:op",
            ),
        ];
        for (kind, t, what, sig) in cases {
            assert_eq!(fatal_what(&kind), what);
            let b = bug(kind);
            assert_eq!(title(&b), t);
            assert_eq!(signature(&b), sig);
            assert!(render(&b).contains(t));
        }
    }
}

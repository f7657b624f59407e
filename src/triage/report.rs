//! Bug reports in the shape of the kernel's: KASAN for bad accesses, the page-fault oops for NULL
//! dereferences, `WARNING:`/`kernel BUG` for assertions, and swapfuzz's own for invariants.

use std::fmt::Write;

use crate::model::kernel::kasan::{BadKind, Origin};
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

/// The full report of `bug`, as the kernel would print it.
pub fn render(bug: &Bug) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{RULE}");
    let _ = writeln!(out, "{}", bug.title());
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
            let k = match bad.kind {
                BadKind::Null => "null-deref",
                BadKind::UseAfterFree => "use-after-free",
                BadKind::OutOfBounds => "out-of-bounds",
            };
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

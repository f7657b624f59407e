//! The interleaving drawn the way kernel commit messages draw races: one column per CPU, calls
//! nested in time order, `/* comments */` on the state changes that matter, and the fatal access
//! marked `<-- …`.

use crate::model::world::{Event, EventKind};

/// Helpers whose calls only clutter a diagram (their effects show in the notes).
const HIDDEN: &[&str] = &[
    "_swap_info_get",
    "swap_range_alloc",
    "drain_slots_cache_cpu",
    "enable_swap_slots_cache",
    "reenable_swap_slots_cache_unlock",
    "disable_swap_slots_cache_lock",
    "mmap",
    "get_swap_device",
    "put_swap_device",
    "swap_swapcount",
    "folio_swapped",
    "clear_shadow_from_swap_cache",
    "swap_cache_get_folio",
    "wait_for_completion",
];

/// Deepest call level drawn.
const MAX_DEPTH: usize = 6;

/// Draws `events` of CPUs `0..nr_cpus` (set-up events are left out).
pub fn render(events: &[Event], nr_cpus: usize) -> String {
    let mut rows: Vec<(usize, String)> = Vec::new();
    // Only the last event of a hidden subtree's parent chain matters: skip hidden calls and
    // everything nested under them, except notes and the fatal line.
    let mut hidden_depth: Vec<Option<usize>> = vec![None; nr_cpus];
    for e in events.iter().filter(|e| e.cpu < nr_cpus) {
        let hd = &mut hidden_depth[e.cpu];
        if let Some(d) = *hd
            && e.depth <= d
            && matches!(e.kind, EventKind::Call(_))
        {
            *hd = None;
        }
        let indent = "  ".repeat(e.depth.min(MAX_DEPTH));
        match &e.kind {
            EventKind::Call(name) => {
                if hd.is_some() || e.depth > MAX_DEPTH {
                    continue;
                }
                if HIDDEN.contains(name) {
                    *hd = Some(e.depth);
                    continue;
                }
                rows.push((e.cpu, format!("{indent}{name}")));
            }
            EventKind::Note(n) => rows.push((e.cpu, format!("{indent}{n}"))),
            EventKind::Fatal(msg) => {
                // `func <-- what`: on the call's own line if nothing happened since, else again
                // at the time of the access, as the thread's diagrams draw it.
                let (func, what) = msg.split_once(" <-- ").unwrap_or(("", msg));
                match rows.last_mut() {
                    Some((c, last)) if *c == e.cpu && last.trim_start() == func => {
                        last.push_str(&format!(" <-- {what} !!!"));
                    }
                    _ => rows.push((e.cpu, format!("{indent}{func} <-- {what} !!!"))),
                }
            }
        }
    }
    let width = rows
        .iter()
        .filter(|(c, _)| *c + 1 < nr_cpus)
        .map(|(_, s)| s.len())
        .max()
        .unwrap_or(0)
        .clamp(20, 44)
        + 2;
    let mut out = String::new();
    let header: Vec<String> = (0..nr_cpus).map(|c| format!("CPU{c}")).collect();
    let dashes: Vec<String> = (0..nr_cpus).map(|_| "----".to_string()).collect();
    for line in [header, dashes] {
        out.push_str(&pad_columns(&line, width));
    }
    out.push('\n');
    for (cpu, text) in rows {
        let mut cols = vec![String::new(); nr_cpus];
        cols[cpu] = text;
        out.push_str(&pad_columns(&cols, width));
    }
    out
}

fn pad_columns(cols: &[String], width: usize) -> String {
    let mut line = String::new();
    for (i, c) in cols.iter().enumerate() {
        if i + 1 == cols.len() {
            line.push_str(c);
        } else {
            line.push_str(&format!("{c:width$}"));
        }
    }
    let mut line = line.trim_end().to_string();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(cpu: usize, depth: usize, kind: EventKind) -> Event {
        Event {
            step: 0,
            cpu,
            depth,
            kind,
        }
    }

    #[test]
    fn columns_nesting_and_the_fatal_mark() {
        let events = vec![
            ev(0, 0, EventKind::Call("free_swap_and_cache")),
            ev(0, 1, EventKind::Call("_swap_info_get")),
            ev(0, 1, EventKind::Call("__swap_entry_free")),
            ev(0, 1, EventKind::Note("/* swap count become 0 */".into())),
            ev(1, 0, EventKind::Call("swapoff")),
            ev(1, 0, EventKind::Note("/* free si->swap_map[] */".into())),
            ev(0, 1, EventKind::Call("swap_page_trans_huge_swapped")),
            ev(
                0,
                1,
                EventKind::Fatal(
                    "swap_page_trans_huge_swapped <-- use-after-free of si->swap_map".into(),
                ),
            ),
            ev(2, 0, EventKind::Call("setup only")),
        ];
        let d = render(&events, 2);
        let lines: Vec<&str> = d.lines().collect();
        assert!(lines[0].starts_with("CPU0") && lines[0].trim_end().ends_with("CPU1"));
        assert!(!d.contains("_swap_info_get") && !d.contains("setup only"));
        let col = lines[0].find("CPU1").unwrap();
        let swapoff = lines.iter().find(|l| l.contains("swapoff")).unwrap();
        assert_eq!(swapoff.find("swapoff"), Some(col));
        assert!(
            d.contains("  swap_page_trans_huge_swapped <-- use-after-free of si->swap_map !!!")
        );
    }
}

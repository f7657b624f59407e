//! The interleaving drawn the way kernel commit messages draw races: one column per CPU, calls
//! nested in time order, `/* comments */` on the state changes that matter, and the fatal access
//! marked `<-- …`.

use super::report::fatal_what;
use crate::model::world::{Event, EventKind};

/// Deepest call level drawn.
const MAX_DEPTH: usize = 6;

/// Deepest call level kept when calls are elided to fit a width.
const MIN_ELIDED_DEPTH: usize = 3;

/// The width kernel commit messages wrap at: the default of `--width`.
pub const COMMIT_WIDTH: usize = 75;

/// The narrowest `--width` accepted: two columns of a few words each.
pub const MIN_WIDTH: usize = 40;

/// One drawn item of a CPU's column, before layout.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    /// A call: the function's name.
    Call(String),
    /// A `/* note */`.
    Note(String),
    /// The fatal access: `func <-- what !!!`.
    Fatal(String),
    /// Calls left out to fit the width: `...`.
    Elided,
}

/// A row of the diagram: one CPU's item at a call depth.
#[derive(Clone, Debug)]
struct Row {
    cpu: usize,
    depth: usize,
    item: Item,
}

/// The rows of `events` of CPUs `0..nr_cpus` (set-up events are left out).
fn rows(events: &[Event], nr_cpus: usize) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    // Helpers only clutter a diagram (their effects show in the notes): skip their calls and
    // everything nested under them, except notes and the fatal line.
    let mut hidden_depth: Vec<Option<usize>> = vec![None; nr_cpus];
    for e in events.iter().filter(|e| e.cpu < nr_cpus) {
        let hd = &mut hidden_depth[e.cpu];
        if let Some(d) = *hd
            && e.depth <= d
            && matches!(e.kind, EventKind::Call(_) | EventKind::Helper(_))
        {
            *hd = None;
        }
        let depth = e.depth.min(MAX_DEPTH);
        match &e.kind {
            EventKind::Helper(_) => {
                if hd.is_none() && e.depth <= MAX_DEPTH {
                    *hd = Some(e.depth);
                }
            }
            EventKind::Call(name) => {
                if hd.is_some() || e.depth > MAX_DEPTH {
                    continue;
                }
                rows.push(Row {
                    cpu: e.cpu,
                    depth,
                    item: Item::Call(name.to_string()),
                });
            }
            EventKind::Note(n) => rows.push(Row {
                cpu: e.cpu,
                depth,
                item: Item::Note(n.clone()),
            }),
            EventKind::Fatal { func, kind } => {
                // `func <-- what`: on the call's own line if nothing happened since, else again
                // at the time of the access, as the thread's diagrams draw it.
                let text = format!("{func} <-- {} !!!", fatal_what(kind));
                match rows.last_mut() {
                    Some(last)
                        if last.cpu == e.cpu
                            && matches!(&last.item, Item::Call(f) if f == func) =>
                    {
                        last.item = Item::Fatal(text);
                    }
                    _ => rows.push(Row {
                        cpu: e.cpu,
                        depth,
                        item: Item::Fatal(text),
                    }),
                }
            }
        }
    }
    rows
}

/// The CPUs in the order their first rows are drawn, then those with none.
pub fn cpu_order(events: &[Event], nr_cpus: usize) -> Vec<usize> {
    let mut order: Vec<usize> = Vec::new();
    for r in rows(events, nr_cpus) {
        if !order.contains(&r.cpu) {
            order.push(r.cpu);
        }
    }
    let unseen: Vec<usize> = (0..nr_cpus).filter(|c| !order.contains(c)).collect();
    order.extend(unseen);
    order
}

impl Item {
    fn text(&self) -> &str {
        match self {
            Item::Call(s) | Item::Note(s) | Item::Fatal(s) => s,
            Item::Elided => "...",
        }
    }
}

/// Draws `events` of CPUs `0..nr_cpus` (set-up events are left out) in the wide layout: two
/// spaces a call level, columns as wide as their calls (at most 46), nothing wrapped.
pub fn render(events: &[Event], nr_cpus: usize) -> String {
    let rows = rows(events, nr_cpus);
    let width = rows
        .iter()
        .filter(|r| r.cpu + 1 < nr_cpus)
        .map(|r| 2 * r.depth + r.item.text().len())
        .max()
        .unwrap_or(0)
        .clamp(20, 44)
        + 2;
    let drawn: Vec<(usize, Vec<String>)> = rows
        .iter()
        .map(|r| {
            let line = format!("{}{}", "  ".repeat(r.depth), r.item.text());
            (r.cpu, vec![line])
        })
        .collect();
    draw(&drawn, nr_cpus, width)
}

/// Draws `events` in at most `width` columns (a commit message's 75, say): the wide layout
/// ([`render`]) if it fits; otherwise the narrow one:
///
/// - one space a call level, and equal columns (`width / CPUs`, less when the columns' text
///   is narrower), so that the last CPU's column gets what is left;
/// - notes wrapped at spaces within their column, continued under the note's first word; the
///   fatal line (the last one) may run over the columns to its right and is wrapped at
///   `width`; a continuation moves left, down to its column's start, to make room for a long
///   word;
/// - if a column cannot hold its calls, the deepest call levels are elided: a run of calls
///   below the deepest level that fits (at least three levels are kept) becomes one `...`
///   line; the notes and the fatal line stay;
/// - a word, and so a function name, is never cut: when even eliding does not make the calls
///   fit, nothing is elided and the columns widen (the diagram is then wider than `width`;
///   with more than two CPUs that is usual: minimise first).
pub fn render_width(events: &[Event], nr_cpus: usize, width: usize) -> String {
    let wide = render(events, nr_cpus);
    if wide.lines().all(|l| l.chars().count() <= width) || nr_cpus == 0 {
        return wide;
    }
    let rows = rows(events, nr_cpus);
    let share = width / nr_cpus;
    // Column width: the widest cell of the non-last columns (unwrapped), up to the share.
    let natural = rows
        .iter()
        .filter(|r| r.cpu + 1 < nr_cpus)
        .map(|r| r.depth + r.item.text().len() + 2)
        .max()
        .unwrap_or(0);
    let mut colw = natural.clamp(8, share.max(8));
    let cell = |cpu: usize, colw: usize| {
        if cpu + 1 < nr_cpus {
            colw - 2
        } else {
            width.saturating_sub(cpu * colw).max(colw - 2)
        }
    };
    // The deepest call level whose calls fit their columns.
    let fits = |rs: &[Row], colw: usize| {
        rs.iter().all(|r| match &r.item {
            Item::Call(_) | Item::Elided => r.depth + r.item.text().len() <= cell(r.cpu, colw),
            _ => true,
        })
    };
    // Elision only helps when it makes the calls fit; below three levels it would leave too
    // little of the race to read, so a diagram that does not fit then keeps all its calls.
    let chosen = (MIN_ELIDED_DEPTH..=MAX_DEPTH)
        .rev()
        .map(|deepest| elide(&rows, deepest))
        .find(|rs| fits(rs, colw))
        .unwrap_or_else(|| elide(&rows, MAX_DEPTH));
    // A name no column can hold widens the columns rather than being cut.
    if let Some(need) = chosen
        .iter()
        .filter(|r| r.cpu + 1 < nr_cpus && matches!(r.item, Item::Call(_) | Item::Elided))
        .map(|r| r.depth + r.item.text().len() + 2)
        .max()
    {
        colw = colw.max(need);
    }
    let drawn: Vec<(usize, Vec<String>)> = chosen
        .iter()
        .map(|r| {
            let indent = r.depth;
            let lines = match &r.item {
                Item::Call(_) | Item::Elided => {
                    vec![format!("{}{}", " ".repeat(indent), r.item.text())]
                }
                Item::Note(n) => {
                    // `/*` and `*/` stay with a word, unless only apart they fit.
                    let w = cell(r.cpu, colw);
                    let fit = |ls: &[String]| ls.iter().all(|l| l.chars().count() <= w);
                    let glued = wrap(&note_words(n), indent, indent + 3, w);
                    let apart = wrap(&words(n), indent, indent + 3, w);
                    if !fit(&glued) && fit(&apart) {
                        apart
                    } else {
                        glued
                    }
                }
                Item::Fatal(f) => wrap(
                    &fatal_words(f),
                    indent,
                    indent + 2,
                    width.saturating_sub(r.cpu * colw).max(cell(r.cpu, colw)),
                ),
            };
            (r.cpu, lines)
        })
        .collect();
    draw(&drawn, nr_cpus, colw)
}

/// The words of a note, `/*` kept with the first word and `*/` with the last.
fn note_words(text: &str) -> Vec<String> {
    let mut w = words(text);
    if w.len() >= 2 && w[0] == "/*" {
        let first = w.remove(0);
        w[0] = format!("{first} {}", w[0]);
    }
    if w.len() >= 2 && w.last().is_some_and(|l| l == "*/") {
        w.pop();
        if let Some(l) = w.last_mut() {
            l.push_str(" */");
        }
    }
    w
}

/// The words of a fatal line, its closing `!!!` kept with the last word.
fn fatal_words(text: &str) -> Vec<String> {
    let mut w = words(text);
    if w.len() > 1 && w.last().is_some_and(|l| l == "!!!") {
        w.pop();
        if let Some(l) = w.last_mut() {
            l.push_str(" !!!");
        }
    }
    w
}

/// `rows` with the calls deeper than `deepest` left out: each run of them (a CPU's rows with
/// no other drawn row of that CPU between) becomes one `...` at level `deepest + 1`; deeper
/// notes and fatal lines are drawn at that level.
fn elide(rows: &[Row], deepest: usize) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    let mut open: Vec<Option<usize>> = Vec::new();
    for r in rows {
        if open.len() <= r.cpu {
            open.resize(r.cpu + 1, None);
        }
        let level = (deepest + 1).min(MAX_DEPTH);
        if r.depth > deepest && matches!(r.item, Item::Call(_)) {
            // Extend the CPU's open `...`, if its last drawn row is that.
            if open[r.cpu].is_none_or(|i| out.iter().rposition(|o| o.cpu == r.cpu) != Some(i)) {
                open[r.cpu] = Some(out.len());
                out.push(Row {
                    cpu: r.cpu,
                    depth: level,
                    item: Item::Elided,
                });
            }
            continue;
        }
        out.push(Row {
            cpu: r.cpu,
            depth: r.depth.min(level),
            item: r.item.clone(),
        });
    }
    out
}

/// `words` joined by spaces and wrapped in `width` columns: the first line indented by `first`,
/// the others by `rest`, or by less (down to 0, the same for all of them) when a long word needs
/// the room. A word is never cut: one longer than `width` gets a line of its own.
fn wrap(words: &[String], first: usize, rest: usize, width: usize) -> Vec<String> {
    let longest = words.iter().skip(1).map(|w| w.chars().count()).max();
    let rest = rest.min(width.saturating_sub(longest.unwrap_or(0)));
    let mut lines: Vec<String> = Vec::new();
    let mut line = " ".repeat(first);
    for (i, word) in words.iter().enumerate() {
        if i == 0 {
            line.push_str(word);
        } else if line.chars().count() + 1 + word.chars().count() <= width {
            line.push(' ');
            line.push_str(word);
        } else {
            lines.push(std::mem::take(&mut line));
            line = format!("{}{word}", " ".repeat(rest));
        }
    }
    lines.push(line);
    lines
}

/// The words of `text`, for [`wrap`].
fn words(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Lays out `rows` (each a CPU and its lines) in columns `colw` wide, under a `CPUn` header.
fn draw(rows: &[(usize, Vec<String>)], nr_cpus: usize, colw: usize) -> String {
    let mut out = String::new();
    let header: Vec<String> = (0..nr_cpus).map(|c| format!("CPU{c}")).collect();
    let dashes: Vec<String> = (0..nr_cpus).map(|_| "----".to_string()).collect();
    for line in [header, dashes] {
        out.push_str(&pad_columns(&line, colw));
    }
    out.push('\n');
    for (cpu, lines) in rows {
        for text in lines {
            let mut cols = vec![String::new(); *cpu + 1];
            cols[*cpu] = text.clone();
            out.push_str(&pad_columns(&cols, colw));
        }
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
    use crate::model::BugKind;
    use crate::model::kernel::kasan::{BadAccess, BadKind};

    fn ev(cpu: usize, depth: usize, kind: EventKind) -> Event {
        Event {
            step: 0,
            cpu,
            depth,
            kind,
        }
    }

    /// The fatal event of a bad access of `kind` to `expr` in `func`.
    fn fatal(func: &'static str, kind: BadKind, expr: &'static str) -> EventKind {
        EventKind::Fatal {
            func,
            kind: BugKind::BadAccess {
                bad: BadAccess {
                    kind,
                    alloc: None,
                    offset: 0,
                    size: 1,
                    write: false,
                },
                expr,
                object: "si->swap_map",
                allocated_by: None,
                freed_by: None,
            },
        }
    }

    #[test]
    fn columns_nesting_and_the_fatal_mark() {
        let events = vec![
            ev(0, 0, EventKind::Call("free_swap_and_cache")),
            ev(0, 1, EventKind::Helper("_swap_info_get")),
            ev(0, 1, EventKind::Call("__swap_entry_free")),
            ev(0, 1, EventKind::Note("/* swap count become 0 */".into())),
            ev(1, 0, EventKind::Call("swapoff")),
            ev(1, 0, EventKind::Note("/* free si->swap_map[] */".into())),
            ev(0, 1, EventKind::Call("swap_page_trans_huge_swapped")),
            ev(
                0,
                1,
                fatal(
                    "swap_page_trans_huge_swapped",
                    BadKind::UseAfterFree,
                    "si->swap_map",
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

    /// The shmem race's events, as the model records them (depths as in the real run).
    fn shmem_race() -> Vec<Event> {
        use EventKind::{Call, Note};
        let c = |cpu, depth, f: &'static str| ev(cpu, depth, Call(f));
        let n = |cpu, depth, t: &str| ev(cpu, depth, Note(t.into()));
        vec![
            c(0, 0, "shmem_truncate_range"),
            c(0, 1, "shmem_undo_range"),
            c(0, 2, "shmem_free_swap"),
            n(
                0,
                3,
                "/* xa_cmpxchg_irq: index 1 no longer holds swp(0,1) */",
            ),
            c(0, 3, "free_swap_and_cache"),
            c(0, 4, "__swap_entry_free"),
            c(0, 5, "__swap_entry_free_locked"),
            n(0, 5, "/* swap count become 0 */"),
            c(0, 4, "swap_page_trans_huge_swapped"),
            c(1, 0, "swapoff"),
            c(1, 1, "try_to_unuse"),
            c(1, 2, "folio_free_swap"),
            c(1, 3, "delete_from_swap_cache"),
            c(1, 4, "put_swap_folio"),
            c(1, 5, "free_swap_slot"),
            c(1, 6, "swapcache_free_entries"),
            n(1, 6, "/* si->inuse_pages = 0 */"),
            n(1, 1, "/* percpu_ref_kill(&p->users) */"),
            n(1, 1, "/* free si->swap_map[] */"),
            ev(
                0,
                4,
                fatal(
                    "swap_page_trans_huge_swapped",
                    BadKind::Null,
                    "si->swap_map[roffset]",
                ),
            ),
        ]
    }

    /// Every function name of `events` appears whole on some line of `d`.
    fn names_whole(events: &[Event], d: &str) -> bool {
        events.iter().all(|e| match &e.kind {
            EventKind::Call(f) => d.lines().any(|l| l.split_whitespace().any(|w| w == *f)),
            _ => true,
        })
    }

    #[test]
    fn the_wide_layout_when_it_fits_else_the_narrow_one_within_the_width() {
        let events = shmem_race();
        assert_eq!(render_width(&events, 2, 200), render(&events, 2));
        let d = render_width(&events, 2, COMMIT_WIDTH);
        assert!(d.lines().all(|l| l.len() <= COMMIT_WIDTH), "{d}");
        assert!(names_whole(&events, &d), "{d}");
        let lines: Vec<&str> = d.lines().collect();
        // One space a level, the second column where the header says.
        let col = lines[0].find("CPU1").unwrap();
        assert!(lines.contains(&" shmem_undo_range"), "{d}");
        assert!(lines.iter().any(|l| l.find("swapoff") == Some(col)), "{d}");
        // The note and the fatal line wrapped at spaces, continued further in.
        assert!(lines.contains(&"   /* xa_cmpxchg_irq: index 1 no"), "{d}");
        assert!(lines.contains(&"      longer holds swp(0,1) */"), "{d}");
        let fatal = lines
            .iter()
            .position(|l| l.ends_with("swap_page_trans_huge_swapped <-- NULL dereference of"))
            .expect(&d);
        assert_eq!(lines[fatal + 1], "      si->swap_map[roffset] !!!");
        assert!(!d.contains("..."), "nothing elided when the calls fit: {d}");
    }

    #[test]
    fn deep_calls_are_elided_only_when_that_makes_them_fit_and_names_are_never_cut() {
        let events = shmem_race();
        // 56 columns: the calls below level 3 become `...`, the notes stay.
        let d = render_width(&events, 2, 56);
        assert!(d.lines().all(|l| l.len() <= 56), "{d}");
        assert!(
            d.contains("    ...") && !d.contains("__swap_entry_free_locked"),
            "{d}"
        );
        assert!(
            d.contains("free_swap_and_cache") && d.contains("/* swap count"),
            "{d}"
        );
        assert!(d.contains("swap_page_trans_huge_swapped <--"), "{d}");
        // 40 columns: no elision makes the calls fit, so nothing is elided and no name is cut.
        let d = render_width(&events, 2, 40);
        assert!(!d.contains("..."), "{d}");
        assert!(names_whole(&events, &d), "{d}");
        // Words are never cut, even longer than the width.
        let w = wrap(&words("a verylongword b"), 2, 4, 6);
        assert_eq!(w, ["  a", "verylongword", "b"]);
        assert_eq!(note_words("/* a b */"), ["/* a", "b */"]);
        assert_eq!(fatal_words("f <-- x !!!"), ["f", "<--", "x !!!"]);
    }
}

//! Every documentation reference in the repository resolves.
//!
//! Scans the project's text files (sources, scripts, scenarios, docs, CI files) for
//!
//! - mentions of `docs/<file>.md` and `docs/<file>.md#anchor`: the file must exist and, with an
//!   anchor, have a heading whose GitHub anchor is that (`## Swapoff steps` is `#swapoff-steps`);
//! - Markdown links `[text](path#anchor)` and `[text](#anchor)` in `.md` files, resolved from the
//!   linking file's directory;
//! - any other `<name>.md`: a file of that name must exist somewhere in the repository;
//!
//! and fails on references to documents that are not part of the project: the notes file that
//! the first version of the docs cited, anything under a directory named `shared`, and section
//! signs followed by a number (the notes' numbering), which no document of the repository has.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Directories never scanned: build output, fuzzing output, binary corpora, git.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "target",
    "corpus",
    "artifacts",
    "coverage",
    "hunt-out",
    "node_modules",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every text file under `dir` (UTF-8, below 1 MiB), recursively.
fn text_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if !SKIP_DIRS.contains(&name.as_str()) && !name.starts_with("corpus-work") {
                text_files(&path, out);
            }
        } else if ft.is_file()
            && e.metadata().is_ok_and(|m| m.len() < 1 << 20)
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            out.push((path, text));
        }
    }
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside fenced code), duplicates numbered as
/// GitHub numbers them (`-1`, `-2`, …).
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let hashes = t.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !t[hashes..].starts_with(' ') {
            continue;
        }
        let s = slug(&t[hashes..]);
        let n = seen.entry(s.clone()).or_insert(0);
        out.insert(if *n == 0 {
            s.clone()
        } else {
            format!("{s}-{n}")
        });
        *n += 1;
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

fn is_anchor_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-')
}

/// Every `<name>.md` in `text` with its byte offset: (the path-like token ending in `.md`, the
/// anchor after it if a `#` follows).
fn md_mentions(text: &str) -> Vec<(usize, String, Option<String>)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices(".md") {
        let end = i + 3;
        if text[end..].chars().next().is_some_and(is_anchor_char) {
            continue; // `.mdx`, `.md_file`, …
        }
        let start = text[..i]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_name_char(c))
            .last()
            .map_or(i, |(j, _)| j);
        let token = text[start..end].trim_start_matches(['.', '/']);
        let token = if text[..start].ends_with("../") || text[start..end].starts_with("../") {
            text[start..end].to_string()
        } else {
            token.to_string()
        };
        if token.len() <= 3 {
            continue;
        }
        let anchor = text[end..].strip_prefix('#').map(|rest| {
            rest.chars()
                .take_while(|&c| is_anchor_char(c))
                .collect::<String>()
        });
        out.push((start, token, anchor.filter(|a| !a.is_empty())));
    }
    out
}

/// Markdown link targets `](target)` in `text`, with their byte offsets.
fn md_links(text: &str) -> Vec<(usize, String)> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            let end = rest.find(')')?;
            let target = rest[..end].trim();
            (!target.contains(char::is_whitespace)).then(|| (i, target.to_string()))
        })
        .collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[test]
fn every_documentation_reference_resolves() {
    let root = root();
    let mut files = Vec::new();
    text_files(&root, &mut files);
    assert!(
        files.iter().any(|(p, _)| p.ends_with("docs/model.md")),
        "docs/model.md is missing"
    );

    let mut md_anchors: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut md_names = BTreeSet::new();
    for (p, text) in &files {
        if p.extension().is_some_and(|e| e == "md") {
            md_anchors.insert(p.clone(), anchors(text));
            md_names.insert(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let check = |file: &Path, anchor: Option<&str>| -> Result<(), String> {
        let Some(anchors) = md_anchors.get(file) else {
            return Err(format!("{} does not exist", file.display()));
        };
        match anchor {
            Some(a) if !anchors.contains(a) => Err(format!(
                "{} has no heading with anchor #{a} (it has: {})",
                file.display(),
                anchors.iter().cloned().collect::<Vec<_>>().join(", ")
            )),
            _ => Ok(()),
        }
    };

    // Spelt in pieces so that this file does not match itself.
    let notes = concat!("kernel-swap", "-semantics");
    let shared = concat!("shared", "/");
    let section = '\u{a7}';

    let mut errors = Vec::new();
    let mut resolved = 0;
    for (path, text) in &files {
        let rel = path.strip_prefix(&root).unwrap_or(path);
        let dir = path.parent().unwrap_or(&root);
        let mut bad = |offset: usize, what: String| {
            errors.push(format!(
                "{}:{}: {what}",
                rel.display(),
                line_of(text, offset)
            ));
        };
        for forbidden in [notes, shared] {
            for (i, _) in text.match_indices(forbidden) {
                bad(
                    i,
                    format!("mentions `{forbidden}`, which is not part of the project"),
                );
            }
        }
        for (i, _) in text.match_indices(section) {
            let next = text[i + section.len_utf8()..].chars().next();
            if next.is_some_and(|c| c.is_ascii_digit()) {
                bad(
                    i,
                    "a numbered section sign: point to docs/<file>.md#anchor instead".into(),
                );
            }
        }
        for (i, token, anchor) in md_mentions(text) {
            let target = if token.starts_with("../") {
                dir.join(&token)
            } else if token.starts_with("docs/") {
                root.join(&token)
            } else {
                let name = token.rsplit('/').next().unwrap_or(&token);
                if !md_names.contains(name) {
                    bad(i, format!("`{token}` names no file of the repository"));
                }
                continue;
            };
            let target = normalize(&target);
            match check(&target, anchor.as_deref()) {
                Ok(()) => resolved += 1,
                Err(e) => bad(i, format!("`{token}`: {e}")),
            }
        }
        if path.extension().is_some_and(|e| e == "md") {
            for (i, target) in md_links(text) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target.as_str(), None),
                };
                let file = if file.is_empty() {
                    path.clone()
                } else {
                    normalize(&dir.join(file))
                };
                if file.extension().is_some_and(|e| e == "md") {
                    match check(&file, anchor) {
                        Ok(()) => resolved += 1,
                        Err(e) => bad(i, format!("link `{target}`: {e}")),
                    }
                } else if !file.exists() {
                    bad(i, format!("link `{target}`: no such file"));
                } else {
                    resolved += 1;
                }
            }
        }
    }
    assert!(
        errors.is_empty(),
        "{} unresolved documentation references:\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert!(
        resolved > 20,
        "only {resolved} references found: is the scan broken?"
    );
}

/// `a/b/../c` → `a/c` (without touching the file system).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

#[test]
fn anchors_follow_github() {
    let a = anchors(
        "# Title\n## Swapoff steps\n### (a) thp-exit\n```\n# not a heading\n```\n## try_to_unuse\n\
         ## Kernel 6.1 versus v6.8\n## Notes\n## Notes\n#nospace\n",
    );
    let want = [
        "title",
        "swapoff-steps",
        "a-thp-exit",
        "try_to_unuse",
        "kernel-61-versus-v68",
        "notes",
        "notes-1",
    ];
    assert_eq!(a, want.iter().map(|s| s.to_string()).collect());
    let m = md_mentions("see docs/model.md#invariants, (../docs/model.md#a-thp-exit) and x.mdx");
    assert_eq!(
        m.iter()
            .map(|(_, t, a)| (t.as_str(), a.as_deref()))
            .collect::<Vec<_>>(),
        [
            ("docs/model.md", Some("invariants")),
            ("../docs/model.md", Some("a-thp-exit"))
        ]
    );
}

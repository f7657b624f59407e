//! `swapfuzz patches`: the patch registry, a line each.

use super::EXIT_CLEAN;
use crate::model::patches::{Argued, Kind, REGISTRY};

/// Lists every patch: name, what it is, the functions it replaces, its subject.
pub fn list() -> Result<u8, String> {
    let replaces = |p: &crate::model::patches::Patch| {
        let v: Vec<String> = p.replaces().iter().map(|f| format!("{f}()")).collect();
        v.join(" ")
    };
    // Columns as wide as their widest entry (at least the widths of the first patches).
    let name_w = REGISTRY.iter().map(|p| p.name.len()).fold(16, usize::max);
    let repl_w = REGISTRY
        .iter()
        .map(|p| replaces(p).len())
        .fold(22, usize::max);
    println!(
        "{:<name_w$} {:<22} {:<repl_w$} subject",
        "patch", "kind", "replaces"
    );
    for p in REGISTRY {
        let kind = match p.kind {
            Kind::Upstream => "upstream fix",
            Kind::Example(Argued::Closes) => "example (closes)",
            Kind::Example(Argued::DoesNotClose { .. }) => "example (wrong fix)",
            Kind::Revert(_) => "revert (reopens)",
            Kind::Proposed => "proposed",
        };
        println!(
            "{:<name_w$} {:<22} {:<repl_w$} {}",
            p.name,
            kind,
            replaces(p),
            p.subject
        );
    }
    println!(
        "\n(the kernels: --variant buggy = v6.8; --variant fixed = v6.8 + every upstream fix; \
         --patch NAME; does it close the race: swapfuzz check-patch NAME)"
    );
    Ok(EXIT_CLEAN)
}

//! `swapfuzz patches`: the patch registry, a line each.

use super::EXIT_CLEAN;
use crate::model::patches::{Argued, Kind, REGISTRY};

/// Lists every patch: name, what it is, the functions it replaces, its subject.
pub fn list() -> Result<u8, String> {
    println!("{:<16} {:<22} {:<22} subject", "patch", "kind", "replaces");
    for p in REGISTRY {
        let kind = match p.kind {
            Kind::Upstream => "upstream fix",
            Kind::Example(Argued::Closes) => "example (closes)",
            Kind::Example(Argued::DoesNotClose { .. }) => "example (wrong fix)",
            Kind::Revert(_) => "revert (reopens)",
            Kind::Proposed => "proposed",
        };
        let replaces: Vec<String> = p.replaces().iter().map(|f| format!("{f}()")).collect();
        println!(
            "{:<16} {:<22} {:<22} {}",
            p.name,
            kind,
            replaces.join(" "),
            p.subject
        );
    }
    println!(
        "\n(the kernels: --variant buggy = v6.8; --variant fixed = v6.8 + every upstream fix; \
         --patch NAME; does it close the race: swapfuzz check-patch NAME)"
    );
    Ok(EXIT_CLEAN)
}

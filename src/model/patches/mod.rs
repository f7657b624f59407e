//! Patches: the kernel under test is Linux v6.8 plus a set of patches, one file each.
//!
//! ```
//! use swapfuzz::model::patches::{self, PatchSet};
//! // v6.8 itself, and v6.8 with the seed race's fix:
//! let base = PatchSet::base();
//! let fixed = PatchSet::base().with("82b1c07a0af6").unwrap();
//! assert_eq!(base.name(), "v6.8");
//! assert_eq!(fixed.name(), "v6.8 + 82b1c07a0af6");
//! // Every patch in the registry, and the kernel functions each one replaces:
//! for p in patches::REGISTRY {
//!     assert!(!p.replaces().is_empty(), "{}", p.name);
//! }
//! // Two patches that replace the same function do not combine.
//! assert!(fixed.with("wrong-rcu").is_err());
//! ```
//!
//! A patch file holds the kernel function(s) it changes, written as the patched kernel code
//! reads, and a [`Patch`] that describes it (commit, subject, `Fixes:`, and for the examples
//! shipped with swapfuzz the verdict argued from kernel semantics). The v6.8 function stays in
//! its own file of the model; it starts with a *seam*, one line that calls the patched
//! function instead when the configuration's [`Seams`] holds one:
//!
//! ```text
//! pub fn free_swap_and_cache(k: &Kernel, entry: SwpEntry) -> bool {
//!     if let Some(patched) = k.patched().free_swap_and_cache {
//!         return patched(k, entry);
//!     }
//!     ...v6.8...
//! ```
//!
//! The seam costs a load and a branch: the function pointers are resolved once, when the
//! [`PatchSet`] is built, never looked up per call.
//!
//! **Adding a patch** is one new file here and one line in [`REGISTRY`]. A patch of a function
//! that has no seam yet also adds the seam: a line in the `seams!` list of this file, and the
//! `if let` at the top of the v6.8 function.

// Patch files quote the kernel's diffs, which indent with tabs.
#![allow(clippy::tabs_in_doc_comments)]

use super::context::Kernel;
use super::types::{FolioId, InodeId, MmId, SwpEntry};

mod alt_rcu;
mod commit_82b1c07a0af6;
mod revert_13ddaf26be32;
mod revert_2799e77529c2;
mod revert_2efa33fc7f6e;
mod revert_aeb309b81c6b;
mod revert_eb085574a752;
mod wrong_early_put;
mod wrong_rcu;
mod wrong_si_lock;

/// Every patch swapfuzz knows, one line each. The order is the order of `swapfuzz patches`.
pub const REGISTRY: &[Patch] = &[
    commit_82b1c07a0af6::PATCH,
    wrong_rcu::PATCH,
    wrong_si_lock::PATCH,
    wrong_early_put::PATCH,
    alt_rcu::PATCH,
    revert_aeb309b81c6b::PATCH,
    revert_2efa33fc7f6e::PATCH,
    revert_eb085574a752::PATCH,
    revert_2799e77529c2::PATCH,
    revert_13ddaf26be32::PATCH,
];

/// One patch: what it is, and which functions it replaces.
#[derive(Clone, Copy, Debug, Hash)]
pub struct Patch {
    /// The name on the command line (`--patch NAME`): the 12-digit commit id of an upstream
    /// commit, a short name for an example.
    pub name: &'static str,
    /// What kind of patch, and for the examples shipped with swapfuzz, their argued verdict.
    pub kind: Kind,
    /// The commit's subject line (an example's one-line summary).
    pub subject: &'static str,
    /// The `Fixes:` tag: the commit that introduced the race, as `id ("subject")`.
    pub fixes: Option<&'static str>,
    /// Installs the patched functions in `seams`.
    pub apply: fn(&mut Seams),
}

/// What a patch is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An upstream commit that landed after v6.8 (its fix is part of the fully patched kernel,
    /// [`PatchSet::fixed`]).
    Upstream,
    /// The revert of a fix that is in v6.8 (an older race of the catalogue, docs/catalogue.md):
    /// it reopens the race, as argued in its file. Judged on the fixed kernel plus the revert.
    Revert(Argued),
    /// An example shipped with swapfuzz, with the verdict argued in its file.
    Example(Argued),
    /// A patch under test (yours): no verdict yet; continuous fuzzing runs it.
    Proposed,
}

/// The verdict of an example patch, argued from kernel semantics in its doc comment (and checked
/// by `tests/patches.rs` against what `swapfuzz check-patch` says).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Argued {
    /// The patch closes the race: no bug under any schedule.
    Closes,
    /// The patch does not close the race: a bug is reported in one of these kernel functions
    /// (which one depends on the schedule found first, when the argument shows several).
    DoesNotClose {
        /// The innermost function of the report (`Bug::func`).
        bug_in: &'static [&'static str],
    },
}

impl Patch {
    /// The kernel functions this patch replaces, in the order of [`Seams`].
    pub fn replaces(&self) -> Vec<&'static str> {
        let mut s = Seams::default();
        (self.apply)(&mut s);
        s.replaced()
    }

    /// The verdict argued in the patch's file (examples and reverts).
    pub fn argued(&self) -> Option<Argued> {
        match self.kind {
            Kind::Example(a) | Kind::Revert(a) => Some(a),
            Kind::Upstream | Kind::Proposed => None,
        }
    }

    /// This patch by its command-line name.
    pub fn by_name(name: &str) -> Option<&'static Patch> {
        REGISTRY.iter().find(|p| p.name == name)
    }
}

/// Declares [`Seams`]: one `Option<fn>` field per kernel function a patch may replace, and
/// [`Seams::replaced`], which names them.
macro_rules! seams {
    ($($(#[$doc:meta])* $name:ident: $ty:ty,)*) => {
        /// The patched functions in force: `None` runs v6.8's own. One field per function a
        /// patch may replace.
        #[derive(Clone, Copy, Default, Hash)]
        pub struct Seams {
            $($(#[$doc])* pub $name: Option<$ty>,)*
        }

        impl Seams {
            /// The names of the functions replaced here, in declaration order.
            pub fn replaced(&self) -> Vec<&'static str> {
                let mut v = Vec::new();
                $(if self.$name.is_some() {
                    v.push(stringify!($name));
                })*
                v
            }
        }
    };
}

// The functions a patch may replace. A new one: a line here, and at the top of the v6.8
// function `if let Some(patched) = k.patched().NAME { return patched(...); }`.
seams! {
    /// mm/swapfile.c: free_swap_and_cache().
    free_swap_and_cache: fn(&Kernel, SwpEntry) -> bool,
    /// mm/swap_state.c: filemap_get_incore_folio().
    filemap_get_incore_folio: fn(&Kernel, InodeId, usize) -> Option<FolioId>,
    /// mm/shmem.c: shmem_swapin_folio().
    shmem_swapin_folio: fn(&Kernel, InodeId, usize, SwpEntry) -> Result<FolioId, i32>,
    /// mm/swap_state.c: __read_swap_cache_async().
    __read_swap_cache_async: fn(&Kernel, SwpEntry, &mut bool, bool) -> Option<FolioId>,
    /// mm/memory.c: do_swap_page().
    do_swap_page: fn(&Kernel, MmId, usize, bool),
}

/// A kernel state: v6.8 plus a set of patches of the [`REGISTRY`], with their functions
/// resolved. Compared and hashed by the set of patches alone.
#[derive(Clone, Copy, Default)]
pub struct PatchSet {
    /// Bit `i`: `REGISTRY[i]` is applied.
    bits: u64,
    /// The functions the patches install.
    seams: Seams,
}

impl PatchSet {
    /// Plain v6.8.
    pub fn base() -> PatchSet {
        PatchSet::default()
    }

    /// The fully patched kernel: v6.8 and every [`Kind::Upstream`] fix of the registry.
    pub fn fixed() -> PatchSet {
        let mut s = PatchSet::base();
        for p in REGISTRY.iter().filter(|p| p.kind == Kind::Upstream) {
            s = s.with(p.name).expect("upstream patches combine");
        }
        s
    }

    /// The kernel to judge `patch` on: the fully patched kernel, less the upstream fixes that
    /// replace a function `patch` replaces (an alternative to a fix replaces the fix), plus
    /// `patch`.
    pub fn for_patch(patch: &Patch) -> PatchSet {
        let mine = patch.replaces();
        let mut s = PatchSet::base();
        for p in REGISTRY.iter().filter(|p| p.kind == Kind::Upstream) {
            if p.name != patch.name && p.replaces().iter().all(|f| !mine.contains(f)) {
                s = s.with(p.name).expect("upstream patches combine");
            }
        }
        s.with(patch.name)
            .expect("a patch combines with the fixes it does not replace")
    }

    /// This set plus the patch named `name`; an error if there is no such patch or it replaces
    /// a function another patch of the set already replaces.
    pub fn with(self, name: &str) -> Result<PatchSet, String> {
        let Some(i) = REGISTRY.iter().position(|p| p.name == name) else {
            let known: Vec<_> = REGISTRY.iter().map(|p| p.name).collect();
            return Err(format!(
                "no patch named '{name}' (swapfuzz patches lists them: {})",
                known.join(", ")
            ));
        };
        if self.bits & (1 << i) != 0 {
            return Ok(self);
        }
        let patch = &REGISTRY[i];
        let taken = self.seams.replaced();
        if let Some(f) = patch.replaces().into_iter().find(|f| taken.contains(f)) {
            let other = self
                .patches()
                .find(|p| p.replaces().contains(&f))
                .map_or("another patch", |p| p.name);
            return Err(format!(
                "patches {other} and {name} both replace {f}(): apply one of them"
            ));
        }
        let mut seams = self.seams;
        (patch.apply)(&mut seams);
        Ok(PatchSet {
            bits: self.bits | (1 << i),
            seams,
        })
    }

    /// The patches of this set, in registry order.
    pub fn patches(&self) -> impl Iterator<Item = &'static Patch> + '_ {
        REGISTRY
            .iter()
            .enumerate()
            .filter(|(i, _)| self.bits & (1 << i) != 0)
            .map(|(_, p)| p)
    }

    /// The patched functions in force.
    #[inline]
    pub fn seams(&self) -> &Seams {
        &self.seams
    }

    /// The patch names, in registry order.
    pub fn names(&self) -> Vec<&'static str> {
        self.patches().map(|p| p.name).collect()
    }

    /// `v6.8`, or `v6.8 + 82b1c07a0af6 + …`.
    pub fn name(&self) -> String {
        let mut s = String::from("v6.8");
        for p in self.patches() {
            s.push_str(" + ");
            s.push_str(p.name);
        }
        s
    }
}

impl PartialEq for PatchSet {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl Eq for PatchSet {}

impl std::hash::Hash for PatchSet {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.bits.hash(h)
    }
}

impl PartialOrd for PatchSet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PatchSet {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bits.cmp(&other.bits)
    }
}

impl std::fmt::Debug for PatchSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_patch_replaces_something() {
        let mut names: Vec<_> = REGISTRY.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
        assert!(REGISTRY.len() <= 64, "PatchSet holds 64 patches");
        for p in REGISTRY {
            assert!(!p.replaces().is_empty(), "{} replaces nothing", p.name);
        }
    }

    #[test]
    fn the_fixed_kernel_holds_every_upstream_fix_and_an_example_replaces_its_fix() {
        assert_eq!(PatchSet::fixed().names(), ["82b1c07a0af6"]);
        let wrong = Patch::by_name("wrong-rcu").unwrap();
        assert_eq!(PatchSet::for_patch(wrong).names(), ["wrong-rcu"]);
        let fix = Patch::by_name("82b1c07a0af6").unwrap();
        assert_eq!(PatchSet::for_patch(fix), PatchSet::fixed());
    }

    #[test]
    fn unknown_and_conflicting_patches_are_errors() {
        let e = PatchSet::base().with("no-such").unwrap_err();
        assert!(e.contains("no patch named 'no-such'"), "{e}");
        let e = PatchSet::fixed().with("wrong-rcu").unwrap_err();
        assert!(
            e.contains("82b1c07a0af6 and wrong-rcu both replace free_swap_and_cache()"),
            "{e}"
        );
        assert_eq!(
            PatchSet::fixed().with("82b1c07a0af6"),
            Ok(PatchSet::fixed())
        );
    }
}

//! The operation kinds: one table, [`KINDS`], that every codec and printer reads. A kind has
//! its scenario-text name, the kernel path it drives, its named arguments (with their ranges),
//! the weights the byte codec's tag tables give it; [`op_of`] and [`op_bytes`] turn its number
//! and three field bytes into an [`Op`] and back. Adding an operation means a variant of
//! [`Op`], its body in the model's runner, and a row here (with its arms in [`op_of`] and
//! [`op_bytes`]).

use super::{FILE_PAGES, NR_FILES, Op};
use crate::model::types::MAX_SWAPFILES;

/// Most small pages of one `mmap pages=N` process: the runner maps `1 + pages % 4`.
pub const MMAP_MAX_PAGES: u8 = 4;

/// Number of operation kinds: the rows of [`KINDS`], the variants of [`Op`].
pub const NR_KINDS: usize = 18;

/// A named argument of an operation. Its value is one field byte of the operation: the
/// arguments of a kind are its fields `a`, `b`, `c` in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// `dev=`: a swap device, by type.
    Dev,
    /// `pages=`: small anon pages to map (written 1-based, stored 0-based).
    Pages,
    /// `huge`: one cluster-size large folio.
    Huge,
    /// `mm=`: a process.
    Mm,
    /// `pte=`: a PTE index in a process.
    Pte,
    /// `offset=`: a swap-cache folio of a device.
    Offset,
    /// `write`: a write fault.
    Write,
    /// `file=`: a tmpfs file.
    File,
    /// `index=`: a page index in a tmpfs file.
    Index,
}

impl Arg {
    /// The name in scenario text.
    pub fn key(self) -> &'static str {
        match self {
            Arg::Dev => "dev",
            Arg::Pages => "pages",
            Arg::Huge => "huge",
            Arg::Mm => "mm",
            Arg::Pte => "pte",
            Arg::Offset => "offset",
            Arg::Write => "write",
            Arg::File => "file",
            Arg::Index => "index",
        }
    }

    /// A flag: written alone (`write`), a bool field (the byte's low bit).
    pub fn is_flag(self) -> bool {
        matches!(self, Arg::Huge | Arg::Write)
    }

    /// The values accepted in scenario text, inclusive.
    pub fn range(self) -> (u32, u32) {
        match self {
            Arg::Dev => (0, MAX_SWAPFILES as u32 - 1),
            Arg::Pages => (1, MMAP_MAX_PAGES as u32),
            Arg::File => (0, NR_FILES as u32 - 1),
            Arg::Index => (0, FILE_PAGES as u32 - 1),
            Arg::Mm | Arg::Pte | Arg::Offset => (0, u8::MAX as u32),
            Arg::Huge | Arg::Write => (0, 1),
        }
    }

    /// What scenario text writes for a field byte of 0: the field is `written - base`.
    pub fn base(self) -> u8 {
        u8::from(self == Arg::Pages)
    }

    /// The field byte in canonical form: reduced modulo what the runner takes it modulo
    /// (a device, a file, a page index, a page count), unchanged otherwise (objects that are
    /// counted when the operation runs).
    pub fn reduce(self, v: u8) -> u8 {
        match self {
            Arg::Dev => v % MAX_SWAPFILES as u8,
            Arg::Pages => v % MMAP_MAX_PAGES,
            Arg::File => v % NR_FILES as u8,
            Arg::Index => v % FILE_PAGES as u8,
            Arg::Huge | Arg::Write | Arg::Mm | Arg::Pte | Arg::Offset => v,
        }
    }

    /// What the argument means, for error messages.
    pub fn meaning(self) -> String {
        match self {
            Arg::Dev => format!("the swap device, by type; the model has {MAX_SWAPFILES}"),
            Arg::Pages => "small anon pages to map".into(),
            Arg::Huge => "one cluster-size large folio instead of small pages".into(),
            Arg::Mm => "the Nth live process in creation order, wrapping".into(),
            Arg::Pte => "the PTE index in that process, wrapping at its size".into(),
            Arg::Offset => "the Nth swap-cache folio of the device, wrapping".into(),
            Arg::Write => "a write fault instead of a read fault".into(),
            Arg::File => format!("the tmpfs file, the model has {NR_FILES}"),
            Arg::Index => format!("the page index in the file, {FILE_PAGES} pages each"),
        }
    }

    /// `dev=0..=1`, or `write` for a flag.
    pub fn usage(self) -> String {
        if self.is_flag() {
            return self.key().to_string();
        }
        let (lo, hi) = self.range();
        format!("{}={lo}..={hi}", self.key())
    }
}

/// One operation kind: a row of [`KINDS`].
pub struct Kind {
    /// The name in scenario text (`shmem-writepage`).
    pub name: &'static str,
    /// The kernel path the operation drives.
    pub kernel: &'static str,
    /// Its arguments: fields `a`, `b`, `c` in order.
    pub args: &'static [Arg],
    /// The arguments are alternatives (`mmap pages=N | mmap huge`): exactly one is given, and
    /// a flag that is set makes the other fields 0.
    pub alternatives: bool,
    /// Weight (of 256) of the kind among the byte codec's set-up operations.
    pub setup_weight: u16,
    /// Weight (of 256) of the kind among the byte codec's CPU operations.
    pub cpu_weight: u16,
}

impl Kind {
    /// `swapin mm=0..=255 pte=0..=255 [write]`.
    pub fn usage(&self) -> String {
        let mut s = self.name.to_string();
        for a in self.args {
            if self.alternatives && a.is_flag() {
                s.push_str(&format!(" | {} {}", self.name, a.key()));
            } else if a.is_flag() {
                s.push_str(&format!(" [{}]", a.key()));
            } else {
                s.push_str(&format!(" {}", a.usage()));
            }
        }
        s
    }

    /// The kind, with the kernel path it drives.
    const fn drives(self, kernel: &'static str) -> Kind {
        Kind { kernel, ..self }
    }

    /// The kind, with its arguments alternatives.
    const fn one_of_the_args(self) -> Kind {
        Kind {
            alternatives: true,
            ..self
        }
    }
}

/// A row of [`KINDS`]: the name, the arguments, the set-up and the CPU weight.
const fn kind(
    name: &'static str,
    args: &'static [Arg],
    setup_weight: u16,
    cpu_weight: u16,
) -> Kind {
    Kind {
        name,
        kernel: "",
        args,
        alternatives: false,
        setup_weight,
        cpu_weight,
    }
}

const fn flag(b: u8) -> bool {
    b & 1 == 1
}

/// Every operation kind, in [`Op`]'s declaration order (the kind numbers of the byte codec):
/// name, arguments, set-up weight, CPU weight, then the kernel path it drives.
///
/// The set-up weights favour `swapon` and what creates swap state (`shmem-write`,
/// `shmem-writepage`, `mmap`, `swapout`), the CPU weights `swapoff`, `shmem-truncate`, `exit`
/// (swarm-style, towards what the swap races need); every kind stays reachable from both.
pub const KINDS: [Kind; NR_KINDS] = [
    kind("swapon", &[], 34, 10).drives("swapon(): a new device in the first free swap_info[] slot"),
    kind("swapoff", &[Arg::Dev], 8, 34).drives("swapoff() → try_to_unuse()"),
    kind("mmap", &[Arg::Pages, Arg::Huge], 24, 8)
        .one_of_the_args()
        .drives("a new process with anon pages, or one cluster-size large folio"),
    kind("fork", &[Arg::Mm], 12, 12).drives("fork(): a child sharing every page and swap entry"),
    kind("swapout", &[Arg::Mm, Arg::Pte], 28, 20)
        .drives("reclaim swaps out a folio (it stays in the swap cache)"),
    kind("reclaim", &[Arg::Dev, Arg::Offset], 8, 16)
        .drives("reclaim drops a clean, unmapped swap-cache folio"),
    kind("swapin", &[Arg::Mm, Arg::Pte, Arg::Write], 12, 20)
        .drives("a page fault on a swap PTE: do_swap_page()"),
    kind("zap", &[Arg::Mm, Arg::Pte], 12, 18)
        .drives("madvise(MADV_DONTNEED) of one page: zap_pte_range()"),
    kind("exit", &[Arg::Mm], 8, 20)
        .drives("the process exits: exit_mmap() → zap_pte_range() for every PTE"),
    kind("shmem-write", &[Arg::File, Arg::Index], 32, 12)
        .drives("a write to a tmpfs file page (allocates it)"),
    kind("shmem-writepage", &[Arg::File, Arg::Index], 36, 14)
        .drives("reclaim writes a tmpfs page to swap: shmem_writepage()"),
    kind("shmem-truncate", &[Arg::File], 16, 26)
        .drives("truncate() of a tmpfs file to 0: shmem_undo_range()"),
    kind("mincore", &[Arg::File, Arg::Index], 4, 10)
        .drives("mincore() of a tmpfs file page: mincore_page() → filemap_get_incore_folio()"),
    kind("shmem-read", &[Arg::File, Arg::Index], 4, 10)
        .drives("a read() of a tmpfs file page: shmem_get_folio_gfp(SGP_READ), swap-in if swapped"),
    kind("willneed", &[Arg::Mm, Arg::Pte], 4, 8).drives(
        "madvise(MADV_WILLNEED) of an anon page: swapin_walk_pmd_entry() → read_swap_cache_async()",
    ),
    kind("swapon-sync", &[], 6, 2)
        .drives("swapon() of a synchronous-I/O (zram-like) device: SWP_SYNCHRONOUS_IO"),
    kind("read", &[Arg::Mm, Arg::Pte], 2, 6).drives(
        "a user load from an anon page (do_swap_page() if in swap): must see the last store",
    ),
    kind("write", &[Arg::Mm, Arg::Pte], 6, 10)
        .drives("a user store to an anon page: do_swap_page() if in swap, do_wp_page() if shared"),
];

/// The operation of kind `kind` (modulo [`NR_KINDS`]) with field bytes `a, b, c` (a flag is
/// the byte's low bit): the inverse of [`op_bytes`].
pub fn op_of(kind: u8, a: u8, b: u8, c: u8) -> Op {
    match kind as usize % NR_KINDS {
        0 => Op::Swapon,
        1 => Op::Swapoff { dev: a },
        2 => Op::Mmap {
            pages: a,
            huge: flag(b),
        },
        3 => Op::Fork { mm: a },
        4 => Op::SwapOut { mm: a, pte: b },
        5 => Op::Reclaim { dev: a, offset: b },
        6 => Op::SwapIn {
            mm: a,
            pte: b,
            write: flag(c),
        },
        7 => Op::Zap { mm: a, pte: b },
        8 => Op::Exit { mm: a },
        9 => Op::ShmemWrite { file: a, index: b },
        10 => Op::ShmemWritepage { file: a, index: b },
        11 => Op::ShmemTruncate { file: a },
        12 => Op::Mincore { file: a, index: b },
        13 => Op::ShmemRead { file: a, index: b },
        14 => Op::Willneed { mm: a, pte: b },
        15 => Op::SwaponSync,
        16 => Op::Read { mm: a, pte: b },
        17 => Op::Write { mm: a, pte: b },
        _ => unreachable!("a kind number modulo NR_KINDS"),
    }
}

/// The kind and field bytes of `op` (a flag is 0 or 1): the inverse of [`op_of`].
pub fn op_bytes(op: &Op) -> (u8, [u8; 3]) {
    match *op {
        Op::Swapon => (0, [0, 0, 0]),
        Op::Swapoff { dev } => (1, [dev, 0, 0]),
        Op::Mmap { pages, huge } => (2, [pages, huge.into(), 0]),
        Op::Fork { mm } => (3, [mm, 0, 0]),
        Op::SwapOut { mm, pte } => (4, [mm, pte, 0]),
        Op::Reclaim { dev, offset } => (5, [dev, offset, 0]),
        Op::SwapIn { mm, pte, write } => (6, [mm, pte, write.into()]),
        Op::Zap { mm, pte } => (7, [mm, pte, 0]),
        Op::Exit { mm } => (8, [mm, 0, 0]),
        Op::ShmemWrite { file, index } => (9, [file, index, 0]),
        Op::ShmemWritepage { file, index } => (10, [file, index, 0]),
        Op::ShmemTruncate { file } => (11, [file, 0, 0]),
        Op::Mincore { file, index } => (12, [file, index, 0]),
        Op::ShmemRead { file, index } => (13, [file, index, 0]),
        Op::Willneed { mm, pte } => (14, [mm, pte, 0]),
        Op::SwaponSync => (15, [0, 0, 0]),
        Op::Read { mm, pte } => (16, [mm, pte, 0]),
        Op::Write { mm, pte } => (17, [mm, pte, 0]),
    }
}

/// The names of every operation, in [`Op`]'s declaration order.
pub fn op_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

/// `op` in its canonical form: every field reduced ([`Arg::reduce`]), and of alternatives
/// with a flag set, the other fields 0 (`pages` of a huge `mmap`, which the runner ignores).
/// The runner runs both forms identically; scenario text writes only canonical operations.
pub fn normalize_op(op: &Op) -> Op {
    let (k, mut f) = op_bytes(op);
    let kind = &KINDS[k as usize];
    for (i, arg) in kind.args.iter().enumerate() {
        f[i] = arg.reduce(f[i]);
    }
    let flag_set = |f: &[u8; 3]| kind.args.iter().zip(f).any(|(a, &v)| a.is_flag() && v != 0);
    if kind.alternatives && flag_set(&f) {
        for (i, arg) in kind.args.iter().enumerate() {
            if !arg.is_flag() {
                f[i] = 0;
            }
        }
    }
    op_of(k, f[0], f[1], f[2])
}

//! What the model runs: an [`Op`] is one kernel path with its arguments, a [`Program`] the
//! set-up operations (run one after another on the set-up CPU), then each CPU's operation
//! list, all CPUs concurrently. Operations name objects by small numbers taken modulo what
//! exists when they run, so every program is valid. The sizes of the model's world that those
//! numbers wrap at are here too. The vocabulary around these types (names, codecs, limits of a
//! program, seeds) is the `program` layer above the model.

use arbitrary::Arbitrary;

/// Most processes (mms) a program creates.
pub const MAX_MMS: usize = 6;
/// shmem files every program has.
pub const NR_FILES: usize = 2;
/// Pages per shmem file.
pub const FILE_PAGES: usize = 4;

/// One operation: a system call or a kernel activity, named by what the kernel calls.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `swapon()` of a new device (the first free `swap_info[]` slot).
    Swapon,
    /// `swapoff()` of device `dev`.
    Swapoff {
        /// Device type.
        dev: u8,
    },
    /// A new process with `pages` anon pages (1–4), or one cluster-size large folio.
    Mmap {
        /// Pages mapped.
        pages: u8,
        /// One large (PMD-size) folio instead of small ones.
        huge: bool,
    },
    /// `fork()`: a child sharing every page and swap entry.
    Fork {
        /// Parent.
        mm: u8,
    },
    /// Reclaim swaps out the folio mapped at `pte` (it stays in the swap cache).
    SwapOut {
        /// Process.
        mm: u8,
        /// PTE index.
        pte: u8,
    },
    /// Reclaim drops the clean, unmapped swap-cache folio at a slot.
    Reclaim {
        /// Device type.
        dev: u8,
        /// Slot offset.
        offset: u8,
    },
    /// A page fault on a swap PTE (`do_swap_page()`).
    SwapIn {
        /// Process.
        mm: u8,
        /// PTE index.
        pte: u8,
        /// A write fault (frees the swap cache).
        write: bool,
    },
    /// `madvise(MADV_DONTNEED)` of one page: `zap_pte_range()` in a live process.
    Zap {
        /// Process.
        mm: u8,
        /// PTE index.
        pte: u8,
    },
    /// The process exits: `exit_mmap()` → `zap_pte_range()` for every PTE.
    Exit {
        /// Process.
        mm: u8,
    },
    /// A write to a tmpfs file page (allocates it).
    ShmemWrite {
        /// File.
        file: u8,
        /// Page index.
        index: u8,
    },
    /// Reclaim writes a tmpfs page to swap (`shmem_writepage()`).
    ShmemWritepage {
        /// File.
        file: u8,
        /// Page index.
        index: u8,
    },
    /// `truncate()` of a tmpfs file to 0 (`shmem_undo_range()`).
    ShmemTruncate {
        /// File.
        file: u8,
    },
    /// `mincore()` of a tmpfs file page through a mapping with no page table
    /// (`mincore_page()` → `filemap_get_incore_folio()`).
    Mincore {
        /// File.
        file: u8,
        /// Page index.
        index: u8,
    },
    /// A `read()` of a tmpfs file page (`shmem_file_read_iter()` → `shmem_get_folio_gfp()` with
    /// `SGP_READ`): swaps the page in if it is in swap; a hole allocates nothing.
    ShmemRead {
        /// File.
        file: u8,
        /// Page index.
        index: u8,
    },
    /// `madvise(MADV_WILLNEED)` of one anonymous page (`swapin_walk_pmd_entry()` →
    /// `read_swap_cache_async()`): starts the swap-in of a page in swap; the PTE keeps the
    /// swap entry.
    Willneed {
        /// Process.
        mm: u8,
        /// PTE index.
        pte: u8,
    },
    /// `swapon()` of a new synchronous-I/O device (zram-like, `SWP_SYNCHRONOUS_IO`), whose
    /// swap-ins of pages with one reference skip the swap cache.
    SwaponSync,
    /// A user load from an anonymous page (a read fault first if it is in swap): it must see
    /// what the process last stored there (invariant D1).
    Read {
        /// Process.
        mm: u8,
        /// PTE index.
        pte: u8,
    },
    /// A user store of fresh contents to an anonymous page (a write fault first if it is in
    /// swap; a copy first if the page may be shared).
    Write {
        /// Process.
        mm: u8,
        /// PTE index.
        pte: u8,
    },
}

/// A whole program: the set-up, then what each CPU runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Program {
    /// Run first, sequentially, before any CPU starts.
    pub setup: Vec<Op>,
    /// One operation list per CPU (2–4 CPUs).
    pub cpus: Vec<Vec<Op>>,
}

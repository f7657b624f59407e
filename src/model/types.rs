//! Kernel data types and constants of the swap code (include/linux/swap.h, v6.8), at the sizes
//! the model uses.

pub use super::handle::{FolioId, InodeId, MmId, SwapType, Table};
use super::kernel::kasan::BadAccess;

/// `SWAP_MAP_MAX`: the largest count kept in the map byte itself.
pub const SWAP_MAP_MAX: u8 = 0x3e;
/// `SWAP_MAP_BAD`: a bad slot (the header page).
pub const SWAP_MAP_BAD: u8 = 0x3f;
/// `SWAP_HAS_CACHE`: the slot is pinned by the swap cache or a slots cache.
pub const SWAP_HAS_CACHE: u8 = 0x40;
/// `COUNT_CONTINUED`: higher digits in continuation pages (never reached: counts stay small).
pub const COUNT_CONTINUED: u8 = 0x80;
/// `SWAP_MAP_SHMEM`: the slot is owned by one shmem/tmpfs xarray slot.
pub const SWAP_MAP_SHMEM: u8 = 0xbf;

/// `SWP_USED`: the `swap_info[]` slot is in use.
pub const SWP_USED: u32 = 1 << 0;
/// `SWP_WRITEOK`: allocation from the device is allowed.
pub const SWP_WRITEOK: u32 = 1 << 1;
/// `SWP_SYNCHRONOUS_IO`: synchronous I/O is efficient (zram, brd, pmem: `bdev_synchronous()`);
/// `do_swap_page()` then reads a page with a count of 1 directly, skipping the swap cache.
pub const SWP_SYNCHRONOUS_IO: u32 = 1 << 12;

/// `SWAPFILE_CLUSTER`: 512 in the kernel (HPAGE_PMD_NR); small here so that a "2 MiB" folio is 4
/// pages and exhaustive search stays cheap.
pub const SWAPFILE_CLUSTER: u32 = 4;
/// Slots per device: 3 clusters; offset 0 is the header page (SWAP_MAP_BAD).
pub const SWAP_DEVICE_PAGES: u32 = 3 * SWAPFILE_CLUSTER;
/// `MAX_SWAPFILES`, reduced to two devices.
pub const MAX_SWAPFILES: usize = 2;
/// `SWAP_SLOTS_CACHE_SIZE`, reduced: a per-CPU return batch of two entries.
pub const SWAP_SLOTS_CACHE_SIZE: usize = 2;

/// `CLUSTER_FLAG_FREE`.
pub const CLUSTER_FLAG_FREE: u8 = 1;
/// `CLUSTER_FLAG_HUGE`: the cluster backs one PMD-size (here cluster-size) folio.
pub const CLUSTER_FLAG_HUGE: u8 = 4;

/// `TTRS_ANYWAY` flag of `__try_to_reclaim_swap()`.
pub const TTRS_ANYWAY: u32 = 0x1;
/// `TTRS_UNMAPPED`.
pub const TTRS_UNMAPPED: u32 = 0x2;
/// `TTRS_FULL`.
pub const TTRS_FULL: u32 = 0x4;

/// `swp_entry_t`: a device type and an offset. `val == 0` is type 0 offset 0 (never valid).
#[doc(alias = "swp_entry_t")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SwpEntry {
    /// `swp_type(entry)`.
    pub type_: SwapType,
    /// `swp_offset(entry)`.
    pub offset: u32,
}

impl SwpEntry {
    /// `swp_entry(type, offset)`.
    pub fn new(type_: SwapType, offset: u32) -> Self {
        SwpEntry { type_, offset }
    }
    /// `entry.val == 0`.
    pub fn is_null(self) -> bool {
        self.type_ == SwapType(0) && self.offset == 0
    }
}

impl std::fmt::Display for SwpEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "swp({},{})", self.type_, self.offset)
    }
}

/// `swap_count()`: the map byte without the cache flag.
pub fn swap_count(ent: u8) -> u8 {
    ent & !SWAP_HAS_CACHE
}

/// `struct swap_cluster_info` (lock in [`super::kernel::lock::LockId::Cluster`]).
#[doc(alias = "swap_cluster_info")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SwapClusterInfo {
    /// `data`: used-slot count.
    pub count: u32,
    /// `flags`.
    pub flags: u8,
}

/// The contents of a KASAN-tracked allocation.
#[derive(Debug, Clone, Hash)]
pub enum Object {
    /// `si->swap_map` (vzalloc'd bytes).
    SwapMap(Vec<u8>),
    /// `si->cluster_info` (kvcalloc'd).
    ClusterInfo(Vec<SwapClusterInfo>),
    /// `swapper_spaces[type]`: the swap cache, folio per offset (one address_space per device).
    SwapSpace(Vec<Option<FolioId>>),
}

/// `struct swap_info_struct`, the fields the race depends on.
#[doc(alias = "swap_info_struct")]
#[derive(Debug, Clone, Default, Hash)]
pub struct SwapInfoStruct {
    /// `type`: index in `swap_info[]`.
    pub type_: SwapType,
    /// `flags` (`SWP_USED`, `SWP_WRITEOK`, `SWP_SYNCHRONOUS_IO`).
    pub flags: u32,
    /// `max`: length of `swap_map`.
    pub max: u32,
    /// `pages`: usable slots.
    pub pages: u32,
    /// `inuse_pages`.
    pub inuse_pages: u32,
    /// `swap_map` pointer (KASAN allocation), NULL when off.
    pub swap_map: Option<usize>,
    /// `cluster_info` pointer (KASAN allocation), NULL when off.
    pub cluster_info: Option<usize>,
    /// `users`.
    pub users: super::kernel::percpu_ref::PercpuRef,
    /// `comp`.
    pub comp: super::kernel::percpu_ref::Completion,
    /// Not a kernel field: the device's storage, the page contents per slot ([`PageData`]),
    /// written by `pageout()` and read by `swap_read_folio()`; a zram-like
    /// (`SWP_SYNCHRONOUS_IO`) device discards a slot when it is freed ([`ZEROED`]).
    pub slot_data: Vec<PageData>,
}

/// The contents of a page, as the content oracle (invariant D1) tracks them: one value for the
/// whole page ([`store`] folds each user store into it).
pub type PageData = u32;

/// The contents of a page after a user store of the fresh value `v` to a page holding `old`: a
/// store changes a few bytes and keeps the rest, so the result depends on both (a store to a
/// stale page leaves it stale). Deterministic: the same store to equal pages gives equal pages.
pub fn store(old: PageData, v: PageData) -> PageData {
    old.rotate_left(7) ^ v.wrapping_mul(0x9e37_79b9)
}

/// What a discarded zram slot reads as (`zram_slot_free_notify()`: the slot is freed and reads
/// back zeroes); no user write stores it.
pub const ZEROED: PageData = 0;

/// A page-table entry, as far as the model cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Pte {
    /// `pte_none()`.
    #[default]
    None,
    /// Present, mapping a folio.
    Present(FolioId),
    /// A swap entry (`is_swap_pte()`).
    Swap(SwpEntry),
}

impl std::fmt::Display for Pte {
    /// As a state dump shows it: `-`, `folioN` or the swap entry.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pte::None => f.write_str("-"),
            Pte::Present(folio) => write!(f, "folio{folio}"),
            Pte::Swap(e) => e.fmt(f),
        }
    }
}

/// `struct mm_struct` with one page table (its PTL is [`super::kernel::lock::LockId::Ptl`]).
#[derive(Debug, Clone, Default, Hash)]
pub struct Mm {
    /// `mm_users`: 0 once the process exits (`mmget_not_zero()` fails).
    pub mm_users: u32,
    /// The process still runs (it has not exited).
    pub alive: bool,
    /// The PTEs.
    pub ptes: Vec<Pte>,
    /// On `init_mm.mmlist` (it has used swap).
    pub on_mmlist: bool,
}

/// A slot of a shmem inode's `i_pages` xarray.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum ShmemSlot {
    /// Empty.
    #[default]
    None,
    /// A page-cache folio.
    Folio(FolioId),
    /// A swap value entry (`swp_to_radix_entry()`).
    Swap(SwpEntry),
}

impl std::fmt::Display for ShmemSlot {
    /// As a PTE holding the same shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let as_pte = match *self {
            ShmemSlot::None => Pte::None,
            ShmemSlot::Folio(folio) => Pte::Present(folio),
            ShmemSlot::Swap(e) => Pte::Swap(e),
        };
        as_pte.fmt(f)
    }
}

/// `struct shmem_inode_info` plus its mapping.
#[derive(Debug, Clone, Default, Hash)]
pub struct ShmemInode {
    /// `mapping->i_pages`.
    pub i_pages: Vec<ShmemSlot>,
    /// `info->swapped`.
    pub swapped: u32,
    /// On `shmem_swaplist`.
    pub on_swaplist: bool,
    /// `info->stop_eviction`.
    pub stop_eviction: u32,
}

/// `struct folio`, the fields the swap code uses.
#[derive(Debug, Clone, Default, Hash)]
pub struct Folio {
    /// `folio_nr_pages()`: 1 or `SWAPFILE_CLUSTER`.
    pub nr: u32,
    /// `PG_swapcache`.
    pub swapcache: bool,
    /// `folio->swap` (first entry), valid while `swapcache`.
    pub swap: SwpEntry,
    /// Number of present PTEs mapping it (`folio_mapped()` iff > 0).
    pub mapcount: u32,
    /// In a shmem page cache at (inode, index).
    pub shmem: Option<(InodeId, usize)>,
    /// `PG_dirty`.
    pub dirty: bool,
    /// Not a kernel field: the contents of each page of the folio (one for a small folio).
    pub data: [PageData; SWAPFILE_CLUSTER as usize],
}

/// The page of a folio of `nr` pages that PTE `idx` maps: a large folio is mapped by the PTEs of
/// one aligned cluster-size range (`mmap huge`), page `idx % nr`; a small folio has page 0.
pub fn folio_page_index(nr: u32, idx: usize) -> usize {
    if nr > 1 { idx % nr as usize } else { 0 }
}

/// A bad memory access, as KASAN or the page-fault handler reports it.
#[derive(Debug, Clone, Hash)]
pub struct Fault {
    /// What KASAN saw.
    pub bad: BadAccess,
    /// The kernel expression accessed, e.g. `si->swap_map[offset]`.
    pub expr: &'static str,
}

//! The kernel's delay points (kernel/6.1/0002, kernel/6.12/0002 and 0003) and the model
//! positions ([`Position`]) each stands for.
//!
//! A delay point is a busy-wait in the victim's kernel path that stands for a preemption there;
//! it matches a model preemption when nothing another CPU can see happens between the two
//! places. Each row says where the kernel waits, which kernels have it, and the model position.

use super::position::Position;

/// What the test checks from the kernel at a delay point (what the hook recorded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// On the free path: `swap_map[offset]` before `__swap_entry_free()` and the count it
    /// returned.
    FreePath,
    /// On a swap-in path: `swap_map[offset]` at the point.
    MapByte,
}

/// One delay point of the kernel patches.
#[derive(Debug)]
pub struct DelayPoint {
    /// Its number: `sf.point=N`, debugfs `point`.
    pub n: u8,
    /// Where the kernel waits.
    pub kernel: &'static str,
    /// The kernels whose patches have it.
    pub kernels: &'static [&'static str],
    /// A model function that must be on the preempted CPU's stack.
    pub within: &'static str,
    /// The model positions: the last event (function, returned) and the points after it.
    pub model: &'static [(&'static str, bool, u32)],
    /// What the hook records for the test's state check.
    pub recorded: Recorded,
}

/// Every delay point.
pub const POINTS: [DelayPoint; 5] = [
    DelayPoint {
        n: 1,
        kernel: "free_swap_and_cache() (6.12: free_swap_and_cache_nr()), right after \
                 __swap_entry_free() returned",
        kernels: &["6.1", "6.12"],
        within: "free_swap_and_cache",
        model: &[
            ("swap_page_trans_huge_swapped", false, 0),
            ("__swap_entry_free", true, 0),
        ],
        recorded: Recorded::FreePath,
    },
    DelayPoint {
        n: 2,
        kernel: "swap_page_trans_huge_swapped(), after `map = si->swap_map`, before it is \
                 dereferenced (6.12's free path does not call it)",
        kernels: &["6.1"],
        within: "free_swap_and_cache",
        model: &[("swap_page_trans_huge_swapped", false, 1)],
        recorded: Recorded::FreePath,
    },
    DelayPoint {
        n: 3,
        kernel: "__try_to_reclaim_swap(), before swap_address_space(entry) is evaluated for \
                 filemap_get_folio()",
        kernels: &["6.1", "6.12"],
        within: "__try_to_reclaim_swap",
        model: &[
            ("filemap_get_folio", false, 0),
            ("__try_to_reclaim_swap", false, 0),
            ("swap_page_trans_huge_swapped", true, 0),
        ],
        recorded: Recorded::FreePath,
    },
    DelayPoint {
        n: 4,
        kernel: "do_swap_page(), after the si->flags (SWP_SYNCHRONOUS_IO) read, before \
                 __swap_count() (with swapfuzz.variant=revert-2799e77529c2; 6.1's \
                 __swap_count() takes a device reference of its own, v6.8's does not)",
        kernels: &["6.1", "6.12"],
        within: "do_swap_page",
        model: &[("__swap_count", false, 0)],
        recorded: Recorded::MapByte,
    },
    DelayPoint {
        n: 5,
        kernel: "__try_to_reclaim_swap(), after `address_space = swap_address_space(entry)` \
                 loaded swapper_spaces[type], before filemap_get_folio() reads its i_pages",
        kernels: &["6.1", "6.12"],
        within: "__try_to_reclaim_swap",
        model: &[("filemap_get_folio", false, 1)],
        recorded: Recorded::FreePath,
    },
];

/// The delay point that stands for the model preemption `p`, if any.
pub fn point_for(p: &Position) -> Option<&'static DelayPoint> {
    POINTS.iter().find(|d| {
        p.stack.contains(&d.within)
            && d.model
                .iter()
                .any(|&(f, ret, extra)| p.last == (f, ret) && p.extra == extra)
    })
}

/// The delay point numbered `n`.
pub fn by_number(n: u8) -> Option<&'static DelayPoint> {
    POINTS.iter().find(|d| d.n == n)
}

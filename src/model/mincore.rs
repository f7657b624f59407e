//! mm/mincore.c (v6.8): the `mincore()` system call on a page of a tmpfs file mapped where no
//! page table exists yet, so the page walk calls its `pte_hole` callback,
//! `mincore_unmapped_range()`, and `mincore_page()` asks the file's mapping: the page cache, or
//! for a swapped-out tmpfs page the swap cache (`filemap_get_incore_folio()`, mm/swap_state.c).
//! No page table lock is held on this path, and no RCU section but `filemap_get_entry()`'s.

use super::context::Kernel;
use super::swap_state::filemap_get_incore_folio;
use super::types::*;

/// mm/mincore.c: SYSCALL_DEFINE3(mincore), v6.8, for one page: `mmap_read_lock()`,
/// `do_mincore()`, `mmap_read_unlock()`. Returns the byte `mincore()` reports for the page.
/// Simplified: the argument checks, the bounce page and `copy_to_user()` are left out, and so
/// is the mmap lock (nothing in the model takes it for writing).
pub fn mincore(k: &Kernel, inode: InodeId, index: usize) -> u8 {
    let _f = k.enter("mincore");
    do_mincore(k, inode, index)
}

/// mm/mincore.c: do_mincore(), v6.8: `walk_page_range()` with `mincore_walk_ops` over a shared
/// mapping of the tmpfs file at page offset `index` whose page table was never populated, so the
/// walk calls `mincore_unmapped_range()` for the page. Simplified: `vma_lookup()` and
/// `can_do_mincore()` (the caller may write the file) are left out: the operation names the
/// file page directly.
pub fn do_mincore(k: &Kernel, inode: InodeId, index: usize) -> u8 {
    let _f = k.enter("do_mincore");
    let mut vec = [0u8; 1];
    mincore_unmapped_range(k, inode, index, &mut vec);
    vec[0]
}

/// mm/mincore.c: mincore_unmapped_range(), v6.8: the `pte_hole` callback, no lock held.
pub fn mincore_unmapped_range(k: &Kernel, inode: InodeId, index: usize, vec: &mut [u8]) {
    let _f = k.enter("mincore_unmapped_range");
    __mincore_unmapped_range(k, inode, index, vec);
}

/// mm/mincore.c: __mincore_unmapped_range(), v6.8: `vma->vm_file` is set, so each page is
/// `mincore_page(vma->vm_file->f_mapping, pgoff)`. Returns the pages done. Simplified: one page,
/// at `pgoff = index` (`linear_page_index()` of a mapping at offset 0).
pub fn __mincore_unmapped_range(k: &Kernel, inode: InodeId, index: usize, vec: &mut [u8]) -> usize {
    let _f = k.enter("__mincore_unmapped_range");
    vec[0] = mincore_page(k, inode, index);
    1
}

/// mm/mincore.c: mincore_page(), v6.8: `filemap_get_incore_folio()`, then
/// `folio_test_uptodate()` and `folio_put()`. Simplified: every folio the model finds is
/// uptodate (its I/O completes at once) and folio references are not counted (folios are never
/// freed), so a folio found is 1.
pub fn mincore_page(k: &Kernel, mapping: InodeId, index: usize) -> u8 {
    let _f = k.enter("mincore_page");
    match filemap_get_incore_folio(k, mapping, index) {
        Some(folio) => {
            k.note(|_| format!("/* folio{folio} is in core */"));
            1
        }
        None => 0,
    }
}

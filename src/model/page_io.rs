//! mm/page_io.c (v6.8): reading a page from swap. The devices of the model are block devices
//! whose I/O completes at once; zswap, `SWP_FS_OPS` swap files and the block device itself are
//! not model objects, so the read touches no device memory the model tracks.

use super::context::Kernel;
use super::types::*;

/// mm/page_io.c: swap_read_folio(), v6.8: `sis = swp_swap_info(folio->swap)` (no step:
/// `swap_info[]` is never freed), then `zswap_load()` (no zswap in the model), the
/// `SWP_FS_OPS` branch (no swap files), or the block device read, synchronous
/// (`swap_read_folio_bdev_sync()`: `submit_bio_wait()`) for `synchronous` or an
/// `SWP_SYNCHRONOUS_IO` device. Simplified: the I/O completes at once and page contents are not
/// modelled, so `folio_mark_uptodate()` and the end-of-I/O `folio_unlock()` are left out (the
/// callers' folios are not locked in the model until they call `folio_lock()`).
pub fn swap_read_folio(k: &Kernel, folio: FolioId, synchronous: bool) {
    let _f = k.enter("swap_read_folio");
    let _ = synchronous;
    k.note(|w| format!("/* folio{folio} read from {} */", w.folios[folio].swap));
}

//! mm/page_io.c (v6.8): reading a page from swap. The devices of the model are block devices
//! whose I/O completes at once; zswap, `SWP_FS_OPS` swap files and the block device itself are
//! not model objects, so the read touches no device memory the model tracks (KASAN); it copies
//! the slot's contents ([`SwapInfoStruct::slot_data`]) into the folio.

use super::context::{Kernel, Touch};
use super::types::*;

/// mm/page_io.c: swap_read_folio(), v6.8: `sis = swp_swap_info(folio->swap)` (no step:
/// `swap_info[]` is never freed), then `zswap_load()` (no zswap in the model), the
/// `SWP_FS_OPS` branch (no swap files), or the block device read, synchronous
/// (`swap_read_folio_bdev_sync()`: `submit_bio_wait()`) for `synchronous` or an
/// `SWP_SYNCHRONOUS_IO` device: the slot's contents are copied into the folio, one step (the
/// device's storage is shared: another CPU's `pageout()` or a zram discard may write the slot
/// when nothing pins it). Simplified: the I/O completes at once, so `folio_mark_uptodate()` and
/// the end-of-I/O `folio_unlock()` are left out (the callers' folios are not locked in the model
/// until they call `folio_lock()`).
pub fn swap_read_folio(k: &Kernel, folio: FolioId, synchronous: bool) {
    let _f = k.enter("swap_read_folio");
    let _ = synchronous;
    let data = k.with_footprint(|w, fp| {
        // Reads `slot_data`, which only undeclared steps write.
        fp.write(Touch::Folio(folio));
        fp.read(Touch::SiSlot(w.folios[folio].swap.type_));
        let swap = w.folios[folio].swap;
        let data = w.swap_info[swap.type_].slot_data[swap.offset as usize];
        w.folios[folio].data[0] = data;
        data
    });
    k.note(|w| {
        format!(
            "/* folio{folio} read from {}: {data:#x} */",
            w.folios[folio].swap
        )
    });
}

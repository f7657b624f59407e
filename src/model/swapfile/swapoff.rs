//! mm/swapfile.c (v6.8): `swapoff()` in the exact order of its 15 steps (numbered as in
//! docs/model.md#swapoff-steps), and `swapon()` (alloc_swap_info(), setup, enable_swap_info()).

use super::unuse::{EINVAL, try_to_unuse};
use super::*;
use crate::model::kernel::percpu_ref::{Completion, PercpuRef};

/// SYSCALL_DEFINE1(swapoff), v6.8, for `swap_info[type_]`. Returns 0 or a negative errno.
pub fn swapoff(k: &Kernel, type_: SwapType) -> i32 {
    let _f = k.enter("swapoff");
    let cpu = k.cpu;
    // 2. find the victim among the active devices.
    k.spin_lock(LockId::SwapLock);
    let found = k.with_footprint(|w, fp| {
        fp.read(Touch::SiSlot(type_));
        fp.read(Touch::SiWriteok(type_));
        w.swap_info
            .get(type_)
            .is_some_and(|p| p.flags & SWP_WRITEOK != 0)
    });
    if !found {
        k.spin_unlock(LockId::SwapLock);
        return -EINVAL;
    }
    let p = type_;
    k.with_no_point_footprint(|w, fp| {
        fp.read(Touch::SiSlot(p));
        fp.write(Touch::SiGen(cpu));
        w.ghost.obtain_si(cpu, p)
    });
    // 3. no new allocations from here on.
    k.spin_lock(LockId::SiLock(p));
    k.with_footprint(|w, fp| {
        fp.write(Touch::SiWriteok(p));
        w.swap_info[p].flags &= !SWP_WRITEOK
    });
    k.spin_unlock(LockId::SiLock(p));
    k.spin_unlock(LockId::SwapLock);
    // 4. drain and disable the slots caches.
    crate::model::swap_slots::disable_swap_slots_cache_lock(k);
    // 5. bring everything back in.
    let err = try_to_unuse(k, p);
    if err != 0 {
        // 6. reinsert_swap_info(): nothing was freed.
        k.spin_lock(LockId::SwapLock);
        k.spin_lock(LockId::SiLock(p));
        k.with(|w| w.swap_info[p].flags |= SWP_WRITEOK);
        k.spin_unlock(LockId::SiLock(p));
        k.spin_unlock(LockId::SwapLock);
        crate::model::swap_slots::reenable_swap_slots_cache_unlock(k);
        k.note(|_| format!("/* swapoff fails: {err} */"));
        return err;
    }
    // 7.
    crate::model::swap_slots::reenable_swap_slots_cache_unlock(k);
    // 8. wait for get/put_swap_device() users and RCU readers.
    k.with_footprint(|w, fp| {
        // A kill that drops the last reference completes `p->comp` and wakes its waiter (a
        // wake-up makes the step unknown).
        fp.write(Touch::SiUsers(p));
        fp.wake_reads(WaitFor::Completion(p));
        percpu_ref_kill(w, cpu, p)
    });
    k.note(|_| "/* percpu_ref_kill(&p->users) */".into());
    k.synchronize_rcu();
    wait_for_completion(k, p);
    // 9. discard work, extents, continuations: not modelled.
    // 10.
    k.mutex_lock(LockId::SwaponMutex);
    k.spin_lock(LockId::SwapLock);
    k.spin_lock(LockId::SiLock(p));
    drain_mmlist(k);
    // 11. SWP_SCANNING: the model's allocator holds si->lock throughout its scan.
    // 12. detach the memory.
    let (swap_map, cluster_info) = k.with_footprint(|w, fp| {
        fp.write(Touch::SiMap(p));
        let s = &mut w.swap_info[p];
        s.max = 0;
        (s.swap_map.take(), s.cluster_info.take())
    });
    k.spin_unlock(LockId::SiLock(p));
    k.spin_unlock(LockId::SwapLock);
    // 13. free it.
    k.mutex_unlock(LockId::SwaponMutex);
    k.with_footprint(|w, fp| {
        let by = w.origin(cpu);
        for ptr in [swap_map, cluster_info].into_iter().flatten() {
            fp.write(Touch::Alloc(ptr));
            let _ = w.heap.free(ptr, by.clone());
        }
    });
    k.note(|_| "/* free si->swap_map[] */".into());
    crate::model::swap_state::exit_swap_address_space(k, p);
    // 15. the swap_info[] slot may be reused.
    // O1 is checked in the same swap_lock section: right after it a swapon may reuse the slot.
    k.spin_lock(LockId::SwapLock);
    k.with_footprint(|w, fp| {
        fp.write(Touch::SiFlags(p));
        fp.write(Touch::SiWriteok(p));
        crate::model::invariants::o1_reads(w, fp, p);
        w.swap_info[p].flags = 0;
        crate::model::invariants::check_swapoff_done(w, cpu, p);
    });
    k.spin_unlock(LockId::SwapLock);
    0
}

/// mm/swapfile.c: drain_mmlist(), v6.8: once no device has pages in use, empty `init_mm.mmlist`.
pub fn drain_mmlist(k: &Kernel) {
    k.with_footprint(|w, fp| {
        for t in 0..MAX_SWAPFILES {
            fp.read(Touch::SiSlot(SwapType(t)));
            fp.read(Touch::Inuse(SwapType(t)));
        }
        fp.write(Touch::Mmlist);
        for &mm in &w.mmlist {
            fp.write(Touch::OnMmlist(mm));
        }
        if w.swap_info.iter().all(|s| s.inuse_pages == 0) {
            for mm in std::mem::take(&mut w.mmlist) {
                w.mms[mm].on_mmlist = false;
            }
        }
    });
}

/// SYSCALL_DEFINE2(swapon), v6.8, reduced to what swapoff undoes: a device of
/// `SWAP_DEVICE_PAGES` slots with `cluster_info` (an SSD), in the first free `swap_info[]` slot;
/// `synchronous` is `bdev_synchronous(p->bdev)` (a zram-like device: `SWP_SYNCHRONOUS_IO`).
/// Returns the type, or a negative errno when every slot is in use.
pub fn swapon(k: &Kernel, synchronous: bool) -> Result<SwapType, i32> {
    let _f = k.enter("swapon");
    let cpu = k.cpu;
    // alloc_swap_info(): the first !SWP_USED slot, reused if it exists.
    k.spin_lock(LockId::SwapLock);
    let p = k.with(|w| {
        let p = match w.swap_info.position(|s| s.flags & SWP_USED == 0) {
            Some(p) => p,
            None if w.swap_info.len() < MAX_SWAPFILES => w.swap_info.push(SwapInfoStruct {
                type_: w.swap_info.next_id(),
                users: PercpuRef::init_dead(),
                ..Default::default()
            }),
            None => return None,
        };
        let s = &mut w.swap_info[p];
        s.flags = SWP_USED;
        s.comp = Completion::default(); // init_completion()
        Some(p)
    });
    k.spin_unlock(LockId::SwapLock);
    let Some(p) = p else {
        return Err(-EPERM);
    };
    // p->flags |= SWP_SYNCHRONOUS_IO if bdev_synchronous(p->bdev): v6.8 sets it without a lock
    // between vzalloc() of the map and the cluster allocation (one step below, in the model); a
    // stale reader of this swap_info[] slot can read it.
    if synchronous {
        k.with(|w| w.swap_info[p].flags |= SWP_SYNCHRONOUS_IO);
    }
    // vzalloc() the map, kvcalloc() the clusters, setup_swap_map_and_extents(),
    // init_swap_address_space().
    let max = SWAP_DEVICE_PAGES;
    let (swap_map, cluster_info) = k.with(|w| {
        let by = w.origin(cpu);
        let generation = w.ghost.generation[p] + 1;
        let mut map = vec![0u8; max as usize];
        map[0] = SWAP_MAP_BAD; // the header page
        let mut ci = vec![
            SwapClusterInfo {
                count: 0,
                flags: CLUSTER_FLAG_FREE
            };
            (max / SWAPFILE_CLUSTER) as usize
        ];
        ci[0] = SwapClusterInfo { count: 1, flags: 0 }; // inc_cluster_info_page() for the header
        let m = w.heap.alloc(
            "si->swap_map",
            max as usize,
            Object::SwapMap(map),
            by.clone(),
        );
        let c = w.heap.alloc(
            "si->cluster_info",
            8 * ci.len(),
            Object::ClusterInfo(ci),
            by.clone(),
        );
        let s = w.heap.alloc(
            "swapper_spaces[type]",
            8 * max as usize,
            Object::SwapSpace(vec![None; max as usize]),
            by,
        );
        w.ghost
            .alloc_owner
            .extend([(p, generation), (p, generation), (p, generation)]);
        w.swapper_spaces[p] = Some(s);
        (m, c)
    });
    k.mutex_lock(LockId::SwaponMutex);
    enable_swap_info(k, p, max, swap_map, cluster_info);
    k.mutex_unlock(LockId::SwaponMutex);
    crate::model::swap_slots::enable_swap_slots_cache(k, !synchronous);
    k.note(|_| format!("/* swapon: swap_info[{p}] */"));
    Ok(p)
}

/// `-EPERM` (too many swap files).
pub const EPERM: i32 = 1;

/// mm/swapfile.c: enable_swap_info(), v6.8: publish the maps (setup_swap_info()), resurrect
/// `si->users`, then allow allocation (`SWP_WRITEOK`).
pub fn enable_swap_info(k: &Kernel, p: SwapType, max: u32, swap_map: usize, cluster_info: usize) {
    let _f = k.enter("enable_swap_info");
    let cpu = k.cpu;
    k.spin_lock(LockId::SwapLock);
    k.spin_lock(LockId::SiLock(p));
    k.with(|w| {
        let s = &mut w.swap_info[p];
        s.swap_map = Some(swap_map);
        s.cluster_info = Some(cluster_info);
        s.max = max;
        s.pages = max - 1;
        s.inuse_pages = 0;
        s.slot_data = vec![ZEROED; max as usize]; // a new (or reset zram) device reads zeroes
        w.ghost.generation[p] += 1;
        w.ghost.obtain_si(cpu, p);
    });
    k.spin_unlock(LockId::SiLock(p));
    k.spin_unlock(LockId::SwapLock);
    k.with(|w| percpu_ref_resurrect(w, cpu, p));
    k.spin_lock(LockId::SwapLock);
    k.spin_lock(LockId::SiLock(p));
    k.with(|w| w.swap_info[p].flags |= SWP_WRITEOK);
    k.spin_unlock(LockId::SiLock(p));
    k.spin_unlock(LockId::SwapLock);
}

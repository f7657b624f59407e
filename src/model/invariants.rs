//! The invariants of docs/model.md#invariants that the model checks: S1 is KASAN itself
//! ([`super::context::access`]); S3 at every access; C3 at every `si->lock` release; C4 and R1
//! where counts move; O1 when swapoff returns; C1, C2, C3 and L2 at the end of every run; D1 at
//! every user read (`read`) and, for every present PTE, at the end of every run.

use super::context::{Footprint, Touch};
use super::handle::SwapType;
use super::kernel::Cpu;
use super::types::*;
use super::world::{BugKind, World};
use std::fmt::Write;

/// Stops the run: invariant `id` failed on `cpu` (None: at an end-of-run check).
pub fn violated(w: &mut World, cpu: Option<Cpu>, id: &'static str, detail: String) {
    w.report(cpu, BugKind::Invariant { id, detail });
}

/// S3 (generation): a CPU that obtained `si` of generation g never touches memory of another
/// generation of the same type (swapoff+swapon ABA).
pub fn check_generation(w: &mut World, cpu: Cpu, ptr: usize) {
    let Some(&(t, generation)) = w.ghost.alloc_owner.get(ptr) else {
        return;
    };
    if let Some((ct, cur_gen)) = w.ghost.si_gen[cpu]
        && ct == t
        && cur_gen != generation
    {
        violated(
            w,
            Some(cpu),
            "S3",
            format!(
                "CPU{cpu} obtained swap_info[{t}] generation {cur_gen} but touches generation {generation}"
            ),
        );
    }
}

fn map_of(w: &World, t: SwapType) -> Option<&Vec<u8>> {
    let p = w.swap_info[t].swap_map?;
    match &w.heap.get(p).data {
        Object::SwapMap(m) => Some(m),
        _ => None,
    }
}

/// C3 (checked whenever `si->lock` is released): `inuse_pages` counts the slots in use.
pub fn check_inuse_pages(w: &mut World, cpu: Cpu, t: SwapType) {
    let Some(m) = map_of(w, t) else { return };
    let used = m.iter().filter(|&&b| b != 0 && b != SWAP_MAP_BAD).count() as u32;
    let inuse = w.swap_info[t].inuse_pages;
    if used != inuse {
        violated(
            w,
            Some(cpu),
            "C3",
            format!("swap_info[{t}]: inuse_pages = {inuse} but {used} slots in use"),
        );
    }
}

/// What [`check_swapoff_done`] (O1) reads, declared on a step's footprint: every PTE and
/// whether it is being zapped, every tmpfs slot, every folio (and which exist), every CPU's
/// `slots_ret`, and `swap_info[t]`'s fields and `swapper_spaces[t]`. Reads only: O1 conflicts
/// with the steps that write these, not with every step.
pub fn o1_reads(w: &World, fp: &mut Footprint, t: SwapType) {
    fp.read(Touch::Mms);
    for (i, mm) in w.mms.enumerate() {
        for j in 0..mm.ptes.len() {
            fp.read(Touch::Pte(i, j));
            fp.read(Touch::Zapping(i, j));
        }
    }
    for (i, ino) in w.inodes.enumerate() {
        for j in 0..ino.i_pages.len() {
            fp.read(Touch::ShmemSlot(i, j));
        }
    }
    fp.read(Touch::Folios);
    for (f, _) in w.folios.enumerate() {
        fp.read(Touch::Folio(f));
    }
    for c in 0..w.slots.slots_ret.len() {
        fp.read(Touch::SlotsRet(c));
    }
    fp.si_reads(t);
    fp.read(Touch::Inuse(t));
    fp.read(Touch::SiUsers(t));
    fp.read(Touch::SwapperSpace(t));
}

/// O1 (when swapoff returns 0): nothing refers to the device any more, and its memory is gone.
pub fn check_swapoff_done(w: &mut World, cpu: Cpu, t: SwapType) {
    let mut bad = Vec::new();
    for (i, mm) in w.mms.enumerate() {
        for (j, p) in mm.ptes.iter().enumerate() {
            if let Pte::Swap(e) = p
                && e.type_ == t
                && !w.ghost.zapping.contains(&(i, j))
            {
                bad.push(format!("mm{i} pte{j} holds {e}"));
            }
        }
    }
    for (i, ino) in w.inodes.enumerate() {
        for (j, s) in ino.i_pages.iter().enumerate() {
            if let ShmemSlot::Swap(e) = s
                && e.type_ == t
            {
                bad.push(format!("inode{i} index {j} holds {e}"));
            }
        }
    }
    for (i, f) in w.folios.enumerate() {
        if f.swapcache && f.swap.type_ == t {
            bad.push(format!("folio{i} still in the swap cache at {}", f.swap));
        }
    }
    for (c, r) in w.slots.slots_ret.iter().enumerate() {
        if r.iter().any(|e| e.type_ == t) {
            bad.push(format!("slots_ret of CPU{c} holds an entry"));
        }
    }
    let s = &w.swap_info[t];
    if s.inuse_pages != 0 || s.users.live || s.users.count != 0 {
        bad.push(format!(
            "inuse_pages {} users live {} count {}",
            s.inuse_pages, s.users.live, s.users.count
        ));
    }
    if s.swap_map.is_some() || s.cluster_info.is_some() || w.swapper_spaces[t].is_some() {
        bad.push("memory not freed".into());
    }
    if !bad.is_empty() {
        violated(
            w,
            Some(cpu),
            "O1",
            format!("swapoff returned 0 but {}", bad.join("; ")),
        );
    }
}

/// D1 (content): the page that process `mm`'s PTE `idx` maps holds what the process last
/// stored there. Reported as data corruption in the function that installed the PTE (the
/// detecting CPU, `cpu`, only reads it). A PTE that is not present is not checked.
pub fn check_page(w: &mut World, cpu: Option<Cpu>, mm: MmId, idx: usize) {
    let Pte::Present(folio) = w.mms[mm].ptes[idx] else {
        return;
    };
    let f = &w.folios[folio];
    let got = f.data[folio_page_index(f.nr, idx)];
    let page = w.ghost.pages[mm.0][idx];
    if got == page.expected {
        return;
    }
    let (by, op, func) = page.installed_by.unwrap_or((w.nr_cpus, "mmap", "mmap"));
    let stack = if op == func {
        vec![func]
    } else {
        vec![op, func]
    };
    let by = if by < w.nr_cpus {
        format!("CPU{by}")
    } else {
        "the set-up".into()
    };
    let detail = format!(
        "data corruption: mm{mm} pte{idx} expected {:#x}, got {got:#x} (folio{folio}, mapped by \
         {func} on {by})",
        page.expected
    );
    w.report_in(cpu, func, stack, BugKind::Invariant { id: "D1", detail });
}

/// Invariant D1's ghost: `cpu` installs a present PTE at (`mm`, `idx`) in its current function.
pub fn note_install(w: &mut World, cpu: Cpu, mm: MmId, idx: usize) {
    let stack = &w.cpus[cpu].stack;
    let op = stack.first().copied().unwrap_or("?");
    let func = stack.last().copied().unwrap_or("?");
    w.ghost.pages[mm.0][idx].installed_by = Some((cpu, op, func));
}

/// The end of a run (all CPUs finished): L2 (no lock held, no CPU waiting), and C1, C2, C3
/// exactly for every device that is on, with `si->users` back at its base reference.
pub fn check_end(w: &mut World) {
    let held = w.locks.all();
    if let Some(&(l, c)) = held.first() {
        violated(
            w,
            None,
            "L2",
            format!("CPU{c} still holds {}", l.kernel_name()),
        );
        return;
    }
    for t in w.swap_info.ids() {
        let s = &w.swap_info[t];
        if s.flags & SWP_USED == 0 {
            continue;
        }
        if s.users.live && s.users.count != 1 {
            let c = s.users.count;
            violated(
                w,
                None,
                "L2",
                format!("swap_info[{t}]->users count {c}, not 1"),
            );
            return;
        }
        let Some(m) = map_of(w, t).cloned() else {
            continue;
        };
        for (o, &b) in m.iter().enumerate().skip(1) {
            let e = SwpEntry::new(t, o as u32);
            let ptes = count_eq(w.mms.iter().flat_map(|mm| &mm.ptes), Pte::Swap(e));
            let shmem = count_eq(w.inodes.iter().flat_map(|i| &i.i_pages), ShmemSlot::Swap(e));
            let count = match swap_count(b) {
                SWAP_MAP_SHMEM => 1,
                c => c as usize,
            };
            if count != ptes + shmem {
                violated(
                    w,
                    None,
                    "C1",
                    format!("{e}: swap count {count} but {ptes} PTEs and {shmem} shmem slots"),
                );
                return;
            }
            let cached = w.folios.iter().any(|f| {
                f.swapcache
                    && f.swap.type_ == t
                    && (f.swap.offset..f.swap.offset + f.nr).contains(&(o as u32))
            });
            let in_slots = w.slots.slots_ret.iter().flatten().any(|&x| x == e);
            if (b & SWAP_HAS_CACHE != 0) != (cached || in_slots) {
                violated(
                    w,
                    None,
                    "C2",
                    format!(
                        "{e}: map {b:#x} but in swap cache: {cached}, in slots cache: {in_slots}"
                    ),
                );
                return;
            }
        }
        check_inuse_pages(w, w.nr_cpus, t);
    }
    for mm in w.mms.ids() {
        for idx in 0..w.mms[mm].ptes.len() {
            check_page(w, None, mm, idx);
            if w.bug.is_some() {
                return;
            }
        }
    }
}

/// How many of `xs` equal `x`.
fn count_eq<'a, T: PartialEq + 'a>(xs: impl Iterator<Item = &'a T>, x: T) -> usize {
    xs.filter(|&y| *y == x).count()
}

/// `xs` shown one after another, separated by spaces.
fn joined<T: std::fmt::Display>(xs: &[T]) -> String {
    xs.iter().map(T::to_string).collect::<Vec<_>>().join(" ")
}

/// A text dump of the swap state, for reports.
pub fn dump_state(w: &World) -> String {
    let mut s = String::new();
    for (t, si) in w.swap_info.enumerate() {
        let _ = write!(
            s,
            "swap_info[{t}]: flags {:#x} max {} inuse_pages {} users {}{} gen {}",
            si.flags,
            si.max,
            si.inuse_pages,
            if si.users.live { "live " } else { "dead " },
            si.users.count,
            w.ghost.generation[t]
        );
        match map_of(w, t) {
            Some(m) => {
                let bytes: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
                let _ = writeln!(s, " swap_map [{}]", bytes.join(" "));
            }
            None => {
                let _ = writeln!(s, " swap_map NULL");
            }
        }
    }
    for (i, mm) in w.mms.iter().enumerate() {
        let _ = writeln!(
            s,
            "mm{i}: users {}{} ptes [{}]",
            mm.mm_users,
            if mm.alive { "" } else { " (exited)" },
            joined(&mm.ptes)
        );
    }
    for (i, ino) in w.inodes.enumerate() {
        if ino.i_pages.iter().all(|p| *p == ShmemSlot::None) && ino.swapped == 0 {
            continue;
        }
        let _ = writeln!(
            s,
            "inode{i}: swapped {} i_pages [{}]",
            ino.swapped,
            joined(&ino.i_pages)
        );
    }
    for (i, f) in w.folios.iter().enumerate() {
        if f.swapcache {
            let _ = writeln!(
                s,
                "folio{i}: nr {} in swap cache at {} mapcount {}",
                f.nr, f.swap, f.mapcount
            );
        }
    }
    s
}

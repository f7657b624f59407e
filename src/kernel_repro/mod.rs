//! `swapfuzz kernel-repro`: a minimised model reproducer turned into what the real-kernel check
//! (`scripts/kernel-check`, docs/real-kernel.md) runs: a C program for the kernel/tests/
//! runtime (`sf.h`) that builds the set-up state and runs each CPU's operation, the delay point
//! that stands for the model's preemption, and the report the model expects.
//!
//! How a model run becomes a kernel run:
//!
//! * The set-up runs first, one operation after another ([`emit`] says how each is done from
//!   user space; an operation with no user-space equivalent is an error naming it).
//! * The model CPU that the schedule preempts (the *victim*) runs alone on CPU0, under a task
//!   named `sf-victim-*`, with the delay point of [`points`] armed; every other model CPU runs
//!   on CPU1, in the order the model's schedule runs them: before the victim's operation, while
//!   it waits in the delay (after the hook fired), or after it.
//! * The delay point stands for the one preemption: its model position ([`position`]) must be
//!   one a delay point matches, else the error says there is none.
//! * Before the CPU1 operations run, the test checks from the kernel (the hook's record) that
//!   the victim's slot was in the state the model's run had there.
//!
//! Simplifications (each one refused with a clear error rather than approximated): one
//! operation per CPU, at most one preemption, `swapon` devices are zram (synchronous I/O), so
//! a fault on a `swapon` (non-synchronous) device has no equivalent. A program with `mmap huge`
//! (scenario (a)) swaps to a loop device over a tmpfs file instead (asynchronous writes: the
//! swapped-out THP stays in the swap cache as one folio), which only the 6.12 configuration
//! has; its `swapon-sync` and faults are refused.

pub mod emit;
pub mod points;
pub mod position;

use crate::check::steps::{Segment, run_segments};
use crate::engine::{EngineConfig, decisions_to_bytes};
use crate::model::types::{Object, Pte, SWAP_HAS_CACHE, SWAP_MAP_SHMEM, ShmemSlot, SwpEntry};
use crate::model::{ModelConfig, Op, Program};
use crate::program::file::Input;
use crate::program::text::format_op;
use crate::triage::minimize::MinimizeLimits;
use crate::triage::reproduce::{Reproduction, outcome, reproduce, segments_for};

use points::{DelayPoint, Recorded};
use position::Position;

/// The kernel the reproducer runs on: the boot variant and the model configurations.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// `swapfuzz.variant=` on the kernel command line.
    pub boot_variant: &'static str,
    /// The model of that kernel.
    pub cfg: ModelConfig,
    /// The model of the fixed kernel (`swapfuzz.variant=fixed`), same switches.
    pub fixed: ModelConfig,
}

/// The victim: the preempted CPU's operation and the delay point that stands for it.
#[derive(Clone, Debug)]
pub struct Victim {
    /// The model CPU.
    pub cpu: usize,
    /// Its operation.
    pub op: Op,
    /// Where the model preempted it.
    pub position: Position,
    /// The delay point.
    pub point: &'static DelayPoint,
    /// The state the hook must record: `swap_map[offset]`, and on the free path the count
    /// `__swap_entry_free()` returns.
    pub map: u8,
    /// The count, on the free path.
    pub count: Option<u8>,
    /// The slot.
    pub entry: (usize, u32),
    /// The kernel pages of the swap-cache folio that covers the slot, when the model's is a
    /// large folio (a cluster-size folio of the model is the kernel's 2 MiB THP: 512).
    pub folio_pages: Option<u32>,
}

/// The kernel's pages in the model's cluster-size folio (`mmap huge`): a PMD-size THP.
pub const HPAGE_PMD_NR: u32 = 512;

/// A model reproducer as the kernel check runs it.
#[derive(Clone, Debug)]
pub struct KernelRepro {
    /// The test's name (`sf.test=`).
    pub name: String,
    /// The program.
    pub program: Program,
    /// The schedule, in steps.
    pub segments: Vec<Segment>,
    /// The preempted CPU, if the schedule preempts one.
    pub victim: Option<Victim>,
    /// The other CPUs' operations before the victim's, in the model's order: (cpu, op).
    pub before: Vec<(usize, Op)>,
    /// While the victim waits in its delay point.
    pub during: Vec<(usize, Op)>,
    /// After it.
    pub after: Vec<(usize, Op)>,
    /// Set-up operations fused with the next: `swapout` then `reclaim` of the folio it wrote
    /// (indices into the set-up).
    pub fused_reclaim: Vec<usize>,
    /// The model's verdict on the target kernel: a signature, or `None` (no bug).
    pub expect: Option<String>,
    /// On the fixed kernel.
    pub expect_fixed: Option<String>,
    /// The boot variant.
    pub boot_variant: &'static str,
    /// The program maps a large folio (`mmap huge`): its `swapon` device is a loop device.
    pub huge: bool,
    /// The kernels the test runs on: the delay point's, and only 6.12 for a loop device.
    pub kernels: Vec<&'static str>,
}

/// Operations kernel-repro has no user-space equivalent for, with the reason.
fn unsupported(op: &Op, sync_only: bool, huge: bool) -> Option<&'static str> {
    match op {
        Op::SwaponSync if huge => Some(
            "a synchronous device in a program with a large folio: zram's synchronous write \
             lets reclaim drop the THP from the swap cache in the same pass, so its `swapon` \
             is a loop device and `swapon-sync` has none (docs/real-kernel.md, scenario (a))",
        ),
        Op::Mincore { .. } => Some("mincore() through a mapping with no page table"),
        Op::ShmemRead { .. } => Some("6.12's shmem swap-in skips the swap cache on zram"),
        Op::SwapIn { .. } | Op::Read { .. } | Op::Write { .. } | Op::Willneed { .. } if huge => {
            Some(
                "a swap-in in a program with a large folio: 6.12 swaps a THP back in as small \
                 folios, the model's `mmap huge` as one",
            )
        }
        Op::SwapIn { .. } | Op::Read { .. } | Op::Write { .. } if !sync_only => Some(
            "a fault on a `swapon` (non-synchronous) device: the kernel check's devices are \
             zram, whose SWP_SYNCHRONOUS_IO changes do_swap_page()",
        ),
        _ => None,
    }
}

/// The world after `ops` ran one after another (a program with no CPUs).
fn world_after<R: Send + 'static>(
    ops: Vec<Op>,
    cfg: ModelConfig,
    f: impl Fn(&crate::model::world::World) -> R + Send + Sync + 'static,
) -> Result<R, String> {
    let out = std::sync::Arc::new(std::sync::Mutex::new(None));
    let o = std::sync::Arc::clone(&out);
    let p = Program {
        setup: ops,
        cpus: Vec::new(),
    };
    let cfg = ModelConfig {
        record: false,
        ..cfg
    };
    let f = std::sync::Arc::new(f);
    let exec = crate::engine::run_once(&[], &EngineConfig::default(), move || {
        let f = std::sync::Arc::clone(&f);
        let o = std::sync::Arc::clone(&o);
        crate::check::run::execute_then(&p, cfg, move |w| {
            *o.lock().expect("out") = Some(f(w));
        })
    });
    let r = out.lock().expect("out").take();
    r.ok_or_else(|| {
        format!(
            "the set-up alone does not finish cleanly in the model ({:?})",
            exec.outcome
        )
    })
}

/// The slot the victim's operation frees or faults on first, in the world `w`.
fn victim_entry(w: &crate::model::world::World, op: &Op) -> Option<SwpEntry> {
    let alive = |m: u8| {
        let live: Vec<_> = w.mms.ids().filter(|&i| w.mms[i].alive).collect();
        (!live.is_empty()).then(|| live[m as usize % live.len()])
    };
    let pte = |m: u8, p: u8| {
        let mm = alive(m)?;
        let ptes = &w.mms[mm].ptes;
        match ptes[p as usize % ptes.len()] {
            Pte::Swap(e) => Some(e),
            _ => None,
        }
    };
    match *op {
        Op::ShmemTruncate { file } => {
            let inode =
                crate::model::types::InodeId(file as usize % crate::model::program::NR_FILES);
            w.inodes[inode].i_pages.iter().find_map(|s| match s {
                ShmemSlot::Swap(e) => Some(*e),
                _ => None,
            })
        }
        Op::Exit { mm } => {
            let mm = alive(mm)?;
            w.mms[mm].ptes.iter().find_map(|p| match p {
                Pte::Swap(e) => Some(*e),
                _ => None,
            })
        }
        Op::Zap { mm, pte: p }
        | Op::SwapIn { mm, pte: p, .. }
        | Op::Read { mm, pte: p }
        | Op::Write { mm, pte: p } => pte(mm, p),
        _ => None,
    }
}

/// The pages of the swap-cache folio that covers `e` in `w`, if one does.
fn cached_folio_pages(w: &crate::model::world::World, e: SwpEntry) -> Option<u32> {
    w.folios.ids().map(|f| &w.folios[f]).find_map(|f| {
        (f.swapcache
            && f.swap.type_ == e.type_
            && (f.swap.offset..f.swap.offset + f.nr).contains(&e.offset))
        .then_some(f.nr)
    })
}

/// `swap_map[offset]` of `entry` in `w`.
fn map_byte(w: &crate::model::world::World, e: SwpEntry) -> Option<u8> {
    let p = w.swap_info.get(e.type_)?.swap_map?;
    match &w.heap.get(p).data {
        Object::SwapMap(m) => m.get(e.offset as usize).copied(),
        _ => None,
    }
}

/// What v6.8's `__swap_entry_free_locked()` returns for one reference dropped from a slot
/// whose byte is `map` (`COUNT_CONTINUED` left out: the programs never reach it).
pub fn count_returned(map: u8) -> u8 {
    let has_cache = map & SWAP_HAS_CACHE;
    let mut count = map & !SWAP_HAS_CACHE;
    if count == SWAP_MAP_SHMEM {
        count = 0;
    } else {
        count = count.saturating_sub(1);
    }
    count | has_cache
}

/// Turns a loaded reproducer into a [`KernelRepro`]; every refusal is an `Err` saying why.
pub fn analyse(input: &Input, name: &str, target: Target) -> Result<KernelRepro, String> {
    let program = &input.program;
    let ops: Vec<&Op> = program
        .setup
        .iter()
        .chain(program.cpus.iter().flatten())
        .collect();
    // Operations without an equivalent, named.
    let sync_only = !ops.iter().any(|o| matches!(o, Op::Swapon));
    let huge = ops.iter().any(|o| matches!(o, Op::Mmap { huge: true, .. }));
    let mut bad: Vec<String> = Vec::new();
    for op in &ops {
        if let Some(why) = unsupported(op, sync_only, huge) {
            let t = format!("`{}` ({why})", format_op(op));
            if !bad.contains(&t) {
                bad.push(t);
            }
        }
    }
    // reclaim: only right after the swapout that wrote the folio, in the set-up (zram drops a
    // clean folio from the swap cache as soon as MADV_PAGEOUT wrote it).
    let mut fused = Vec::new();
    for (i, op) in program.setup.iter().enumerate() {
        if let Op::Reclaim { dev, .. } = *op {
            let ok = i > 0 && matches!(program.setup[i - 1], Op::SwapOut { .. }) && {
                let prefix = program.setup[..i].to_vec();
                let dev = dev as usize % crate::model::types::MAX_SWAPFILES;
                world_after(prefix, target.cfg, move |w| {
                    w.folios
                        .ids()
                        .filter(|&f| w.folios[f].swapcache && w.folios[f].swap.type_.0 == dev)
                        .count()
                })? == 1
            };
            if ok {
                fused.push(i - 1);
            } else {
                bad.push(format!(
                    "`{}` at set-up line {} (only a reclaim of the one swap-cache folio the \
                     set-up's previous swapout wrote has an equivalent: MADV_PAGEOUT alone)",
                    format_op(op),
                    i + 1
                ));
            }
        }
    }
    for (cpu, list) in program.cpus.iter().enumerate() {
        if let Some(op) = list.iter().find(|o| matches!(o, Op::Reclaim { .. })) {
            bad.push(format!(
                "`{}` on cpu{cpu} (reclaim of one chosen folio while other CPUs run)",
                format_op(op)
            ));
        }
    }
    if !bad.is_empty() {
        return Err(format!("no kernel equivalent for {}", bad.join("; ")));
    }
    for (cpu, list) in program.cpus.iter().enumerate() {
        if list.len() > 1 {
            return Err(format!(
                "cpu{cpu} has {} operations; kernel-repro runs one operation per CPU \
                 (minimise the reproducer first: swapfuzz minimize FILE)",
                list.len()
            ));
        }
    }
    // The schedule, in steps, brought up to date with the model when the file names its bug.
    let mut bytes = input.schedule.clone();
    let mut segments = input.scenario.as_ref().and_then(|s| s.steps.clone());
    if let Some(steps) = &segments {
        bytes = decisions_to_bytes(&run_segments(program, target.cfg, steps).1.decisions);
    }
    if let Some(expect) = input.scenario.as_ref().and_then(|s| s.expect.as_ref()) {
        match reproduce(
            program,
            &bytes,
            target.cfg,
            expect,
            MinimizeLimits::default(),
        ) {
            Reproduction::Stored => {}
            Reproduction::Rederived { schedule, .. } => {
                bytes = schedule;
                segments = None;
            }
            Reproduction::Lost { got, .. } => {
                return Err(format!(
                    "the file expects {expect}, but the model gives {got} under these \
                     settings and no schedule within the search's bound gives it (swapfuzz \
                     replay FILE shows the run)"
                ));
            }
        }
    }
    let segments = match segments {
        Some(s) => s,
        None if bytes.is_empty() => {
            return Err(
                "the reproducer has no schedule (a scenario without `schedule:` \
                        stands for all schedules; give a hunt or minimize output)"
                    .into(),
            );
        }
        None => segments_for(program, target.cfg, &bytes)
            .ok_or("its schedule cannot be stated in steps (it preempts the set-up)".to_string())?,
    };
    let bytes = decisions_to_bytes(&run_segments(program, target.cfg, &segments).1.decisions);
    let verdict = |cfg| {
        let s = outcome(program, &bytes, cfg);
        if s.starts_with("internal error") {
            Err(s)
        } else {
            Ok((s != "no bug").then_some(s))
        }
    };
    let expect = verdict(target.cfg)?;
    let expect_fixed = verdict(target.fixed)?;

    // The preemption and its delay point.
    let pre = position::preemptions(program, target.cfg, &segments);
    if pre.len() > 1 {
        return Err(format!(
            "the schedule preempts {} times ({}); the kernel patches delay one task once",
            pre.len(),
            pre.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let mut victim = None;
    if let Some(p) = pre.first() {
        let Some(point) = points::point_for(p) else {
            return Err(format!(
                "no delay point stands for the model's preemption {p}: the kernel patches \
                 delay at {} (docs/real-kernel.md#from-a-model-reproducer-to-a-kernel-test)",
                points::POINTS
                    .iter()
                    .map(|d| format!("P{} {}", d.n, d.kernel))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        };
        victim = Some((p.clone(), point));
    }

    // The order: which CPUs run before, during and after the victim's delay.
    let (mut before, mut during, mut after) = (Vec::new(), Vec::new(), Vec::new());
    let vcpu = victim.as_ref().map(|(p, _)| p.cpu);
    let vseg = vcpu.and_then(|c| {
        segments
            .iter()
            .position(|s| s.cpu == c && s.until.is_some())
    });
    let mut seen: Vec<usize> = Vec::new();
    let mut resumed = false;
    for (i, s) in segments.iter().enumerate() {
        if Some(s.cpu) == vcpu {
            if vseg.is_some_and(|v| i > v) {
                resumed = true;
            }
            continue;
        }
        if seen.contains(&s.cpu) {
            if vseg.is_some_and(|v| i > v) && before.iter().any(|(c, _)| *c == s.cpu) {
                return Err(format!(
                    "cpu{} runs both before and after the preemption (it blocked before the \
                     victim started); kernel-repro runs the other CPUs' operations whole",
                    s.cpu
                ));
            }
            continue;
        }
        seen.push(s.cpu);
        let Some(op) = program.cpus[s.cpu].first().copied() else {
            continue;
        };
        match vseg {
            Some(v) if i < v => before.push((s.cpu, op)),
            Some(_) if !resumed => during.push((s.cpu, op)),
            _ => after.push((s.cpu, op)),
        }
    }
    for (cpu, list) in program.cpus.iter().enumerate() {
        if Some(cpu) != vcpu
            && !seen.contains(&cpu)
            && let Some(op) = list.first()
        {
            after.push((cpu, *op));
        }
    }

    // The state the victim's path must see: the model's, after the set-up and `before`.
    let victim = match victim {
        None => None,
        Some((position, point)) => {
            let op = program.cpus[position.cpu][0];
            let mut prefix = program.setup.clone();
            prefix.extend(before.iter().map(|(_, o)| *o));
            let (entry, map, folio) = world_after(prefix, target.cfg, move |w| {
                victim_entry(w, &op).map(|e| (e, map_byte(w, e), cached_folio_pages(w, e)))
            })?
            .ok_or_else(|| {
                format!(
                    "cpu{}'s `{}` finds no swap entry in the model's state before it; its \
                     delay point would never fire",
                    position.cpu,
                    format_op(&op)
                )
            })?;
            let map = map.ok_or("the victim's swap device is off before it runs")?;
            let count = (point.recorded == Recorded::FreePath).then(|| count_returned(map));
            Some(Victim {
                cpu: position.cpu,
                op,
                position,
                point,
                map,
                count,
                entry: (entry.type_.0, entry.offset),
                folio_pages: folio.filter(|&n| n > 1).map(|_| HPAGE_PMD_NR),
            })
        }
    };
    let kernels = victim
        .as_ref()
        .map_or(vec!["6.1", "6.12"], |v| v.point.kernels.to_vec());
    let kernels = if huge {
        kernels.into_iter().filter(|&k| k == "6.12").collect()
    } else {
        kernels
    };
    if kernels.is_empty() {
        return Err(
            "a program with a large folio needs the loop device, which only the 6.12 \
             configuration has, and its delay point has no 6.12 place"
                .into(),
        );
    }
    Ok(KernelRepro {
        name: name.to_string(),
        program: program.clone(),
        segments,
        victim,
        before,
        during,
        after,
        fused_reclaim: fused,
        expect,
        expect_fixed,
        boot_variant: target.boot_variant,
        huge,
        kernels,
    })
}

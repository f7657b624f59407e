//! Declared footprints against what the steps do, reads included: two adjacent steps of
//! different CPUs that the footprints call independent must commute. On random schedules of
//! programs over the annotated paths, every such pair is run again in the other order, with the
//! same choices before and after it; both orders must give the swapped steps the same
//! footprints, the rest of the run the same steps, runnable sets and footprints, and the same
//! outcome (the bug's title, or the final state's digest).
//!
//! `check_footprints` (tests/reduction_outcomes.rs) sees what a step writes; a read left out of
//! a footprint changes no state and shows only here: the reader, run after the writer instead
//! of before it, sees another value (and, where that value decides something, does something
//! else). A pair is tried only where the engine would treat both steps as the footprints say
//! (`src/engine/reduction.rs`): both annotated, the runnable set the same before, between and
//! after them, and neither task yielding.

mod common;

use std::sync::{Arc, Mutex};

use shuttle::scheduler::{Schedule, TaskId};
use swapfuzz::check::run::{Verdict, execute_then};
use swapfuzz::engine::{
    Access, AccessLog, EngineConfig, Execution, Point, Scheduled, Strategy, quiet_panics, record,
    run_with_scheduler,
};
use swapfuzz::model::patches::Patch;
use swapfuzz::model::{ModelConfig, PatchSet, Program};
use swapfuzz::triage::report::title;

/// A step's footprint as the engine reads it: `None` when unknown (no annotation, or
/// `engine::unknown`) or when it declared a quiet finish (not tried here).
type Foot = Option<Vec<(u64, Access)>>;

/// One scheduling point of a run and the step begun there.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rec {
    /// The runnable set (task ids below 64; a run with more is not compared).
    mask: u64,
    yielding: bool,
    chosen: Option<usize>,
    foot: Foot,
}

/// A run: its points and how it ended.
#[derive(Debug)]
struct Run {
    recs: Vec<Rec>,
    /// A planned choice was not runnable.
    diverged: bool,
    outcome: String,
}

/// Chooses `plan[i]` at point `i`, then (or where the plan's task is not runnable) a
/// pseudo-random task that favours staying on the current one; records every point.
struct Script {
    plan: Vec<usize>,
    rng: u64,
    /// Past the plan, favour the current task (else choose by `rng` alone, so that two runs in
    /// the same state after their plans go on alike whichever task ran last).
    sticky: bool,
    /// Past the plan, stay on the current task whenever it can run (one preemption, at the
    /// plan's end: the shape of the races swapoff has with its readers).
    stay: bool,
    started: bool,
    out: Arc<Mutex<(Vec<Rec>, bool)>>,
}

fn footprint_of(point: usize) -> Foot {
    AccessLog::with(|log| {
        log.step_at(point)
            .filter(|s| !s.is_unknown() && !s.finishes_quietly())
            .map(|s| s.accesses().collect())
    })
}

impl Strategy for Script {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            // The last step's footprint (the log is this run's until the next one starts).
            let mut out = self.out.lock().unwrap();
            let n = out.0.len();
            if n > 0 {
                out.0[n - 1].foot = footprint_of(n - 1);
            }
            return None;
        }
        self.started = true;
        record(true);
        Some(Schedule::new(0))
    }

    fn next_task(&mut self, point: &Point<'_>) -> Option<TaskId> {
        let mut out = self.out.lock().unwrap();
        let i = out.0.len();
        if i > 0 {
            out.0[i - 1].foot = footprint_of(i - 1);
        }
        let runnable: Vec<TaskId> = point.runnable.iter().map(|t| t.id()).collect();
        let planned = self
            .plan
            .get(i)
            .and_then(|&t| runnable.iter().copied().find(|&id| usize::from(id) == t));
        if i < self.plan.len() && planned.is_none() {
            out.1 = true;
        }
        let chosen = planned.unwrap_or_else(|| {
            self.rng = self
                .rng
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = (self.rng >> 33) as usize;
            match point.current {
                Some(c) if self.stay && point.can_stay() && !point.yielding => c,
                Some(c) if self.sticky && point.can_stay() && !r.is_multiple_of(4) => c,
                _ => {
                    // A yielding task is not chosen while another can run (as in the explorer).
                    let others: Vec<TaskId> = runnable
                        .iter()
                        .copied()
                        .filter(|&id| !(point.yielding && Some(id) == point.current))
                        .collect();
                    let from = if others.is_empty() {
                        &runnable
                    } else {
                        &others
                    };
                    from[r % from.len()]
                }
            }
        });
        out.0.push(Rec {
            mask: point.mask(),
            yielding: point.yielding,
            chosen: Some(usize::from(chosen)),
            foot: None,
        });
        Some(chosen)
    }

    fn next_u64(&mut self) -> u64 {
        0
    }
}

/// Runs `p` under `plan` then seeded choices (`sticky`: see [`Script`]).
fn run(p: &Program, c: ModelConfig, plan: Vec<usize>, seed: u64, sticky: bool) -> Run {
    run_on(p, c, plan, seed, sticky, false)
}

/// [`run`], staying on the current task past the plan if `stay` (see [`Script`]).
fn run_on(
    p: &Program,
    c: ModelConfig,
    plan: Vec<usize>,
    seed: u64,
    sticky: bool,
    stay: bool,
) -> Run {
    let out: Arc<Mutex<(Vec<Rec>, bool)>> = Arc::default();
    let digest: Arc<Mutex<Option<String>>> = Arc::default();
    let script = Script {
        plan,
        rng: seed,
        sticky,
        stay,
        started: false,
        out: Arc::clone(&out),
    };
    let (p, d) = (p.clone(), Arc::clone(&digest));
    let (outcome, payload) =
        run_with_scheduler(Scheduled(script), &EngineConfig::default(), move || {
            let d = Arc::clone(&d);
            execute_then(&p, c, move |w| *d.lock().unwrap() = Some(w.digest()));
        });
    record(false);
    let exec = Execution {
        decisions: Vec::new(),
        steps: 0,
        outcome,
        payload,
    };
    let outcome = match Verdict::of(&exec) {
        Verdict::Bug(b, _) => format!("bug: {}", title(&b)),
        Verdict::Clean => format!("clean\n{}", digest.lock().unwrap().take().unwrap()),
        Verdict::Error(e) => format!("error: {e}"),
    };
    let (recs, diverged) = std::mem::take(&mut *out.lock().unwrap());
    Run {
        recs,
        diverged,
        outcome,
    }
}

/// Whether two footprints share an object that one of them writes.
fn conflict(a: &[(u64, Access)], b: &[(u64, Access)]) -> bool {
    a.iter()
        .any(|&(o, x)| b.iter().any(|&(q, y)| o == q && x.conflicts(y)))
}

/// The footprint the reduction would use, after `lie` (the identity, or a test's injected lie).
type Lie = fn(&mut Vec<(u64, Access)>);

/// Which points of a run to try pairs at, by the footprint of the step chosen there.
type Focus = fn(&[(u64, Access)]) -> bool;

/// [`try_pairs_at`] on every run preempted once from `first`: at each point where another task
/// can run, that task, then the other task as long as it can run; pairs at the points whose
/// step passes `focus`.
fn try_pairs_preempted_once(
    p: &Program,
    c: ModelConfig,
    first: &Run,
    seed: u64,
    lie: Lie,
    focus: Focus,
) -> Result<usize, String> {
    let mut tried = 0;
    for (i, rec) in first.recs.iter().enumerate() {
        for b in (0..64).filter(|&b| Some(b) != rec.chosen && rec.mask & (1 << b) != 0) {
            let mut plan: Vec<usize> = first.recs[..i].iter().map(|x| x.chosen.unwrap()).collect();
            plan.push(b);
            let one = run_on(p, c, plan, seed, true, true);
            tried += try_pairs_at(p, c, &one, seed, lie, usize::MAX, focus)?;
        }
    }
    Ok(tried)
}

/// A [`Lie`]: every read of an object of kind `TAG` (`Touch::object`'s top byte) that the step
/// does not also write is left out of its footprint.
fn drop_reads<const TAG: u64>(f: &mut Vec<(u64, Access)>) {
    let written: Vec<u64> = f
        .iter()
        .filter(|&&(_, a)| a == Access::Write)
        .map(|&(o, _)| o)
        .collect();
    f.retain(|&(o, a)| !(o >> 56 == TAG && a == Access::Read && !written.contains(&o)));
}

/// At the points of `base` whose chosen step's footprint passes `focus` (at most `most`
/// pairs): for each other task `b` runnable there, runs the base's choices up to the point,
/// then its task `a` and `b` in both orders, then the same seeded choices. Where the first order shows two steps the engine would call independent
/// (after `lie`), the second must agree. Returns the pairs compared, or the first disagreement.
fn try_pairs_at(
    p: &Program,
    c: ModelConfig,
    base: &Run,
    seed: u64,
    lie: Lie,
    most: usize,
    focus: impl Fn(&[(u64, Access)]) -> bool,
) -> Result<usize, String> {
    let r = &base.recs;
    let mut tried = 0;
    for i in 0..r.len() {
        let Some(a) = r[i].chosen else { break };
        if !r[i].foot.as_deref().is_some_and(&focus) {
            continue;
        }
        for b in 0..64usize {
            if tried == most {
                return Ok(tried);
            }
            if b == a || a >= 64 || r[i].mask & (1 << b) == 0 {
                continue;
            }
            let prefix: Vec<usize> = r[..i].iter().map(|x| x.chosen.unwrap()).collect();
            let plan = |x: usize, y: usize| [prefix.as_slice(), &[x, y]].concat();
            let one = run(p, c, plan(a, b), seed, false);
            let o1 = &one.recs;
            if one.diverged || o1.len() < i + 3 {
                continue;
            }
            let (s, t, after) = (&o1[i], &o1[i + 1], &o1[i + 2]);
            let (Some(fs), Some(ft)) = (&s.foot, &t.foot) else {
                continue;
            };
            let (mut fs_l, mut ft_l) = (fs.clone(), ft.clone());
            lie(&mut fs_l);
            lie(&mut ft_l);
            if s.mask != t.mask
                || t.mask != after.mask
                || t.yielding
                || after.yielding
                || conflict(&fs_l, &ft_l)
            {
                continue;
            }
            tried += 1;
            let two = run(p, c, plan(b, a), seed, false);
            let o2 = &two.recs;
            let what = if two.diverged {
                Some("a planned task was not runnable".to_string())
            } else if o2.len() != o1.len() {
                Some(format!("{} points, not {}", o2.len(), o1.len()))
            } else if o2[i].foot != t.foot || o2[i + 1].foot != s.foot {
                Some(format!(
                    "the footprints changed: {:?} / {:?} became {:?} / {:?}",
                    s.foot,
                    t.foot,
                    o2[i + 1].foot,
                    o2[i].foot
                ))
            } else if let Some(j) = (i + 2..o1.len()).find(|&j| o2[j] != o1[j]) {
                Some(format!("point {j}: {:?} became {:?}", o1[j], o2[j]))
            } else if two.outcome != one.outcome {
                Some(format!(
                    "outcome {:?} became {:?}",
                    one.outcome.lines().next(),
                    two.outcome.lines().next()
                ))
            } else {
                None
            };
            if let Some(what) = what {
                return Err(format!(
                    "at point {i} (seed {seed}), task {a}'s step {fs:?} and task {b}'s step {ft:?}, \
                     declared independent, do not commute: {what}"
                ));
            }
        }
    }
    Ok(tried)
}

/// Two devices swapped off at once beside a swap-in and a zap: each swapoff reads the other
/// device's `swap_info[]` (`SWP_WRITEOK` for the slots cache, every slot for `drain_mmlist()`),
/// and each `synchronize_rcu()` reads the RCU state of the CPUs in its snapshot while the
/// others take and release spinlocks.
const TWO_SWAPOFFS: &str =
    "setup: swapon; swapon; mmap pages=2; swapout mm=0 pte=0; swapout mm=0 pte=1
cpu0: swapoff dev=0
cpu1: swapoff dev=1
cpu2: swapin mm=0 pte=0; zap mm=0 pte=1";

fn programs() -> Vec<(String, Program)> {
    let mut v: Vec<(String, Program)> = swapfuzz::program::text::builtin()
        .into_iter()
        .map(|(s, _, _)| {
            (
                s.to_string(),
                swapfuzz::program::text::load(s).unwrap().program,
            )
        })
        .collect();
    for t in common::FOOTPRINT_PROGRAMS {
        let p = swapfuzz::program::text::parse(t).unwrap().program;
        v.push((t.lines().nth(1).unwrap().to_string(), p));
    }
    v
}

fn configs() -> Vec<(String, ModelConfig)> {
    let mut v = vec![
        ("buggy".to_string(), PatchSet::base()),
        ("fixed".to_string(), PatchSet::fixed()),
    ];
    for name in [
        "revert-aeb309b81c6b",
        "revert-2efa33fc7f6e",
        "revert-eb085574a752",
        "revert-2799e77529c2",
        "revert-13ddaf26be32",
    ] {
        v.push((
            name.to_string(),
            PatchSet::for_patch(Patch::by_name(name).unwrap()),
        ));
    }
    v.into_iter()
        .map(|(n, patches)| (n, swapfuzz::check::config::model(patches)))
        .collect()
}

/// Over every program and kernel, `seeds` random runs each, every eligible pair (at most
/// `most` a run): the first pair that does not commute, or the pairs tried.
fn check(lie: Lie, seeds: u64, most: usize) -> Result<usize, String> {
    quiet_panics();
    let mut tried = 0;
    for (name, p) in programs() {
        for (kernel, c) in configs() {
            for seed in 0..seeds {
                let base = run(&p, c, Vec::new(), seed, true);
                tried += try_pairs_at(&p, c, &base, seed, lie, most, |_| true)
                    .map_err(|e| format!("{name} on {kernel}: {e}"))?;
            }
        }
    }
    Ok(tried)
}

/// Random runs of each program on each kernel: fewer in a debug build (about ten times slower).
const SEEDS: u64 = if cfg!(debug_assertions) { 2 } else { 6 };

/// The model's declared steps commute where their footprints say they do.
#[test]
fn independent_steps_commute() {
    let tried = check(|_| {}, SEEDS, 30).unwrap_or_else(|e| panic!("{e}"));
    assert!(tried > 800 * SEEDS as usize, "{tried} pairs tried");
}

/// The check sees a read left out: with every step that reads a PTE without writing it made
/// to declare no read of it (do_swap_page's `pte_same()` checks, the swap-in paths' look-ups,
/// `unuse_pte_range()`'s walk, O1), such a reader and the PTE's writer are called independent,
/// and some such pair does not commute. (Dropping O1's PTE reads alone is not seen on these
/// runs: no PTE write that changes O1's verdict was found enabled beside O1's step; on the
/// fixed kernel swapoff has emptied the device's PTEs by then. A dynamic check finds only the
/// lies that matter on the states it visits.)
#[test]
fn a_dropped_read_does_not_commute() {
    // `Touch::object` (src/model/context.rs) puts the kind's tag in the top byte.
    const PTE: u64 = 40;
    let lie: Lie = drop_reads::<PTE>;
    let err = check(lie, 6, 30).expect_err("the lie is seen");
    assert!(err.contains("do not commute"), "{err}");
}

/// [`TWO_SWAPOFFS`] on v6.8 and on the fixed kernel, 40 random runs each, up to 1,000 pairs a
/// run (the whole run: the end of each swapoff included, which the budget of [`check`] rarely
/// reaches).
fn check_two_swapoffs(lie: Lie) -> Result<usize, String> {
    quiet_panics();
    let p = swapfuzz::program::text::parse(TWO_SWAPOFFS)
        .unwrap()
        .program;
    let mut tried = 0;
    for (kernel, c) in configs().into_iter().take(2) {
        for seed in 0..40 {
            let base = run(&p, c, Vec::new(), seed, true);
            tried += try_pairs_at(&p, c, &base, seed, lie, 1000, |_| true)
                .map_err(|e| format!("two swapoffs on {kernel}: {e}"))?;
        }
    }
    Ok(tried)
}

/// The split `swap_info[]` pieces and the grace period's reads (only the snapshot's CPUs)
/// commute where they say they do, on the pairs of two concurrent swapoffs.
#[test]
fn two_swapoffs_commute() {
    let tried = check_two_swapoffs(|_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert!(tried > 5_000, "{tried} pairs tried");
}

/// The check sees a grace period's read left out: with every step that reads a CPU's RCU state
/// without writing it made to declare no read of it (`synchronize_rcu()`'s snapshot and its
/// wait for the snapshot's CPUs, the unlocks' wake-up checks), some such reader and another
/// CPU's spinlock step are called independent and do not commute. (Reading none of the
/// snapshot's CPUs in the wait alone is seen too; checked by hand when the reads were narrowed
/// to the snapshot.)
#[test]
fn a_dropped_rcu_read_does_not_commute() {
    // `Touch::RcuReader`'s tag (src/model/context.rs).
    const RCU: u64 = 60;
    let lie: Lie = drop_reads::<RCU>;
    let err = check_two_swapoffs(lie).expect_err("the lie is seen");
    assert!(err.contains("do not commute"), "{err}");
}

/// `Touch::object`'s tags (src/model/context.rs) of the four `swap_info[]` pieces: `SiMap`,
/// `SiSlot`, `SiFlags`, `SiWriteok`.
const SI: [u64; 4] = [35, 57, 58, 59];

/// Whether a footprint touches a `swap_info[]` piece.
fn touches_si(f: &[(u64, Access)]) -> bool {
    f.iter().any(|&(o, _)| SI.contains(&(o >> 56)))
}

/// Whether a footprint writes a `swap_info[]` piece (swapoff's steps 3, 12 and 15: swapon's
/// writes are undeclared).
fn writes_si(f: &[(u64, Access)]) -> bool {
    f.iter()
        .any(|&(o, a)| a == Access::Write && SI.contains(&(o >> 56)))
}

/// Every program (the built-ins, [`common::FOOTPRINT_PROGRAMS`], [`TWO_SWAPOFFS`]) on every
/// kernel of [`configs`] and on v6.8 with spinlocks not RCU readers, `seeds` random runs each,
/// every eligible pair at the points where the base run's step touches a `swap_info[]` piece:
/// the pairs of a reader of `swap_info[t]` and swapoff's writes of it (steps 3, 12 and 15).
fn check_si(lie: Lie, seeds: u64) -> Result<usize, String> {
    check_focused(lie, seeds, touches_si, Some(writes_si))
}

/// The steps that touch `swap_info[]` commute where their footprints say they do, on the
/// pairs that [`independent_steps_commute`]'s budget (the first 30 a run) rarely reaches: each
/// random run, and each run preempted once at one of its points and then staying on the other
/// task, at the points where its step touches (in the preempted runs: writes) `swap_info[]`.
///
/// What it does not see (hand audit): a read of `SiSlot` left out (only swapon writes it, in
/// undeclared steps, which the reduction orders against every step); of `SiFlags` (its only
/// declared writer, swapoff's step 15, runs after step 12 set `max` to 0, when
/// `_swap_info_get()` fails whatever the flags, and after `inuse_pages` fell to 0, which
/// `swap_range_free()`'s read of `SWP_SYNCHRONOUS_IO` precedes in the same step; the fault's
/// read holds a device reference, which swapoff waits for before step 12); of `SiWriteok` by
/// swapoff's step 2 (it and both writers, steps 3 and 15, hold `swap_lock`) or by
/// `reenable_swap_slots_cache_unlock()` (the slots cache switch it sets differs, and the next
/// `disable_swap_slots_cache_lock()` or re-enable overwrites it: seen only by an allocation in
/// between, not reached here); `_swap_info_get()`'s read of `SiMap` alone (a reader beside
/// step 12 holds an entry that `try_to_unuse()` freed: `swap_map[offset]` is 0 before the
/// detach and `max` is 0 after it, so it fails either way).
#[test]
fn swap_info_readers_commute() {
    // About 45 s in a release build; one seed in a debug build (about ten times slower).
    let seeds = if cfg!(debug_assertions) { 1 } else { 6 };
    let tried = check_si(|_| {}, seeds).unwrap_or_else(|e| panic!("{e}"));
    assert!(tried > 12_000 * seeds as usize, "{tried} pairs tried");
}

/// The check sees a read of `swap_info[]`'s maps left out: with every step that reads
/// `max`, `swap_map` or `cluster_info` without writing them made to declare no read of them,
/// a reader and swapoff's step 12 (which detaches them) are called independent and do not
/// commute (on v6.8, shmem-truncate: `swap_page_trans_huge_swapped()` dereferences the map
/// after the detach, or after the free). Dropping the reads of `SiSlot`, `SiFlags` or
/// `SiWriteok` alike is not seen: see the review notes of [`swap_info_readers_commute`].
#[test]
fn a_dropped_swap_map_read_does_not_commute() {
    const SI_MAP: u64 = 35;
    let lie: Lie = drop_reads::<SI_MAP>;
    let err = check_si(lie, 2).expect_err("the lie is seen");
    assert!(err.contains("do not commute"), "{err}");
}

/// `Touch::object`'s tags (src/model/context.rs): a CPU's RCU nesting (`Rcu`), its reader state
/// (`RcuReader`), and what it waits for (`Waiting`, which only a lock's acquire attempt reads
/// beside writing a lock). `lock_object` gives the spinlocks tags 1 to 8 and the sleeping locks
/// (the three mutexes, the folio lock) 9 to 12.
const RCU_NESTING: u64 = 32;
const RCU_READER: u64 = 60;
const WAITING: u64 = 33;

/// Whether a footprint is an acquire attempt of a lock whose tag passes `kind`: it writes the
/// lock's entry and reads the CPU's `Waiting` (the unlocks read the lock's waiters instead).
fn acquires(f: &[(u64, Access)], kind: impl Fn(u64) -> bool) -> bool {
    f.iter().any(|&(o, a)| a == Access::Write && kind(o >> 56))
        && f.iter().any(|&(o, _)| o >> 56 == WAITING)
}

/// A [`Lie`]: `spin_lock()`'s acquire attempts declare no RCU state (as a sleeping lock's do).
fn spin_lock_rcu_dropped(f: &mut Vec<(u64, Access)>) {
    if acquires(f, |t| (1..=8).contains(&t)) {
        f.retain(|&(o, a)| !(a == Access::Write && [RCU_NESTING, RCU_READER].contains(&(o >> 56))));
    }
}

/// A [`Lie`]: a sleeping lock's acquire attempts (`mutex_lock()`, `folio_lock()`) declare no
/// write of the lock.
fn sleeping_lock_write_dropped(f: &mut Vec<(u64, Access)>) {
    if acquires(f, |t| (9..=12).contains(&t)) {
        f.retain(|&(o, a)| !(a == Access::Write && (9..=12).contains(&(o >> 56))));
    }
}

/// With spinlocks RCU readers (the default), `spin_lock()`'s declaration of this CPU's RCU
/// state is load-bearing: a sleeping lock declares none (it changes none), and with the
/// spinlock's left out too, some spinlock taken from outside any read-side section and another
/// CPU's `synchronize_rcu()` (whose snapshot reads every CPU's reader state) are called
/// independent and do not commute: the grace period waits for the new reader in one order
/// only.
#[test]
fn a_spin_lock_without_its_rcu_write_does_not_commute() {
    let err = check_two_swapoffs(spin_lock_rcu_dropped).expect_err("the lie is seen");
    assert!(err.contains("do not commute"), "{err}");
}

/// Whether a footprint is an acquire attempt of a sleeping lock.
fn acquires_sleeping(f: &[(u64, Access)]) -> bool {
    acquires(f, |t| (9..=12).contains(&t))
}

/// Whether a footprint is an acquire attempt of any lock.
fn acquires_any(f: &[(u64, Access)]) -> bool {
    acquires(f, |t| (1..=12).contains(&t))
}

/// Every program of [`check`] and [`TWO_SWAPOFFS`], on every kernel of [`check`] and on v6.8
/// with spinlocks not RCU readers, `seeds` random runs each, every eligible pair at the points
/// where the run's step passes `focus` (the first 30 pairs a run of [`check`] rarely reach
/// them); with `preempted`, also in each run preempted once at one of the random run's points
/// and then staying on the other task, at the points whose step passes `preempted`.
fn check_focused(
    lie: Lie,
    seeds: u64,
    focus: Focus,
    preempted: Option<Focus>,
) -> Result<usize, String> {
    quiet_panics();
    let mut programs = programs();
    programs.push((
        "two swapoffs".to_string(),
        swapfuzz::program::text::parse(TWO_SWAPOFFS)
            .unwrap()
            .program,
    ));
    let mut kernels = configs();
    kernels.push((
        "buggy, spinlocks not RCU readers".to_string(),
        swapfuzz::check::config::model(PatchSet::base()).rcu_spinlocks(false),
    ));
    let mut tried = 0;
    for (name, p) in &programs {
        for (kernel, c) in &kernels {
            for seed in 0..seeds {
                let base = run(p, *c, Vec::new(), seed, true);
                tried += try_pairs_at(p, *c, &base, seed, lie, usize::MAX, focus)
                    .map_err(|e| format!("{name} on {kernel}: {e}"))?;
                let Some(preempted) = preempted else {
                    continue;
                };
                tried += try_pairs_preempted_once(p, *c, &base, seed, lie, preempted)
                    .map_err(|e| format!("{name} on {kernel}: {e}"))?;
            }
        }
    }
    Ok(tried)
}

/// Lock acquire attempts commute where their footprints say they do: a sleeping lock's
/// (`mutex_lock()`, `folio_lock()`) declares the lock's entry and no RCU state (neither
/// changes any), a spinlock's declares the CPU's RCU state only when spinlocks are RCU readers
/// (with them not, `spin_lock()` changes none either), e.g. beside another CPU's
/// `synchronize_rcu()`, whose snapshot reads every CPU's reader state.
#[test]
fn lock_acquires_commute() {
    let tried = check_focused(|_| {}, SEEDS, acquires_any, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(tried > 800 * SEEDS as usize, "{tried} pairs tried");
}

/// What a sleeping lock's acquire attempt still declares, the lock's entry, is load-bearing:
/// left out, an acquire and another CPU's `folio_trylock()` of the same folio (reclaim,
/// `__try_to_reclaim_swap()`) are called independent and do not commute: whoever runs first
/// takes the lock.
#[test]
fn a_sleeping_lock_without_its_lock_write_does_not_commute() {
    let err = check_focused(sleeping_lock_write_dropped, SEEDS, acquires_sleeping, None)
        .expect_err("the lie is seen");
    assert!(err.contains("do not commute"), "{err}");
}

/// `Touch::ShmemSlot`'s tag (src/model/context.rs).
const SHMEM_SLOT: u64 = 53;

/// Whether a footprint is `shmem_free_swap()`'s compare-and-exchange that took the swap entry
/// out of the tmpfs slot: it writes a slot and touches nothing else (every other writer of a
/// slot also writes the folio it adds or removes).
fn frees_shmem_slot(f: &[(u64, Access)]) -> bool {
    f.iter()
        .any(|&(o, a)| a == Access::Write && o >> 56 == SHMEM_SLOT)
        && f.iter().all(|&(o, _)| o >> 56 == SHMEM_SLOT)
}

/// A [`Lie`]: `shmem_free_swap()`'s compare-and-exchange declares nothing (independent of
/// every step).
fn shmem_free_swap_declares_nothing(f: &mut Vec<(u64, Access)>) {
    if frees_shmem_slot(f) {
        f.clear();
    }
}

/// shmem's truncate against swapoff ([`common::FOOTPRINT_PROGRAMS`]) on v6.8 and on the fixed
/// kernel, in every schedule of two runs: CPU `x` alone for its first `k` points, then CPU `y`
/// as long as it can run, then seeded choices, for every `k` (so that each step of `x` is
/// beside each step of `y` the other order leaves next, e.g. swapoff's `shmem_unuse()` walk
/// beside truncate's `shmem_free_swap()`, which random runs never put side by side); every
/// eligible pair at the points whose step passes `focus`.
fn check_truncate_swapoff(lie: Lie, focus: fn(&[(u64, Access)]) -> bool) -> Result<usize, String> {
    quiet_panics();
    let p = swapfuzz::program::text::parse(common::FOOTPRINT_PROGRAMS[1])
        .unwrap()
        .program;
    // Tasks 1 and 2 are the program's two CPUs (task 0 runs the set-up).
    let mut tried = 0;
    for (kernel, c) in configs().into_iter().take(2) {
        for (x, y) in [(2, 1), (1, 2)] {
            let alone = run_on(&p, c, vec![x], 0, false, true).recs.len();
            for k in 0..alone {
                let plan = [vec![x; k], vec![y]].concat();
                let base = run_on(&p, c, plan, 0, false, true);
                tried += try_pairs_at(&p, c, &base, 0, lie, usize::MAX, focus)
                    .map_err(|e| format!("truncate against swapoff on {kernel}: {e}"))?;
            }
        }
    }
    Ok(tried)
}

/// `shmem_free_swap()`'s `xa_cmpxchg_irq()` (a read of the tmpfs slot, and a write when it
/// still holds the entry) commutes where it says it does: with every step that touches
/// neither the slot nor anything else it declares.
#[test]
fn shmem_free_swap_commutes() {
    let tried = check_focused(|_| {}, SEEDS, frees_shmem_slot, Some(frees_shmem_slot))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(tried > 20 * SEEDS as usize, "{tried} pairs tried");
    let tried = check_truncate_swapoff(|_| {}, frees_shmem_slot).unwrap_or_else(|e| panic!("{e}"));
    assert!(tried > 50, "{tried} pairs tried");
}

/// Its declaration is load-bearing: declaring nothing, the compare-and-exchange and a reader
/// of the slot on another CPU (swapoff's `shmem_unuse()` walk, a swap-in's
/// `filemap_get_entry()`) are called independent and do not commute: the reader sees the swap
/// entry in one order and an empty slot in the other.
#[test]
fn a_shmem_free_swap_declaring_nothing_does_not_commute() {
    let err = check_truncate_swapoff(shmem_free_swap_declares_nothing, frees_shmem_slot)
        .expect_err("the lie is seen");
    assert!(err.contains("do not commute"), "{err}");
}

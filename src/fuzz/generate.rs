//! A biased generator and structured mutator of (program, schedule) pairs, for [`mod@super::hunt`].
//!
//! Swarm testing (as in wasmtime's `Swarm`): each generated program enables a random subset of
//! the operation kinds, so that some programs are dense in a few kinds instead of every program
//! being a thin mix of all of them. On top of that, most set-ups start with `swapon` and create
//! swap state (a tmpfs page written and written back, or an anon page swapped out and sometimes
//! dropped from the swap cache), since every swap race needs a device with entries in use.
//!
//! Locality: a program is about one page, its *focus* (an anon page or a tmpfs page): the
//! set-up swaps it out first, and most operations name it, so that two CPUs meet on one swap
//! entry (every race of the catalogue is two paths on one entry). Each CPU has a role: a *user*
//! of the focus page runs operations that make sense in the page's state as that CPU last left
//! it (a swap-in of a swapped page, a store to a present one, a swap-out of a stored one: a
//! small state machine, as stateful API fuzzers track their resources), a *swapper* runs
//! `swapoff` first, and the rest draw swarm kinds. Every kind stays reachable everywhere.

use super::rng::Rng;
use crate::engine::STAY_THRESHOLD;
use crate::program::ops::Arg;
use crate::program::ops::{KINDS, NR_KINDS, op_bytes, op_of};
use crate::program::{MAX_CPUS, MAX_OPS};
use crate::program::{Op, Program};

/// Longest schedule the generator makes.
pub const MAX_SCHEDULE: usize = 256;

/// The kinds a program may use (swarm testing): a bit per kind, in [`Op`]'s order.
#[derive(Clone, Copy, Debug)]
struct Swarm(u32);

impl Swarm {
    fn random(rng: &mut Rng) -> Self {
        loop {
            let bits = (rng.next_u64() & ((1 << NR_KINDS) - 1)) as u32;
            if bits != 0 {
                return Swarm(bits);
            }
        }
    }

    fn kind(self, rng: &mut Rng) -> u8 {
        let kinds: Vec<u8> = (0..NR_KINDS as u8)
            .filter(|k| self.0 & (1 << k) != 0)
            .collect();
        *rng.pick(&kinds)
    }
}

/// A small field byte most of the time (objects are named modulo what exists), any byte else.
fn field(rng: &mut Rng) -> u8 {
    if rng.chance(7, 8) {
        rng.below(3) as u8
    } else {
        rng.byte()
    }
}

/// A random operation of kind `kind`.
fn op_of_kind(rng: &mut Rng, kind: u8) -> Op {
    op_of(kind, field(rng), field(rng), field(rng))
}

/// A random operation of any kind.
pub fn random_op(rng: &mut Rng) -> Op {
    let kind = rng.below(NR_KINDS) as u8;
    op_of_kind(rng, kind)
}

/// The page a program is about (locality): its operations name it most of the time.
#[derive(Clone, Copy, Debug)]
struct Focus {
    /// An anon page (`mm`, `pte`) rather than a tmpfs page (`file`, `index`).
    anon: bool,
    mm: u8,
    pte: u8,
    file: u8,
    index: u8,
}

impl Focus {
    fn random(rng: &mut Rng) -> Self {
        Focus {
            anon: rng.chance(1, 2),
            mm: if rng.chance(3, 4) { 0 } else { field(rng) },
            pte: field(rng),
            file: field(rng),
            index: field(rng),
        }
    }

    /// The page named by a random operation of `p` (fields of anon and tmpfs pages picked
    /// separately), for a mutation that adds an operation on a page the program already uses.
    fn of(rng: &mut Rng, p: &Program) -> Self {
        let mut f = Focus::random(rng);
        let ops: Vec<&Op> = p.setup.iter().chain(p.cpus.iter().flatten()).collect();
        let anon: Vec<(u8, u8)> = ops.iter().filter_map(|op| anon_page(op)).collect();
        let shmem: Vec<(u8, u8)> = ops.iter().filter_map(|op| shmem_page(op)).collect();
        if !anon.is_empty() {
            (f.mm, f.pte) = *rng.pick(&anon);
        }
        if !shmem.is_empty() {
            (f.file, f.index) = *rng.pick(&shmem);
        }
        f
    }
}

/// The anon page an operation names, if any.
fn anon_page(op: &Op) -> Option<(u8, u8)> {
    match *op {
        Op::SwapOut { mm, pte }
        | Op::SwapIn { mm, pte, .. }
        | Op::Zap { mm, pte }
        | Op::Willneed { mm, pte }
        | Op::Read { mm, pte }
        | Op::Write { mm, pte } => Some((mm, pte)),
        _ => None,
    }
}

/// The tmpfs page an operation names, if any.
fn shmem_page(op: &Op) -> Option<(u8, u8)> {
    match *op {
        Op::ShmemWrite { file, index }
        | Op::ShmemWritepage { file, index }
        | Op::Mincore { file, index }
        | Op::ShmemRead { file, index } => Some((file, index)),
        _ => None,
    }
}

/// An operation of kind `kind` that names the focus page 3 times in 4 (each page field).
fn op_near(rng: &mut Rng, kind: u8, focus: &Focus) -> Op {
    let mut f = [0u8; 3];
    for (i, arg) in KINDS[kind as usize % NR_KINDS].args.iter().enumerate() {
        f[i] = match arg {
            Arg::Mm if rng.chance(3, 4) => focus.mm,
            Arg::Pte if rng.chance(3, 4) => focus.pte,
            Arg::File if rng.chance(3, 4) => focus.file,
            Arg::Index if rng.chance(3, 4) => focus.index,
            Arg::Dev if rng.chance(3, 4) => 0,
            _ => field(rng),
        };
    }
    op_of(kind, f[0], f[1], f[2])
}

/// The focus page's state as one CPU sees it (its own operations since the set-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Page {
    /// Mapped (anon) or in the page cache (tmpfs).
    Present,
    /// Swapped out, the folio still in the swap cache.
    SwapCached,
    /// Swapped out, only the slot holds it.
    Swapped,
    /// Not there (no swap state made, zapped, truncated).
    Gone,
}

/// A user's next operation on the focus page: one that makes sense in state `page`, which it
/// updates.
fn user_op(rng: &mut Rng, focus: &Focus, page: &mut Page) -> Op {
    let (mm, pte, file, index) = (focus.mm, focus.pte, focus.file, focus.index);
    let (op, next) = match (focus.anon, *page) {
        (_, Page::Gone) => {
            let kind = rng.below(NR_KINDS) as u8;
            return op_near(rng, kind, focus);
        }
        // A present page is mostly stored to and swapped out (what gives reclaim its work).
        (true, Page::Present) => *rng.pick(&[
            (Op::Write { mm, pte }, Page::Present),
            (Op::Write { mm, pte }, Page::Present),
            (Op::Read { mm, pte }, Page::Present),
            (Op::SwapOut { mm, pte }, Page::SwapCached),
            (Op::SwapOut { mm, pte }, Page::SwapCached),
            (Op::Zap { mm, pte }, Page::Gone),
        ]),
        (true, swapped) => {
            let write = rng.chance(1, 2);
            let mut ops = vec![
                (Op::SwapIn { mm, pte, write }, Page::Present),
                (Op::Read { mm, pte }, Page::Present),
                (Op::Write { mm, pte }, Page::Present),
                (Op::Willneed { mm, pte }, Page::SwapCached),
                (Op::Zap { mm, pte }, Page::Gone),
            ];
            if swapped == Page::SwapCached {
                let offset = field(rng);
                ops.push((Op::Reclaim { dev: 0, offset }, Page::Swapped));
            }
            *rng.pick(&ops)
        }
        (false, Page::Present) => *rng.pick(&[
            (Op::ShmemWrite { file, index }, Page::Present),
            (Op::ShmemRead { file, index }, Page::Present),
            (Op::ShmemWritepage { file, index }, Page::SwapCached),
            (Op::Mincore { file, index }, Page::Present),
            (Op::ShmemTruncate { file }, Page::Gone),
        ]),
        (false, _) => *rng.pick(&[
            (Op::ShmemRead { file, index }, Page::Present),
            (Op::ShmemWrite { file, index }, Page::Present),
            (Op::Mincore { file, index }, *page),
            (Op::ShmemTruncate { file }, Page::Gone),
        ]),
    };
    *page = next;
    op
}

/// Set-up ops that swap the focus page out (the device must exist: `swapon` first); its state
/// after them.
fn swap_out_focus(rng: &mut Rng, focus: &Focus, setup: &mut Vec<Op>) -> Page {
    let Focus {
        mm,
        pte,
        file,
        index,
        ..
    } = *focus;
    if !focus.anon {
        setup.push(Op::ShmemWrite { file, index });
        setup.push(Op::ShmemWritepage { file, index });
        return Page::SwapCached;
    }
    let pages = field(rng);
    let huge = rng.chance(1, 4);
    setup.push(Op::Mmap { pages, huge });
    setup.push(Op::SwapOut { mm, pte });
    // Most swapped-out pages are no longer in the swap cache: a swap-in then reads the slot
    // (and on a synchronous-I/O device skips the swap cache, races 3 and 5).
    let page = if rng.chance(2, 3) {
        setup.push(Op::Reclaim { dev: 0, offset: 0 });
        Page::Swapped
    } else {
        Page::SwapCached
    };
    if rng.chance(1, 4) {
        setup.push(Op::Fork { mm });
    }
    page
}

/// Set-up ops that put other entries on the swap device.
fn swap_state(rng: &mut Rng, setup: &mut Vec<Op>) {
    let (a, b) = (field(rng), field(rng));
    if rng.chance(1, 2) {
        setup.push(Op::ShmemWrite { file: a, index: b });
        setup.push(Op::ShmemWritepage { file: a, index: b });
    } else {
        let huge = rng.chance(1, 4);
        setup.push(Op::Mmap { pages: a, huge });
        setup.push(Op::SwapOut { mm: 0, pte: b });
        if rng.chance(1, 3) {
            setup.push(Op::Reclaim { dev: 0, offset: 0 });
        }
        if rng.chance(1, 3) {
            setup.push(Op::Fork { mm: 0 });
        }
    }
}

/// What a CPU of a generated program runs.
#[derive(Clone, Copy, Debug)]
enum Role {
    /// Operations on the focus page, each valid in the state the CPU's last one left it.
    User,
    /// `swapoff` first (sometimes a `swapon` after it), then swarm kinds.
    Swapper,
    /// Swarm kinds, on the focus page most of the time.
    Swarm,
}

/// The generator's programs by seed (0, 1, ...) that have 2 or 3 CPUs and at most 8 operations
/// in all, with their seed and operation count: small enough for exhaustive searches (the
/// state cache's tests take the first few).
pub fn small_programs() -> impl Iterator<Item = (u64, Program, usize)> {
    (0..).filter_map(|seed| {
        let p = program(&mut Rng::new(seed));
        let ops: usize = p.cpus.iter().map(Vec::len).sum();
        ((2..=3).contains(&p.cpus.len()) && ops <= 8).then_some((seed, p, ops))
    })
}

/// A fresh program: a set-up that usually swaps the focus page out, and CPUs in roles.
pub fn program(rng: &mut Rng) -> Program {
    let swarm = Swarm::random(rng);
    let focus = Focus::random(rng);
    let mut setup = Vec::new();
    // 7 in 8 set-ups turn swap on; half of those with a synchronous-I/O (zram-like) device.
    let mut page = Page::Gone;
    if rng.below(8) < 7 {
        setup.push(if rng.chance(1, 2) {
            Op::SwaponSync
        } else {
            Op::Swapon
        });
        page = swap_out_focus(rng, &focus, &mut setup);
        for _ in 0..rng.below(2) {
            swap_state(rng, &mut setup);
        }
    }
    for _ in 0..rng.below(3) {
        let op = if rng.chance(1, 2) {
            let kind = swarm.kind(rng);
            op_near(rng, kind, &focus)
        } else {
            random_op(rng)
        };
        setup.insert(rng.below(setup.len() + 1), op);
    }
    setup.truncate(MAX_OPS);
    let nr_cpus = if rng.chance(3, 4) {
        2
    } else {
        rng.range(2, MAX_CPUS)
    };
    let cpus = (0..nr_cpus)
        .map(|_| {
            let n = if rng.chance(1, 2) { 1 } else { rng.range(2, 3) };
            let role = *rng.pick(&[Role::User, Role::User, Role::Swapper, Role::Swarm]);
            let mut mine = page;
            (0..n)
                .map(|i| match role {
                    Role::User => user_op(rng, &focus, &mut mine),
                    Role::Swapper if i == 0 => Op::Swapoff { dev: 0 },
                    Role::Swapper if i == 1 && rng.chance(1, 2) => {
                        *rng.pick(&[Op::Swapon, Op::SwaponSync])
                    }
                    Role::Swapper | Role::Swarm => {
                        let kind = swarm.kind(rng);
                        op_near(rng, kind, &focus)
                    }
                })
                .collect()
        })
        .collect();
    Program { setup, cpus }
}

/// A byte that preempts the current task (switches to another runnable one).
fn preempt(rng: &mut Rng) -> u8 {
    rng.below(STAY_THRESHOLD as usize) as u8
}

/// A fresh schedule. Mostly sparse: a few random bytes at the start (the first decisions are
/// which CPU starts), one or two preemptions at random decisions, and a long tail of "stay"
/// bytes so that the CPU switched to runs on (a race window is often long: a whole swapoff).
/// Sometimes dense random bytes, sometimes empty (the engine's fair fallback).
pub fn schedule(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => Vec::new(),
        1 => (0..rng.below(64)).map(|_| rng.byte()).collect(),
        2 => {
            let len = rng.range(16, MAX_SCHEDULE);
            (0..len)
                .map(|_| {
                    if rng.chance(1, 16) {
                        preempt(rng)
                    } else {
                        0xFF
                    }
                })
                .collect()
        }
        _ => {
            let len = rng.range(64, MAX_SCHEDULE);
            let mut s = vec![0xFF; len];
            for b in s.iter_mut().take(rng.below(4)) {
                *b = rng.byte();
            }
            for _ in 0..rng.range(1, 2) {
                let at = rng.below(len.min(160));
                s[at] = preempt(rng);
            }
            s
        }
    }
}

/// How promising a program looks for a swap race, 0–4: the set-up turns swap on and puts
/// entries on it, and one CPU runs `swapoff` while another drops swap entries. Used to spend
/// more mutations on promising corpus entries; every program still runs.
pub fn promise(p: &Program) -> usize {
    let swapon = p
        .setup
        .iter()
        .position(|op| matches!(op, Op::Swapon | Op::SwaponSync));
    let state = swapon.is_some_and(|at| {
        p.setup[at..]
            .iter()
            .any(|op| matches!(op, Op::ShmemWritepage { .. } | Op::SwapOut { .. }))
    });
    let swapoff = |ops: &Vec<Op>| ops.iter().any(|op| matches!(op, Op::Swapoff { .. }));
    let drops = |ops: &Vec<Op>| {
        ops.iter().any(|op| {
            matches!(
                op,
                Op::ShmemTruncate { .. }
                    | Op::ShmemRead { .. }
                    | Op::Willneed { .. }
                    | Op::Exit { .. }
                    | Op::Zap { .. }
                    | Op::Reclaim { .. }
                    | Op::SwapIn { write: true, .. }
            )
        })
    };
    let race = p
        .cpus
        .iter()
        .enumerate()
        .any(|(i, a)| swapoff(a) && p.cpus.iter().enumerate().any(|(j, b)| i != j && drops(b)));
    usize::from(swapon.is_some()) + usize::from(state) + 2 * usize::from(race)
}

/// The state `op` leaves `page` in, if it names it (anon pages and tmpfs pages as
/// [`user_op`] moves them), for [`extend`].
fn page_after(op: &Op, focus: &Focus, page: Page) -> Page {
    if focus.anon {
        if anon_page(op) != Some((focus.mm, focus.pte)) {
            // Reclaim drops swapped-out folios from the swap cache, whichever page it names.
            return match (op, page) {
                (Op::Reclaim { .. }, Page::SwapCached) => Page::Swapped,
                _ => page,
            };
        }
        return match (op, page) {
            (Op::SwapOut { .. }, Page::Present) => Page::SwapCached,
            (Op::SwapOut { .. }, p) => p,
            (Op::Zap { .. }, _) => Page::Gone,
            (Op::Willneed { .. }, Page::Swapped) => Page::SwapCached,
            (Op::Willneed { .. }, p) => p,
            _ => Page::Present,
        };
    }
    match *op {
        Op::ShmemTruncate { file } if file == focus.file => Page::Gone,
        _ if shmem_page(op) != Some((focus.file, focus.index)) => page,
        Op::ShmemWritepage { .. } if page == Page::Present => Page::SwapCached,
        Op::Mincore { .. } | Op::ShmemWritepage { .. } => page,
        _ => Page::Present,
    }
}

/// Appends to one CPU an operation on a page the program names, valid in the state the set-up
/// and that CPU's operations leave the page in ([`user_op`]'s state machine): a mutation that
/// makes one CPU go on with a page that others touch too (every race of the catalogue is two
/// paths on one entry; one of them is often a sequence, such as a fault, a store and a
/// swap-out).
fn extend(rng: &mut Rng, p: &mut Program) {
    let ops: Vec<&Op> = p.setup.iter().chain(p.cpus.iter().flatten()).collect();
    let anon: Vec<(u8, u8)> = ops.iter().filter_map(|op| anon_page(op)).collect();
    let shmem: Vec<(u8, u8)> = ops.iter().filter_map(|op| shmem_page(op)).collect();
    let mut focus = Focus::random(rng);
    focus.anon = match (anon.is_empty(), shmem.is_empty()) {
        (false, false) => rng.chance(1, 2),
        (a, _) => !a,
    };
    if focus.anon && !anon.is_empty() {
        (focus.mm, focus.pte) = *rng.pick(&anon);
    } else if !shmem.is_empty() {
        (focus.file, focus.index) = *rng.pick(&shmem);
    }
    let cpu = rng.below(p.cpus.len());
    if p.cpus[cpu].len() >= MAX_OPS {
        return;
    }
    // An anon page is there once mapped (the generator's set-ups swap mapped pages out).
    let mapped = p.setup.iter().any(|op| matches!(op, Op::Mmap { .. }));
    let mut page = if focus.anon && mapped {
        Page::Present
    } else {
        Page::Gone
    };
    for op in p.setup.iter().chain(&p.cpus[cpu]) {
        page = page_after(op, &focus, page);
    }
    let op = user_op(rng, &focus, &mut page);
    p.cpus[cpu].push(op);
}

/// Mutates a program in place as [`mod@super::hunt`] does: one time in 4 it appends to one CPU
/// an operation on a page the program names, valid in the state the set-up and that CPU's own
/// operations leave the page in, else [`mutate_program`].
pub fn mutate_program_extending(rng: &mut Rng, p: &mut Program) {
    if rng.chance(1, 4) {
        extend(rng, p);
    } else {
        mutate_program(rng, p);
    }
}

/// Mutates a program in place: one structural or field change, keeping it decodable (the
/// mutation of [`hunt_classic`](super::hunt_classic), unchanged since).
pub fn mutate_program(rng: &mut Rng, p: &mut Program) {
    let nr = p.cpus.len();
    // Half the new operations name a page the program already uses (locality).
    let focus = Focus::of(rng, p);
    let new_op = |rng: &mut Rng| {
        if rng.chance(1, 2) {
            let kind = rng.below(NR_KINDS) as u8;
            op_near(rng, kind, &focus)
        } else {
            random_op(rng)
        }
    };
    // List 0 is the set-up, 1.. the CPUs.
    let list = rng.below(nr + 1);
    let ops = if list == 0 {
        &mut p.setup
    } else {
        &mut p.cpus[list - 1]
    };
    let min = usize::from(list != 0);
    match rng.below(6) {
        0 if ops.len() < MAX_OPS => ops.insert(rng.below(ops.len() + 1), new_op(rng)),
        1 if ops.len() > min => {
            ops.remove(rng.below(ops.len()));
        }
        2 if !ops.is_empty() => {
            let at = rng.below(ops.len());
            let (kind, mut f) = op_bytes(&ops[at]);
            f[rng.below(3)] = field(rng);
            ops[at] = op_of(kind, f[0], f[1], f[2]);
        }
        3 if nr < MAX_CPUS => p.cpus.push(vec![new_op(rng)]),
        4 if nr > 2 => {
            p.cpus.remove(rng.below(nr));
        }
        _ if !ops.is_empty() => {
            let at = rng.below(ops.len());
            ops[at] = new_op(rng);
        }
        _ => ops.push(new_op(rng)),
    }
}

/// Mutates schedule bytes in place: move, add or drop a preemption, or change a byte.
pub fn mutate_schedule(rng: &mut Rng, s: &mut Vec<u8>) {
    if s.is_empty() || rng.chance(1, 8) {
        let len = (s.len() + rng.range(1, 32)).min(MAX_SCHEDULE);
        s.resize(len, 0xFF);
    }
    let at = rng.below(s.len());
    match rng.below(7) {
        0 => s[at] = preempt(rng),
        1 => s[at] = 0xFF,
        2 => s[at] = rng.byte(),
        3 | 4 => {
            // Move the preemption nearest `at` by a few decisions.
            if let Some(from) = (at..s.len()).find(|&i| s[i] < STAY_THRESHOLD) {
                let to = (from + rng.range(0, 8)).saturating_sub(4).min(s.len() - 1);
                s.swap(from, to);
            }
        }
        5 => {
            let first = rng.below(s.len().min(4));
            s[first] = rng.byte();
        }
        _ => s.truncate(at.max(1)),
    }
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;

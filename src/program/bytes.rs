//! The one input format of every fuzzer of swapfuzz: bytes → a [`Program`] and schedule bytes.
//!
//! # Byte layout
//!
//! ```text
//! data[0]            n = length of the workload part
//! data[1 .. 1+n]     workload (below); cut short if data is shorter
//! data[1+n ..]       schedule bytes for the engine's ByteScheduler
//!
//! workload:
//!   w[0]             number of CPUs   = 2 + w[0] % 3           (2..=MAX_CPUS)
//!   w[1]             set-up length    = w[1] % (MAX_OPS + 1)   (0..=MAX_OPS)
//!   w[2 .. 2+c]      CPU i's length   = 1 + w[2+i] % MAX_OPS   (1..=MAX_OPS), one byte per CPU
//!   then 4 bytes per operation, set-up first, then CPU 0, CPU 1, …:
//!     tag  a  b  c   kind = SETUP_KINDS[tag] or CPU_KINDS[tag] (a 256-entry weighted table)
//!                    fields in declaration order, each one byte: a, b, c
//!                    (u8 fields taken as is, bool fields = byte & 1; unused bytes ignored)
//! ```
//!
//! Every byte string decodes, and nothing is an error: a byte past the end of the workload reads
//! as 0 (so an empty input is two CPUs that each run `swapon`), as `arbitrary` does with its
//! "defaults beat errors" rule. Fixed-width operation records keep mutations local: changing one
//! byte changes one field of one operation, and the schedule part never reshapes the workload.
//!
//! The tag tables are weighted (swarm-style) towards what the swap races need: the set-up
//! favours `swapon` and ops that create swap state (`shmem-write`, `shmem-writepage`, `mmap`,
//! `swapout`), the CPUs favour `swapoff`, `shmem-truncate`, `exit`; every kind stays reachable
//! from both tables.

use crate::model::{Op, Program};
use crate::program::{MAX_CPUS, MAX_OPS};

/// Number of operation kinds ([`Op`]'s variants).
pub const NR_KINDS: usize = 12;

/// Bytes per operation record.
pub const OP_BYTES: usize = 4;

/// Weights (summing to 256) of each kind, in [`Op`]'s declaration order, for set-up operations.
const SETUP_WEIGHTS: [u16; NR_KINDS] = [40, 8, 24, 12, 28, 12, 12, 12, 8, 40, 44, 16];
/// Weights (summing to 256) of each kind for the CPUs' operations.
const CPU_WEIGHTS: [u16; NR_KINDS] = [12, 48, 8, 12, 20, 16, 20, 20, 32, 12, 16, 40];

/// A 256-entry table tag → kind from weights.
const fn table(weights: [u16; NR_KINDS]) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut kind = 0;
    let mut at = 0;
    while kind < NR_KINDS {
        let mut w = 0;
        while w < weights[kind] {
            t[at] = kind as u8;
            at += 1;
            w += 1;
        }
        kind += 1;
    }
    assert!(at == 256, "weights must sum to 256");
    t
}

/// Tag byte → kind for set-up operations.
pub const SETUP_KINDS: [u8; 256] = table(SETUP_WEIGHTS);
/// Tag byte → kind for CPU operations.
pub const CPU_KINDS: [u8; 256] = table(CPU_WEIGHTS);

/// A decoded input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The workload.
    pub program: Program,
    /// The bytes that drive the scheduler.
    pub schedule: Vec<u8>,
}

/// Reads bytes, 0 past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn op(&mut self, kinds: &[u8; 256]) -> Op {
        let kind = kinds[self.byte() as usize];
        let [a, b, c] = [self.byte(), self.byte(), self.byte()];
        op_of(kind, a, b, c)
    }
}

/// The operation of kind `kind` (index in [`Op`]'s declaration order) with field bytes `a, b, c`.
pub fn op_of(kind: u8, a: u8, b: u8, c: u8) -> Op {
    match kind as usize % NR_KINDS {
        0 => Op::Swapon,
        1 => Op::Swapoff { dev: a },
        2 => Op::Mmap {
            pages: a,
            huge: b & 1 == 1,
        },
        3 => Op::Fork { mm: a },
        4 => Op::SwapOut { mm: a, pte: b },
        5 => Op::Reclaim { dev: a, offset: b },
        6 => Op::SwapIn {
            mm: a,
            pte: b,
            write: c & 1 == 1,
        },
        7 => Op::Zap { mm: a, pte: b },
        8 => Op::Exit { mm: a },
        9 => Op::ShmemWrite { file: a, index: b },
        10 => Op::ShmemWritepage { file: a, index: b },
        _ => Op::ShmemTruncate { file: a },
    }
}

/// The kind and field bytes of `op`: the inverse of [`op_of`].
pub fn op_bytes(op: &Op) -> (u8, [u8; 3]) {
    match *op {
        Op::Swapon => (0, [0, 0, 0]),
        Op::Swapoff { dev } => (1, [dev, 0, 0]),
        Op::Mmap { pages, huge } => (2, [pages, huge.into(), 0]),
        Op::Fork { mm } => (3, [mm, 0, 0]),
        Op::SwapOut { mm, pte } => (4, [mm, pte, 0]),
        Op::Reclaim { dev, offset } => (5, [dev, offset, 0]),
        Op::SwapIn { mm, pte, write } => (6, [mm, pte, write.into()]),
        Op::Zap { mm, pte } => (7, [mm, pte, 0]),
        Op::Exit { mm } => (8, [mm, 0, 0]),
        Op::ShmemWrite { file, index } => (9, [file, index, 0]),
        Op::ShmemWritepage { file, index } => (10, [file, index, 0]),
        Op::ShmemTruncate { file } => (11, [file, 0, 0]),
    }
}

/// Splits `data` into its workload and schedule parts (see the module's byte layout).
pub fn split(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (&[], &[]);
    };
    rest.split_at((n as usize).min(rest.len()))
}

/// Decodes any byte string into a valid program and schedule; never fails.
pub fn decode(data: &[u8]) -> Decoded {
    let (workload, schedule) = split(data);
    let mut r = Reader {
        bytes: workload,
        pos: 0,
    };
    let nr_cpus = 2 + r.byte() as usize % (MAX_CPUS - 1);
    let setup_len = r.byte() as usize % (MAX_OPS + 1);
    let lens: Vec<usize> = (0..nr_cpus)
        .map(|_| 1 + r.byte() as usize % MAX_OPS)
        .collect();
    let setup = (0..setup_len).map(|_| r.op(&SETUP_KINDS)).collect();
    let cpus = lens
        .iter()
        .map(|&n| (0..n).map(|_| r.op(&CPU_KINDS)).collect())
        .collect();
    Decoded {
        program: Program { setup, cpus },
        schedule: schedule.to_vec(),
    }
}

/// The first tag byte that `kinds` maps to `kind`.
fn tag_of(kinds: &[u8; 256], kind: u8) -> u8 {
    kinds
        .iter()
        .position(|&k| k == kind)
        .expect("every kind has a tag") as u8
}

/// Encodes `program` and `schedule` in the layout that [`decode`] reads (see the module docs):
/// `decode(&encode(p, s))` gives back `p` and `s` exactly.
///
/// A program outside the decodable shapes is clamped first, as [`decode`] would see it: the
/// set-up is cut to [`MAX_OPS`] operations, the CPUs to [`MAX_CPUS`] (and padded to 2 with
/// `swapon`), each CPU's list to 1..=[`MAX_OPS`] operations (an empty one gets a `swapon`).
pub fn encode(program: &Program, schedule: &[u8]) -> Vec<u8> {
    let p = clamp(program);
    let mut w = Vec::with_capacity(2 + MAX_CPUS + OP_BYTES * MAX_OPS * (MAX_CPUS + 1));
    w.push((p.cpus.len() - 2) as u8);
    w.push(p.setup.len() as u8);
    w.extend(p.cpus.iter().map(|ops| (ops.len() - 1) as u8));
    let mut push = |kinds: &[u8; 256], op: &Op| {
        let (kind, fields) = op_bytes(op);
        w.push(tag_of(kinds, kind));
        w.extend(fields);
    };
    p.setup.iter().for_each(|op| push(&SETUP_KINDS, op));
    p.cpus.iter().flatten().for_each(|op| push(&CPU_KINDS, op));
    let mut out = Vec::with_capacity(1 + w.len() + schedule.len());
    out.push(u8::try_from(w.len()).expect("the workload fits in 255 bytes"));
    out.extend(w);
    out.extend_from_slice(schedule);
    out
}

/// `program` cut to the shapes [`decode`] produces.
pub fn clamp(program: &Program) -> Program {
    let mut p = program.clone();
    p.setup.truncate(MAX_OPS);
    p.cpus.truncate(MAX_CPUS);
    while p.cpus.len() < 2 {
        p.cpus.push(vec![Op::Swapon]);
    }
    for ops in &mut p.cpus {
        ops.truncate(MAX_OPS);
        if ops.is_empty() {
            ops.push(Op::Swapon);
        }
    }
    p
}

#[cfg(test)]
#[path = "bytes_tests.rs"]
mod tests;

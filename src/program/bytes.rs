//! The byte codec of programs: the one input format of every fuzzer of swapfuzz, bytes → a
//! [`Program`] and schedule bytes, and back.
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
//!                    fields = the kind's arguments in order, each one byte: a, b, c
//!                    (numbers taken as is, flags = byte & 1; unused bytes ignored)
//! ```
//!
//! Every byte string decodes, and nothing is an error: a byte past the end of the workload reads
//! as 0 (so an empty input is two CPUs that each run `swapon`), as `arbitrary` does with its
//! "defaults beat errors" rule. Fixed-width operation records keep mutations local: changing one
//! byte changes one field of one operation, and the schedule part never reshapes the workload.
//!
//! Kinds, their fields and the weights of the tag tables come from the table of operation
//! kinds, [`super::ops::KINDS`].

use super::ops::{KINDS, NR_KINDS, op_bytes, op_of};
use super::{MAX_CPUS, MAX_OPS, Op, Program};

/// Bytes per operation record.
pub const OP_BYTES: usize = 4;

/// A 256-entry table tag → kind from the kinds' set-up or CPU weights.
const fn table(setup: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut kind = 0;
    let mut at = 0;
    while kind < NR_KINDS {
        let weight = if setup {
            KINDS[kind].setup_weight
        } else {
            KINDS[kind].cpu_weight
        };
        let mut w = 0;
        while w < weight {
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
pub const SETUP_KINDS: [u8; 256] = table(true);
/// Tag byte → kind for CPU operations.
pub const CPU_KINDS: [u8; 256] = table(false);

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

/// Random fuzz inputs for tests: xorshift64*, fixed seed per caller.
#[cfg(test)]
pub(crate) fn random_input(state: &mut u64) -> Vec<u8> {
    let mut next = || {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let len = (next() % 300) as usize;
    (0..len).map(|_| (next() >> 24) as u8).collect()
}

#[cfg(test)]
#[path = "bytes_tests.rs"]
mod tests;

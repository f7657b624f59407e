//! Mutation of corpus schedules: a parent's schedule bytes, changed in one to three places, run
//! as a [`ByteScheduler`](crate::engine::ByteScheduler) would run them ([`BytesWalk`]).
//!
//! Corpus schedules are kept in the canonical form of
//! [`decisions_to_bytes`](crate::engine::decisions_to_bytes): one byte per decision, `0xFF` to
//! keep the running task, a small index to switch. So the mutations read as edits of the
//! interleaving: add a preemption, remove one, move one a few decisions earlier or later
//! (RFF's way of reversing or reproducing one ordering), cut the schedule short (the fair
//! fallback runs the rest), splice two schedules, or overwrite, insert or delete a byte.

use shuttle::scheduler::TaskId;

use super::rng::Rng;
use crate::engine::STAY_THRESHOLD;
use crate::engine::byte_scheduler::{byte_choice, fallback_choice};
use crate::engine::decision::Point;

/// Runs schedule bytes, exactly as the [`ByteScheduler`](crate::engine::ByteScheduler) does.
#[derive(Debug)]
pub(crate) struct BytesWalk {
    bytes: Vec<u8>,
    pos: usize,
    streak: usize,
    quantum: usize,
}

impl BytesWalk {
    pub(crate) fn new(bytes: Vec<u8>, quantum: usize) -> Self {
        BytesWalk {
            bytes,
            pos: 0,
            streak: 0,
            quantum,
        }
    }

    pub(crate) fn choose(&mut self, point: &Point<'_>) -> TaskId {
        let task = byte_choice(&self.bytes, &mut self.pos, point)
            .unwrap_or_else(|| fallback_choice(point, self.streak, self.quantum));
        if Some(task) == point.current {
            self.streak += 1;
        } else {
            self.streak = 0;
        }
        task
    }
}

/// A byte that switches to another task.
fn switch(rng: &mut Rng) -> u8 {
    rng.below(usize::from(STAY_THRESHOLD)) as u8
}

/// The position of a switching byte, searched from a random place; `None` if there is none.
fn some_switch(rng: &mut Rng, bytes: &[u8]) -> Option<usize> {
    let start = rng.below(bytes.len());
    (0..bytes.len())
        .map(|i| (start + i) % bytes.len())
        .find(|&i| bytes[i] < STAY_THRESHOLD)
}

/// A mutant of `parent`; `other` is another corpus schedule to splice with.
pub(crate) fn mutate(rng: &mut Rng, parent: &[u8], other: &[u8]) -> Vec<u8> {
    let mut bytes = parent.to_vec();
    if bytes.is_empty() {
        bytes.extend((0..8).map(|_| rng.byte()));
        return bytes;
    }
    for _ in 0..rng.range(1, 3) {
        if bytes.is_empty() {
            bytes.push(switch(rng));
        }
        let len = bytes.len();
        let at = rng.below(len);
        match rng.below(16) {
            // Add a preemption (or switch to another task than before).
            0..=4 => bytes[at] = switch(rng),
            // Remove one.
            5..=7 => match some_switch(rng, &bytes) {
                Some(i) => bytes[i] = 0xFF,
                None => bytes[at] = switch(rng),
            },
            // Move one by up to 8 decisions.
            8..=10 => {
                if let Some(i) = some_switch(rng, &bytes) {
                    let d = rng.range(1, 8);
                    let j = if rng.chance(1, 2) {
                        i.saturating_sub(d)
                    } else {
                        (i + d).min(len - 1)
                    };
                    bytes.swap(i, j);
                }
            }
            11 => bytes.truncate(at),
            12 if !other.is_empty() => {
                let at = at.min(other.len());
                bytes.truncate(at);
                bytes.extend_from_slice(&other[at..]);
            }
            13 => bytes[at] = rng.byte(),
            14 => bytes.insert(at, if rng.chance(1, 2) { 0xFF } else { switch(rng) }),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

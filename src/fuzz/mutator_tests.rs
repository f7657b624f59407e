use super::*;
use crate::program::bytes::random_input;

/// A stand-in for libFuzzer's byte mutator (not linked outside a fuzz binary): flips the last
/// byte, or writes one byte into an empty input, and marks that it ran.
fn flip(data: &mut [u8], size: usize, max_size: usize) -> usize {
    if size == 0 {
        data[0] = 0xA5;
        return 1.min(max_size);
    }
    data[size - 1] ^= 0xFF;
    size.min(max_size)
}

/// `mutate_with` on a copy of `input` in a buffer of `max(input, max_size)` bytes, as libFuzzer
/// calls it; the result and whether the byte mutator ran.
fn run(input: &[u8], max_size: usize, seed: u32) -> (Vec<u8>, bool) {
    let mut data = input.to_vec();
    data.resize(input.len().max(max_size), 0);
    let called = std::cell::Cell::new(false);
    let n = mutate_with(&mut data, input.len(), max_size, seed, |d, s, m| {
        called.set(true);
        flip(d, s, m)
    });
    (data[..n].to_vec(), called.get())
}

/// Every structured result is an encoded program and schedule (it decodes and encodes back to
/// itself), fits in `max_size`, and the same input and seed give the same result; garbage and
/// empty inputs included.
#[test]
fn results_decode_fit_and_repeat_per_seed() {
    let mut st = 0x1234_5678_u64;
    let mut inputs: Vec<Vec<u8>> = (0..60).map(|_| random_input(&mut st)).collect();
    inputs.push(Vec::new());
    inputs.push(vec![0xFF; 512]);
    inputs.push(std::fs::read("corpus/crashes/shmem-truncate-null-swap-cache.bin").unwrap());
    let mut structured = 0;
    let mut bytes = 0;
    for (i, input) in inputs.iter().enumerate() {
        for max_size in [4, 30, 58, 142, 512] {
            for seed in 0..12u32 {
                let seed = seed.wrapping_mul(0x9E37_79B9) ^ i as u32;
                let (out, called) = run(input, max_size, seed);
                assert!(out.len() <= max_size, "{} > {max_size}", out.len());
                assert_eq!(
                    run(input, max_size, seed),
                    (out.clone(), called),
                    "not deterministic for seed {seed}"
                );
                // The mix, where libFuzzer would call: inputs within max_size, room for programs.
                let counted = input.len() <= max_size && max_size >= 142;
                if called {
                    bytes += usize::from(counted);
                    continue;
                }
                structured += usize::from(counted);
                let d = decode(&out);
                assert_eq!(encode(&d.program, &d.schedule), out, "not an encoded input");
            }
        }
    }
    // Most calls structured, some to libFuzzer's mutator (every call with max_size 4, where no
    // program fits).
    assert!(
        structured > 2 * bytes,
        "{structured} structured, {bytes} bytes"
    );
    assert!(bytes > 0);
}

/// An empty input (libFuzzer's first) gets a fresh program that the generator made, and
/// each action changes what it says it changes.
#[test]
fn actions_change_what_they_say() {
    let (fresh, called) = run(&[], 512, 7);
    assert!(!called);
    let d = decode(&fresh);
    assert!(!d.program.cpus.is_empty());
    let mut rng = Rng::new(99);
    let input = encode(
        &crate::program::seeds::shmem_truncate(),
        &[0xFF, 0x00, 0xFF, 0xFF],
    );
    let base = decode(&input);
    let (mut schedule_changed, mut program_changed) = (false, false);
    for _ in 0..50 {
        let out = structured(&mut rng, Action::Schedule, &input, 512).unwrap();
        let d = decode(&out);
        assert_eq!(d.program, base.program, "Schedule keeps the program");
        schedule_changed |= d.schedule != base.schedule;
        let out = structured(&mut rng, Action::Program, &input, 512).unwrap();
        program_changed |= decode(&out).program != base.program;
    }
    assert!(schedule_changed && program_changed);
}

/// The schedule is cut to fit; a workload that does not fit leaves the call to the byte
/// mutator.
#[test]
fn fitting() {
    let p = crate::program::seeds::shmem_truncate();
    let whole = encode(&p, &[0xFF; 100]);
    let w = encode(&p, &[]).len();
    assert_eq!(fit(&p, &[0xFF; 100], w + 10).unwrap(), whole[..w + 10]);
    assert_eq!(fit(&p, &[0xFF; 100], 1000).unwrap(), whole);
    assert!(fit(&p, &[], w - 1).is_none());
    let mut rng = Rng::new(3);
    assert!(structured(&mut rng, Action::Fresh, &[], 10).is_none());
}

#[test]
fn the_switch_parses() {
    assert_eq!(parse_mutator("off"), Ok(false));
    assert_eq!(parse_mutator("ON"), Ok(true));
    assert!(parse_mutator("maybe").unwrap_err().contains(MUTATOR_ENV));
}

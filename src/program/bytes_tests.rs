use super::*;
use crate::program::ops::{NR_KINDS, op_bytes, op_of};
use crate::program::seeds;

fn roundtrip(p: &Program, s: &[u8]) {
    let bytes = encode(p, s);
    let d = decode(&bytes);
    assert_eq!(d.program, *p);
    assert_eq!(d.schedule, s);
}

#[test]
fn seeds_roundtrip() {
    for (name, p) in seeds::all() {
        assert_eq!(clamp(&p), p, "{name} is in the decodable range");
        roundtrip(&p, &[]);
        roundtrip(&p, &[0xFF, 0x00, 0x13, 0x40]);
    }
}

#[test]
fn every_kind_roundtrips_through_both_tables() {
    for kind in 0..NR_KINDS as u8 {
        for (a, b, c) in [(0, 0, 0), (1, 1, 1), (255, 254, 1), (7, 3, 0)] {
            let op = op_of(kind, a, b, c);
            let (k, f) = op_bytes(&op);
            assert_eq!(k, kind);
            assert_eq!(op_of(k, f[0], f[1], f[2]), op);
        }
        assert!(SETUP_KINDS.contains(&kind) && CPU_KINDS.contains(&kind));
    }
}

#[test]
fn any_bytes_decode_to_a_valid_program_that_reencodes_to_itself() {
    let mut st = 7u64;
    let mut next = move || {
        // xorshift64*
        st ^= st << 13;
        st ^= st >> 7;
        st ^= st << 17;
        st.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 24
    };
    for i in 0..20_000 {
        let len = next() as usize % if i % 2 == 0 { 16 } else { 400 };
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let d = decode(&data);
        let p = &d.program;
        assert!(p.setup.len() <= MAX_OPS);
        assert!((2..=MAX_CPUS).contains(&p.cpus.len()));
        assert!(p.cpus.iter().all(|ops| (1..=MAX_OPS).contains(&ops.len())));
        assert_eq!(clamp(p), *p);
        let again = decode(&encode(p, &d.schedule));
        assert_eq!(again, d);
    }
}

#[test]
fn short_inputs_give_a_small_default_program() {
    let empty = decode(&[]);
    assert_eq!(empty.program.setup, vec![]);
    assert_eq!(empty.program.cpus, vec![vec![Op::Swapon], vec![Op::Swapon]]);
    assert!(empty.schedule.is_empty());
    // A length byte past the end: the workload is what there is, no schedule.
    assert_eq!(decode(&[200, 0]).program, empty.program);
    assert!(decode(&[200, 0, 1, 2]).schedule.is_empty());
    // Length 0: everything after byte 0 is schedule.
    assert_eq!(decode(&[0, 9, 8]).schedule, vec![9, 8]);
}

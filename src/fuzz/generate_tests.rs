use super::*;
use crate::program::bytes::{decode, encode};

/// Every generated and mutated program survives the byte codec.
#[test]
fn random_programs_roundtrip() {
    let mut rng = Rng::new(42);
    for _ in 0..5_000 {
        let mut p = program(&mut rng);
        for _ in 0..rng.below(8) {
            mutate_program(&mut rng, &mut p);
        }
        let s = schedule(&mut rng);
        let d = decode(&encode(&p, &s));
        assert_eq!(d.program, p);
        assert_eq!(d.schedule, s);
    }
}

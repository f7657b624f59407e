//! The deterministic PRNG of the generator and the search: the engine's [`Rng`] (SplitMix64).

pub use crate::engine::Rng;

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_stream_and_bounds_hold() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            assert!(a.below(5) < 5);
            let r = a.range(2, 4);
            assert!((2..=4).contains(&r));
            b.below(5);
            b.range(2, 4);
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}

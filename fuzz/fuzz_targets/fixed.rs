//! `fixed`: the fixed `free_swap_and_cache()` (82b1c07a0af6), spinlocks are RCU readers.
#![no_main]

swapfuzz::swapfuzz_target!();

//! `buggy`: the pre-fix `free_swap_and_cache()`, spinlocks are RCU readers (the real kernel).
#![no_main]

swapfuzz::swapfuzz_target!();

//! `buggy_no_rcu`: the pre-fix `free_swap_and_cache()`, spinlocks are not RCU readers.
#![no_main]

swapfuzz::swapfuzz_target!();

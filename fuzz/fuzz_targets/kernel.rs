//! `kernel`: the one libFuzzer target binary; it runs any fuzz target of
//! `swapfuzz::fuzz::oracle::targets()` (`buggy`, `fixed`, one per non-upstream patch of the
//! registry, each also `<name>_no_rcu`), chosen once at start-up
//! (`swapfuzz::fuzz::oracle::target_for`):
//!
//! - `SWAPFUZZ_TARGET=<name>` if set: `SWAPFUZZ_TARGET=buggy cargo fuzz run kernel`;
//! - else the binary's file name: build.sh installs a copy as `$OUT/<name>` per shipped target;
//! - as `kernel` itself, with no `SWAPFUZZ_TARGET`: `fixed`.
//!
//! `SWAPFUZZ_LIST_TARGETS=1` prints every target as `<name> ship|local` and exits (build.sh
//! reads it). An unknown name exits 2 with the list.
#![no_main]

swapfuzz::swapfuzz_target!();

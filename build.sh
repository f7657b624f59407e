#!/bin/bash -eu
# Copyright 2026 the swapfuzz authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
################################################################################
# OSS-Fuzz / ClusterFuzzLite build script for swapfuzz (docs/continuous-fuzzing.md). The file
# google/oss-fuzz's projects/swapfuzz/build.sh is this one, unchanged (scripts/oss-fuzz-project).
#
# The builder image (gcr.io/oss-fuzz-base/base-builder-rust) runs this as `bash -eux $SRC/build.sh`
# from `compile`, with SANITIZER, FUZZING_ENGINE, RUSTFLAGS (`--cfg fuzzing -Zsanitizer=$SANITIZER
# -Cdebuginfo=1 -Cforce-frame-pointers`), CUSTOM_LIBFUZZER_PATH, SRC, OUT and WORK set, a nightly
# toolchain (RUSTUP_TOOLCHAIN), and a `cargo` wrapper that turns `cargo fuzz build` into a
# coverage build when SANITIZER=coverage. scripts/oss-fuzz-check runs it the same way, without
# Docker.
#
# What it ships: one libFuzzer target per fuzz target of the patch registry that must never crash
# (src/fuzz/oracle.rs, targets(): the fixed kernel, every example patch argued to close the race,
# every proposed patch; each with spinlocks as RCU readers and without, `<name>_no_rcu`). The
# list is not written here: the built binary prints it (SWAPFUZZ_LIST_TARGETS=1, one
# `<name> ship|local` line per target), so a newly registered patch is picked up with no edit to
# this file. The `local` targets (v6.8 itself, `buggy`; the example patches argued not to close
# the race) crash by design; shipped, they would flood ClusterFuzz with known bugs. They stay
# for local runs and tests.
#
# fuzz/ has one [[bin]], `kernel` (fuzz/fuzz_targets/kernel.rs); it runs the target named by
# its file name, so $OUT/<name> is a copy of it per target (or SWAPFUZZ_TARGET=<name>; as
# `kernel` it runs `fixed`).
#
# SWAPFUZZ_FUZZ_TARGETS (optional, local use): the targets to install instead, space-separated
# names from that list (scripts/oss-fuzz-check installs the local ones this way).

cd "$SRC/swapfuzz"

# cargo-fuzz adds the sanitizer flags itself (-s); keep it in step with OSS-Fuzz's SANITIZER.
# Rust has no UBSan; coverage builds are rewritten by OSS-Fuzz's cargo wrapper anyway.
features=()
case "${SANITIZER:-address}" in
    address)
        sanitizer=address
        # corosensei's stack switches announced to ASan (fuzz/Cargo.toml).
        features=(--features asan-fibers)
        ;;
    memory) sanitizer=memory ;;
    *) sanitizer=none ;;
esac

# -O: release; --debug-assertions: debug assertions and overflow checks, as a fuzzing build
# should have them (the model's internal invariants become crashes).
cargo fuzz build -O --debug-assertions -s "$sanitizer" "${features[@]}" kernel
kernel=fuzz/target/x86_64-unknown-linux-gnu/release/kernel

# Every target, `<name> ship|local`. LLVM_PROFILE_FILE=/dev/null: a coverage build would
# otherwise leave a .profraw file behind for this run; detect_leaks=0: LeakSanitizer needs
# ptrace, which a Docker build may not allow.
listing=$(SWAPFUZZ_LIST_TARGETS=1 LLVM_PROFILE_FILE=/dev/null ASAN_OPTIONS=detect_leaks=0 "$kernel")
all_targets=$(awk '{print $1}' <<<"$listing")
# The targets that must never crash (any crash is a new bug, in a patch or in swapfuzz): the
# only ones continuous fuzzing gets.
ship_targets=$(awk '$2 == "ship" {print $1}' <<<"$listing")
if [ -z "$ship_targets" ]; then
    echo "build.sh: $kernel lists no target to ship:" >&2
    echo "$listing" >&2
    exit 1
fi
targets=${SWAPFUZZ_FUZZ_TARGETS:-$ship_targets}
for t in $targets; do
    if ! grep -qx -- "$t" <<<"$all_targets"; then
        echo "build.sh: $t is not a fuzz target; $kernel has:" >&2
        echo "$listing" >&2
        exit 1
    fi
done

# Seed corpus: the committed corpus/seeds/, the same for every target (OSS-Fuzz unpacks it
# into the fuzzer's corpus).
rm -f "$WORK/swapfuzz_seed_corpus.zip"
(cd corpus/seeds && zip -q -j "$WORK/swapfuzz_seed_corpus.zip" ./*)
for t in $targets; do
    cp "$kernel" "$OUT/$t"
    cp "$WORK/swapfuzz_seed_corpus.zip" "$OUT/${t}_seed_corpus.zip"
    cp fuzz/swapfuzz.options "$OUT/$t.options"
    cp fuzz/swapfuzz.dict "$OUT/$t.dict"
done

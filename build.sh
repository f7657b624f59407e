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
# What it ships: only the targets that must never crash (never_crash_targets below, the Fixed
# model). The Buggy targets crash on the known race by design; shipped, they would flood
# ClusterFuzz with that one known bug. They stay in fuzz/ for local runs and tests.
#
# SWAPFUZZ_FUZZ_TARGETS (optional, local use): the targets to build instead, space-separated
# [[bin]] names of fuzz/Cargo.toml (scripts/oss-fuzz-check builds the Buggy ones this way).

cd "$SRC/swapfuzz"

# The [[bin]] names of fuzz/Cargo.toml (not `cargo fuzz list`: OSS-Fuzz's cargo wrapper swallows
# every `cargo fuzz` command in coverage builds).
all_targets=$(awk '/^\[\[bin\]\]/ {b = 1; next} /^\[/ {b = 0} b && /^name *=/ {gsub(/[" ]/, "", $0); sub(/^name=/, "", $0); print}' fuzz/Cargo.toml)
# The targets that must never crash (any crash is a new bug, in the fix or in swapfuzz): the only
# ones continuous fuzzing gets.
never_crash_targets="fixed fixed_no_rcu"
targets=${SWAPFUZZ_FUZZ_TARGETS:-$never_crash_targets}
for t in $targets; do
    if ! grep -qx "$t" <<<"$all_targets"; then
        echo "build.sh: $t is not a [[bin]] of fuzz/Cargo.toml" >&2
        exit 1
    fi
done

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
for t in $targets; do
    cargo fuzz build -O --debug-assertions -s "$sanitizer" "${features[@]}" "$t"
done

bin=fuzz/target/x86_64-unknown-linux-gnu/release
for t in $targets; do
    cp "$bin/$t" "$OUT/"
    # Seed corpus: the committed corpus/<target>/ (OSS-Fuzz unpacks it into the fuzzer's corpus).
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
    cp fuzz/swapfuzz.options "$OUT/$t.options"
    cp fuzz/swapfuzz.dict "$OUT/$t.dict"
done

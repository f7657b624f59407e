#!/bin/bash -eu
# ClusterFuzzLite build script: the OSS-Fuzz one at the repository root (build.sh), unchanged.
exec bash -eux "$SRC/swapfuzz/build.sh"

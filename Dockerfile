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
# OSS-Fuzz project image for swapfuzz, for local builds (docker build -f Dockerfile .: the build
# context is the repository root). google/oss-fuzz's projects/swapfuzz/Dockerfile is this file with
# the `COPY . $SRC/swapfuzz` line replaced by a clone of project.yaml's main_repo; the directory
# to submit is written by scripts/oss-fuzz-project (docs/continuous-fuzzing.md).
FROM gcr.io/oss-fuzz-base/base-builder-rust
COPY . $SRC/swapfuzz
WORKDIR $SRC/swapfuzz
COPY build.sh $SRC/

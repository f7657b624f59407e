# OSS-Fuzz project image for swapfuzz (the shape of google/oss-fuzz projects/<name>/Dockerfile).
# Build context: the repository root (docker build -f Dockerfile .). For the copy in
# google/oss-fuzz projects/swapfuzz/, replace the `COPY . $SRC/swapfuzz` line with
#   RUN git clone --depth 1 <main_repo from project.yaml> swapfuzz
# (see docs/continuous-fuzzing.md).
FROM gcr.io/oss-fuzz-base/base-builder-rust
COPY . $SRC/swapfuzz
WORKDIR $SRC/swapfuzz
COPY build.sh $SRC/

#!/usr/bin/env bash
# Builds the kernels (both ISA copies, as the Maven build does) and the SGEMM benchmark, then runs
# it on one thread: bash native/src/test/c/bench.sh [rounds]. Extra gcc flags for the kernels can
# be passed in BENCH_CFLAGS (e.g. "-DKC=384") to try blockings.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
MOELAB_CFLAGS="${BENCH_CFLAGS:-}" bash "$here/../../main/c/build.sh" "$out" objects >&2
gcc -O3 -o "$out/sgemm_bench" "$here/sgemm_bench.c" "$out"/cpu.o "$out"/sgemm_avx2.o "$out"/sgemm_avx512.o
taskset -c "${BENCH_CPU:-0}" "$out/sgemm_bench" "${1:-5}" "${2:-}"

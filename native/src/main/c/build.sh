#!/usr/bin/env bash
# Builds libmoelab.so from the C kernels into $1 (the Maven build passes
# target/classes/native/linux-x86_64). Without gcc, or off Linux x86-64, it builds nothing and
# says so: the Java side then reports the "native" back end unavailable, and the build goes on.
#
# The kernel sources are compiled twice into one library (isa.h gives each copy its suffix):
# AVX2+FMA (moelab_*_avx2) and AVX-512 (moelab_*_avx512); cpu.c, built for plain x86-64, tells
# the Java side which copy this CPU can run. A gcc that cannot build the AVX-512 copy leaves a
# library with the AVX2 copy only. A second argument "objects" also leaves the .o files in $1
# (for the C benchmark).
set -u
out="$1"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]]; then
  echo "[native] not Linux x86-64: libmoelab.so not built, the 'native' back end will be unavailable"; exit 0
fi
if ! command -v gcc >/dev/null; then
  echo "[native] gcc not found: libmoelab.so not built, the 'native' back end will be unavailable"; exit 0
fi
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# -ffp-contract=off: only the FMAs written as intrinsics, so the arithmetic is what the code says
CFLAGS=(-O3 -ffp-contract=off -fPIC -Wall -Wextra ${MOELAB_CFLAGS:-})  # MOELAB_CFLAGS: e.g. -DKC=384 to try a blocking
AVX2=(-mavx2 -mfma)
AVX512=(-mavx2 -mfma -mavx512f -mavx512bw -mavx512dq -mavx512vl)
objs=()
ok=1
gcc "${CFLAGS[@]}" -c -o "$tmp/cpu.o" "$src/cpu.c" && objs+=("$tmp/cpu.o") || ok=0
for f in sgemm rowops; do
  gcc "${CFLAGS[@]}" "${AVX2[@]}" -c -o "$tmp/${f}_avx2.o" "$src/$f.c" && objs+=("$tmp/${f}_avx2.o") || ok=0
done
wide=()
for f in sgemm rowops; do
  gcc "${CFLAGS[@]}" "${AVX512[@]}" -c -o "$tmp/${f}_avx512.o" "$src/$f.c" && wide+=("$tmp/${f}_avx512.o")
done
if [[ ${#wide[@]} == 2 ]]; then objs+=("${wide[@]}")
else echo "[native] gcc cannot build the AVX-512 copy: libmoelab.so will have the AVX2 kernels only"; fi
if [[ $ok == 1 ]] && gcc -shared -o "$out/libmoelab.so" "${objs[@]}" -lm; then
  echo "[native] built $out/libmoelab.so"
  [[ "${2:-}" == objects ]] && cp "${objs[@]}" "$out/"
else
  rm -f "$out/libmoelab.so"
  echo "[native] gcc failed: libmoelab.so not built, the 'native' back end will be unavailable"
fi
exit 0

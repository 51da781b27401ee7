#!/usr/bin/env bash
# Builds libmoelab.so from the C kernels into $1 (the Maven build passes
# target/classes/native/linux-x86_64). Without gcc, or off Linux x86-64, it builds nothing and
# says so: the Java side then reports the "native" back end unavailable, and the build goes on.
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
# -ffp-contract=off: only the FMAs written as intrinsics, so the arithmetic is what the code says
if gcc -O3 -mavx2 -mfma -ffp-contract=off -fPIC -shared -Wall -Wextra -o "$out/libmoelab.so" \
      "$src/sgemm.c" "$src/rowops.c" -lm; then
  echo "[native] built $out/libmoelab.so"
else
  rm -f "$out/libmoelab.so"
  echo "[native] gcc failed: libmoelab.so not built, the 'native' back end will be unavailable"
fi
exit 0

#!/usr/bin/env bash
# Builds the CUDA kernels with nvcc. Used by the kernels-cuda Maven build and by hand.
#   kernels-cuda/src/main/cuda/build.sh fatbin OUT_DIR     -> OUT_DIR/moelab/cuda/moelab_kernels.fatbin + build-info.properties
#   kernels-cuda/src/main/cuda/build.sh selftest OUT_DIR   -> OUT_DIR/cuda_selftest (standalone test + benchmark, no JVM)
# nvcc is taken from $NVCC, then PATH, then /usr/local/cuda/bin (MOELAB_NO_NVCC=1: none). Without nvcc, 'fatbin' prints
# that the CUDA back end is unavailable and succeeds (the build goes on without it); 'selftest' fails.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
what="${1:?usage: build.sh fatbin|selftest OUT_DIR}"
out="${2:?usage: build.sh fatbin|selftest OUT_DIR}"
# sm_80 (Ampere) and sm_90 (Hopper) machine code, plus compute_90 PTX the driver can JIT for newer GPUs.
# --no-compress keeps kernel names readable in the fatbin (the build test checks them).
ARCH=(-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90)

NVCC="${NVCC:-}"
# MOELAB_NO_NVCC=1 builds as if nvcc were missing (to check the build without CUDA)
if [[ "${MOELAB_NO_NVCC:-}" == 1 ]]; then NVCC=""
elif [[ -z "$NVCC" ]]; then
  if command -v nvcc >/dev/null 2>&1; then NVCC="$(command -v nvcc)"
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then NVCC=/usr/local/cuda/bin/nvcc
  fi
fi

case "$what" in
  fatbin)
    dir="$out/moelab/cuda"
    mkdir -p "$dir"
    if [[ -z "$NVCC" ]]; then
      rm -f "$dir/moelab_kernels.fatbin"
      printf 'nvcc=absent\n' > "$dir/build-info.properties"
      echo "[kernels-cuda] nvcc not found (PATH, /usr/local/cuda/bin, \$NVCC): CUDA back end unavailable, building without the fatbin." >&2
      exit 0
    fi
    fat="$dir/moelab_kernels.fatbin"
    if [[ ! -f "$fat" || "$HERE/moelab_kernels.cu" -nt "$fat" || "$HERE/moelab_cuda.h" -nt "$fat" || "$0" -nt "$fat" ]]; then
      echo "[kernels-cuda] $NVCC -fatbin (sm_80, sm_90, compute_90 PTX) -> $fat" >&2
      "$NVCC" -O3 -std=c++17 -fatbin --no-compress "${ARCH[@]}" -o "$fat.tmp" "$HERE/moelab_kernels.cu"
      mv "$fat.tmp" "$fat"
    fi
    version="$("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
    printf 'nvcc=present\nnvcc.version=%s\narchitectures=sm_80,sm_90,compute_90\n' "$version" > "$dir/build-info.properties"
    ;;
  selftest)
    [[ -n "$NVCC" ]] || { echo "error: nvcc not found (PATH, /usr/local/cuda/bin, \$NVCC)" >&2; exit 1; }
    mkdir -p "$out"
    "$NVCC" -O3 -std=c++17 "${ARCH[@]}" -I"$HERE" -o "$out/cuda_selftest" \
      "$HERE/test/cuda_selftest.cu" -ldl   # the test includes moelab_kernels.cu: one translation unit
    echo "built $out/cuda_selftest" >&2
    ;;
  *) echo "usage: build.sh fatbin|selftest OUT_DIR" >&2; exit 2 ;;
esac

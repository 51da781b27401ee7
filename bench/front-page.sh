#!/usr/bin/env bash
# Runs the benchmarks of bench/README.md's front-page tables one after another and keeps their
# raw output in OUT (default bench/results/<date>): the machine, the FMA peak, SGEMM by CPU time
# beside OpenBLAS and BLIS, the training step beside PyTorch, the MoE layer and top-k beside PyTorch (JMH
# with -prof gc). Run it with nothing else busy on the machine; about 20 minutes on 2 cores.
#   bash bench/front-page.sh [OUT]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/bench/results/$(date -u +%F)}"
mkdir -p "$OUT"
cd "$ROOT"
python3 -c "import torch" 2>/dev/null || { echo "front-page: PyTorch is missing (pip install torch; a +cpu wheel is enough)" >&2; exit 1; }
./moe mvn -q -o -DskipTests package

{ date -u; lscpu | grep -E "Model name|CPU family|Model:|L1d|L2|L3|^CPU\(s\)|Flags"; uptime
  "$(./moe mvn -v 2>/dev/null | sed -n 's/^Java version: .*runtime: //p')/bin/java" -version 2>&1
  python3 -c "import sys; sys.path.insert(0, 'bench/pytorch'); import torch_info; print(torch_info.describe())"
  dpkg-query -W libopenblas0-pthread libblis4-serial 2>/dev/null || true; ./moe backends; } > "$OUT/machine.txt" 2>&1

./moe bench -f 1 -wi 2 -i 3 -w 1 -r 2 FmaPeakBench > "$OUT/fma-peak.txt" 2>&1
# BLIS 0.9 runs its 256-bit kernels on Zen 5 unless told: where the CPU has AVX-512, force its AVX-512 ones
if grep -qw avx512f /proc/cpuinfo; then export BLIS_ARCH_TYPE=skx; fi
./moe bench GemmCpuTime "" 5 simd,native,openblas,blis > "$OUT/gemm-cputime.txt" 2>&1
unset BLIS_ARCH_TYPE
# the training step in 3 pairs, alternating which side goes first (the host's speed drifts)
for n in 1 2 3; do
  java_side() { ./moe bench TrainStepBench --threads 1,2 --rounds 5 --json "$OUT/train_step-$n.json" > "$OUT/train_step-$n.log" 2>&1; }
  torch_side() { python3 bench/pytorch/train_step_peer.py --threads 1,2 --rounds 5 --json "$OUT/train_step_peer-$n.json" > "$OUT/train_step_peer-$n.log" 2>&1; }
  if ((n % 2)); then java_side; torch_side; else torch_side; java_side; fi
done
# the C SGEMM (what `auto` picks where it runs), once, against the pairs' median PyTorch
./moe bench TrainStepBench --kernels native --threads 1,2 --rounds 5 --json "$OUT/train_step_native.json" > "$OUT/train_step_native.log" 2>&1
# the step arena's effect: the same binary with every op allocating its output, between two runs with the arena
./moe bench TrainStepBench --kernels native --arena off --threads 1,2 --rounds 5 --json "$OUT/train_step_native_noarena.json" > "$OUT/train_step_native_noarena.log" 2>&1
./moe bench TrainStepBench --kernels native --threads 1,2 --rounds 5 --json "$OUT/train_step_native-2.json" > "$OUT/train_step_native-2.log" 2>&1
python3 bench/pytorch/pairs.py "$OUT" > "$OUT/train_step_pairs.txt"
./moe bench -f 1 -wi 1 -i 3 -w 2 -r 2 -prof gc -rf json -rff "$OUT/moe_layer.json" MoeLayerBench > "$OUT/moe_layer.txt" 2>&1
python3 bench/pytorch/moe_layer_peer.py --jmh "$OUT/moe_layer.json" > "$OUT/moe_layer_peer.log" 2>&1
./moe bench -f 1 -wi 1 -i 2 -w 2 -r 2 -prof gc -p arena=false -p impl=simd-1t MoeLayerBench > "$OUT/moe_layer_noarena_gc.txt" 2>&1
./moe bench -f 1 -wi 1 -i 3 -w 1 -r 1 -rf json -rff "$OUT/topk.json" TopKBench > "$OUT/topk.txt" 2>&1
python3 bench/pytorch/topk_peer.py > "$OUT/topk_peer.log" 2>&1
./moe bench -f 1 -prof gc -p threads=1 TrainStepJmh > "$OUT/train_step_jmh_gc.txt" 2>&1
echo "front-page: raw output in $OUT"

#!/usr/bin/env python3
"""PyTorch peer for TopKBench: torch.topk rows/s on the same shapes (65536 rows of E standard
normal logits, k best per row, sorted descending), on 1 and 2 threads.

    python3 bench/pytorch/topk_peer.py [--rows 65536] [--rounds 7] [--threads 1,2]

Works with Debian's python3-torch (1.13). Each thread count runs in a fresh process, because
OMP_WAIT_POLICY and OPENBLAS_NUM_THREADS only take effect before torch is imported: PASSIVE
keeps idle OpenMP threads from spinning (busy-waiting makes 2 threads slower than 1 on a
2-core machine), and torch.set_num_threads does not limit OpenBLAS. Prints the median of the
rounds, each round timing enough calls to last about 0.2 s.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_info import header  # noqa: E402  (imports no torch)

SHAPES = [(64, 8), (8, 2), (32, 4)]


def worker(threads, rows, rounds):
    import torch  # imported only here, after the environment is set

    torch.set_num_threads(threads)
    from torch_info import describe
    info = describe()
    torch.manual_seed(0)
    results = []
    for experts, k in SHAPES:
        x = torch.randn(rows, experts)
        for _ in range(3):  # warm-up
            torch.topk(x, k, dim=1, largest=True, sorted=True)
        start = time.perf_counter()
        calls = 0
        while time.perf_counter() - start < 0.2:
            torch.topk(x, k, dim=1, largest=True, sorted=True)
            calls += 1
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(calls):
                torch.topk(x, k, dim=1, largest=True, sorted=True)
            samples.append(rows * calls / (time.perf_counter() - t0))
        samples.sort()
        results.append({"experts": experts, "k": k, "threads": threads,
                        "rows_per_s": samples[len(samples) // 2], **info})
    print(json.dumps(results))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=65536)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        worker(a.worker, a.rows, a.rounds)
        return
    table = []
    for t in [int(v) for v in a.threads.split(",")]:
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t),
                   MKL_NUM_THREADS=str(t), OMP_WAIT_POLICY="PASSIVE")
        out = subprocess.run([sys.executable, __file__, "--worker", str(t), "--rows", str(a.rows),
                              "--rounds", str(a.rounds)], env=env, check=True,
                             capture_output=True, text=True).stdout
        table += json.loads(out.strip().splitlines()[-1])
    print(header(table))
    print(f"{a.rows} rows, median of {a.rounds} rounds")
    print(f"{'E':>4} {'k':>3} {'threads':>7} {'rows/s':>14}")
    for r in table:
        print(f"{r['experts']:>4} {r['k']:>3} {r['threads']:>7} {r['rows_per_s']:>14,.0f}")


if __name__ == "__main__":
    main()

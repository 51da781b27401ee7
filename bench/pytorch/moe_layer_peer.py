#!/usr/bin/env python3
"""PyTorch peer for MoeLayerBench: the same MoE feed-forward layer, forward + backward, in
tokens/s on 1 and 2 threads.

    python3 bench/pytorch/moe_layer_peer.py [--shapes d:f:E:k:T,...] [--rounds 5] [--threads 1,2]
                                            [--jmh moe_layer.json] [--check]

The layer (as moelab.nn.MoeFeedForward, dropless, no shared expert): logits = x @ W_r,
p = softmax(logits), top-k of p as gates, load-balancing loss coef * E * sum(f * mean(p)), then
sort-by-expert dispatch: a stable sort of the T*k routes by expert, one gather of the token rows,
one SwiGLU MLP per contiguous expert block (silu(x @ w1_e) * (x @ w3_e)) @ w2_e, the outputs scaled
by their gates and index_add-ed back per token. Loss = sum(y * g) + LBL with a fixed random g;
backward reaches x and every weight. Weights are [E, d, f] / [E, f, d] tensors like the Java
ones; they are split into per-expert views ONCE per step with unbind (one node whose backward
stacks the E gradients); indexing w1[e] per expert would make backward add E full-size
gradients, E^2 work.

Works with Debian's python3-torch (1.13). Each thread count runs in a fresh process, because
OMP_WAIT_POLICY and OPENBLAS_NUM_THREADS only take effect before torch is imported: PASSIVE keeps
idle OpenMP threads from spinning (busy-waiting makes 2 threads slower than 1 on a 2-core
machine), and torch.set_num_threads does not limit OpenBLAS. Prints the median of the rounds
(each round one or more steps lasting at least 0.5 s). With --jmh FILE (MoeLayerBench run with
`-rf json -rff FILE`) it also prints Java/PyTorch ratios: simd-1t against 1 thread, simd-2t
against 2.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_info import header  # noqa: E402  (imports no torch)

SHAPES = "256:512:8:2:2048,512:1024:16:4:4096,512:256:64:8:4096"


def moe_layer(x, router, w1, w3, w2, k, coef):
    import torch
    import torch.nn.functional as F

    # x [T,d], router [d,E], w1/w3 [E,d,f], w2 [E,f,d] -> y [T,d], lbl []
    t, e = x.shape[0], router.shape[1]
    probs = torch.softmax(x @ router, dim=-1)                       # [T,E]
    gates, experts = torch.topk(probs, k, dim=-1)                   # [T,k]
    flat = experts.reshape(-1)                                      # slot t*k+j
    _, order = torch.sort(flat, stable=True)                        # slots by expert, token order within
    counts = torch.bincount(flat, minlength=e)
    tok = torch.div(order, k, rounding_mode="floor")
    xs = x.index_select(0, tok)                                     # [S,d] packed
    w1s, w3s, w2s = w1.unbind(0), w3.unbind(0), w2.unbind(0)
    outs = []
    for i, xe in enumerate(xs.split(counts.tolist())):
        if xe.shape[0] == 0:
            continue
        outs.append((F.silu(xe @ w1s[i]) * (xe @ w3s[i])) @ w2s[i])
    ys = torch.cat(outs)                                            # [S,d]
    g = gates.reshape(-1).index_select(0, order)
    y = torch.zeros_like(x).index_add(0, tok, ys * g.unsqueeze(1))
    f = counts.to(x.dtype) / (k * t)                                # constant: no gradient
    lbl = coef * e * (f * probs.mean(0)).sum()
    return y, lbl


def check():
    """The sort-by-expert layer against a per-token loop, values and gradients (float64)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(1)
    d, f, e, k, t = 5, 7, 6, 2, 9
    ws = [torch.randn(d, e, dtype=torch.float64), torch.randn(e, d, f, dtype=torch.float64),
          torch.randn(e, d, f, dtype=torch.float64), torch.randn(e, f, d, dtype=torch.float64),
          torch.randn(t, d, dtype=torch.float64)]
    g = torch.randn(t, d, dtype=torch.float64)
    grads = []
    for naive in (False, True):
        router, w1, w3, w2, x = [w.clone().requires_grad_() for w in ws]
        if naive:
            probs = torch.softmax(x @ router, dim=-1)
            gates, experts = torch.topk(probs, k, dim=-1)
            rows = []
            for i in range(t):
                acc = torch.zeros(d, dtype=x.dtype)
                for j in range(k):
                    ex = int(experts[i, j])
                    acc = acc + gates[i, j] * ((F.silu(x[i] @ w1[ex]) * (x[i] @ w3[ex])) @ w2[ex])
                rows.append(acc)
            y = torch.stack(rows)
            f_i = torch.bincount(experts.reshape(-1), minlength=e).to(x.dtype) / (k * t)
            lbl = 0.01 * e * (f_i * probs.mean(0)).sum()
        else:
            y, lbl = moe_layer(x, router, w1, w3, w2, k, 0.01)
        ((y * g).sum() + lbl).backward()
        grads.append([y.detach(), router.grad, w1.grad, w3.grad, w2.grad, x.grad])
    for name, a, b in zip(["y", "router", "w1", "w3", "w2", "x"], grads[0], grads[1]):
        if not torch.allclose(a, b, rtol=1e-9, atol=1e-9):
            sys.exit(f"check failed: {name} differs from the per-token reference")
    print("check: sort-by-expert layer equals the per-token reference (values and gradients)")


def worker(threads, shapes, rounds):
    import torch  # imported only here, after the environment is set

    torch.set_num_threads(threads)
    from torch_info import describe
    info = describe()
    torch.manual_seed(0)
    results = []
    for s in shapes:
        d, f, e, k, t = (int(v) for v in s.split(":"))
        router = (torch.randn(d, e) * 0.02).requires_grad_()
        w1 = (torch.randn(e, d, f) * 0.02).requires_grad_()
        w3 = (torch.randn(e, d, f) * 0.02).requires_grad_()
        w2 = (torch.randn(e, f, d) * 0.02).requires_grad_()
        x = torch.randn(t, d).requires_grad_()
        gy = torch.randn(t, d)
        params = [router, w1, w3, w2, x]

        def step():
            for p in params:
                p.grad = None
            y, lbl = moe_layer(x, router, w1, w3, w2, k, 0.01)
            ((y * gy).sum() + lbl).backward()

        for _ in range(2):  # warm-up
            step()
        start, steps = time.perf_counter(), 0
        while time.perf_counter() - start < 0.5:
            step()
            steps += 1
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            samples.append(t * steps / (time.perf_counter() - t0))
        samples.sort()
        results.append({"shape": s, "threads": threads, "tokens_per_s": samples[len(samples) // 2],
                        **info})
    print(json.dumps(results))


def jmh_tokens(path):
    """{(shape, impl): tokens/s} from a MoeLayerBench JSON result file."""
    out = {}
    with open(path) as fh:
        for r in json.load(fh):
            if "MoeLayerBench" not in r["benchmark"]:
                continue
            m = r.get("secondaryMetrics", {}).get("tokens")
            if m:
                out[(r["params"]["shape"], r["params"]["impl"])] = m["score"]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", default=SHAPES, help="comma list of d:f:E:k:T")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--jmh", help="MoeLayerBench JSON result (-rf json -rff FILE) to compare with")
    p.add_argument("--check", action="store_true", help="only check the layer against a per-token loop")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    shapes = a.shapes.split(",")
    if a.check:
        check()
        return
    if a.worker:
        worker(a.worker, shapes, a.rounds)
        return
    table = []
    for t in [int(v) for v in a.threads.split(",")]:
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t),
                   MKL_NUM_THREADS=str(t), OMP_WAIT_POLICY="PASSIVE")
        out = subprocess.run([sys.executable, __file__, "--worker", str(t), "--shapes", a.shapes,
                              "--rounds", str(a.rounds)], env=env, check=True,
                             capture_output=True, text=True).stdout
        table += json.loads(out.strip().splitlines()[-1])
    java = jmh_tokens(a.jmh) if a.jmh else {}
    print(header(table))
    print(f"MoE layer forward+backward, median of {a.rounds} rounds")
    cols = f"{'d:f:E:k:T':>20} {'threads':>7} {'torch tok/s':>12}"
    if java:
        cols += f" {'java tok/s':>11} {'java/torch':>10}"
    print(cols)
    for r in table:
        line = f"{r['shape']:>20} {r['threads']:>7} {r['tokens_per_s']:>12,.0f}"
        j = java.get((r["shape"], f"simd-{r['threads']}t"))
        if java:
            line += f" {j:>11,.0f} {j / r['tokens_per_s']:>9.2f}x" if j else f" {'-':>11} {'-':>10}"
        print(line)


if __name__ == "__main__":
    main()

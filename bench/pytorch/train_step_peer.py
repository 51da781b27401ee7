#!/usr/bin/env python3
"""PyTorch peer for TrainStepBench: the same small MoE language model, one training step
(forward + backward + clip + AdamW) in tokens/s on 1 and 2 threads.

    python3 bench/pytorch/train_step_peer.py [--threads 1,2] [--steps 3] [--rounds 5] [--warmup 2]
                                             [--java-json train_step.json] [--batch 8] [--seq 256]
    python3 bench/pytorch/train_step_peer.py --check DIR     (after TrainStepBench --export DIR)

The model (as moelab.nn.Transformer with the bench's config): token embedding [V,d]; 4 pre-norm
blocks x += attn(RMSNorm(x)); x += moe(RMSNorm(x)); final RMSNorm; untied LM head [d,V]; loss =
mean cross-entropy + the sum of the layers' load-balancing losses. Attention: causal multi-head,
q/k/v/o [d,d], RoPE on q and k with interleaved pairs (x[2i], x[2i+1]) rotated by
pos * 10000^(-2i/Dh), as moelab.ops.Attention.rope; the attention core is torch's fused
scaled_dot_product_attention (is_causal) on torch 2.x and, on Debian's 1.13 which has none (or with
--attention explicit), scores, mask, softmax and p @ v written out. MoE: moe_layer from moe_layer_peer.py (softmax router,
top-k probabilities as gates, Switch LBL 0.01, stable sort-by-expert dispatch, one SwiGLU MLP per
contiguous expert block, index_add back). All matrices are [in, out] and used as x @ W, like the
Java engine (nn.Linear would store the transpose). AdamW lr 3e-4, betas 0.9/0.95, eps 1e-8,
weight decay 0.1 on matrices only (rank >= 2, as moelab.train.AdamW), global-norm clipping 1.0.
Data: tokens uniform over the vocabulary, seeded, a fresh batch every step.

Each thread count runs in a fresh process with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
OMP_WAIT_POLICY=PASSIVE set before torch is imported (torch.set_num_threads does not limit
OpenBLAS; busy-waiting OpenMP threads make 2 threads slower than 1 on a 2-core machine). Prints
the median tokens/s over the rounds (each round --steps optimizer steps). With --java-json FILE
(written by TrainStepBench --json FILE) it also prints the Java/PyTorch ratio per thread count.
--check DIR loads the Java model's initial weights and first batch (TrainStepBench --export DIR),
runs one step here and compares the loss, the gradient norm and the updated weights with Java's.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_info import header  # noqa: E402  (imports no torch)

LAYERS, D_MODEL, HEADS, EXPERTS, TOP_K, D_FF, VOCAB = 4, 256, 4, 8, 2, 512, 4096
LBL_COEF, EPS, ROPE_BASE, INIT_STD, LR = 0.01, 1e-5, 10000.0, 0.02, 3e-4


def build(seq):
    """Parameters by their Java names, [in, out] matrices; the rope tables cos, sin [S, Dh/2]."""
    import torch

    g = torch.Generator().manual_seed(1234)
    d, f, e = D_MODEL, D_FF, EXPERTS
    out_std = INIT_STD / math.sqrt(2.0 * LAYERS)  # scaled residual init, as the Java model

    def randn(std, *shape):
        return (torch.randn(*shape, generator=g) * std).requires_grad_()

    def ones(n):
        return torch.ones(n).requires_grad_()

    p = {"tok_emb": randn(INIT_STD, VOCAB, d)}
    for i in range(LAYERS):
        pre = f"layers.{i}."
        p[pre + "attn_norm"] = ones(d)
        for w in ("wq", "wk", "wv"):
            p[pre + "attn." + w] = randn(INIT_STD, d, d)
        p[pre + "attn.wo"] = randn(out_std, d, d)
        p[pre + "ffn_norm"] = ones(d)
        p[pre + "moe.router"] = randn(INIT_STD, d, e)
        p[pre + "moe.w1"] = randn(INIT_STD, e, d, f)
        p[pre + "moe.w3"] = randn(INIT_STD, e, d, f)
        p[pre + "moe.w2"] = randn(out_std, e, f, d)
    p["final_norm"] = ones(d)
    p["lm_head"] = randn(INIT_STD, d, VOCAB)
    return (p,) + rope_tables(seq)


def rope_tables(seq):
    """cos, sin [S, Dh/2] of the angles pos * base^(-2i/Dh), computed in float64 like the Java rope."""
    import torch
    dh = D_MODEL // HEADS
    freq = ROPE_BASE ** (-2.0 * torch.arange(dh // 2, dtype=torch.float64) / dh)     # [Dh/2]
    ang = torch.arange(seq, dtype=torch.float64)[:, None] * freq[None, :]           # [S, Dh/2]
    return ang.cos().float(), ang.sin().float()


def adamw(params):
    """AdamW as moelab.train.AdamW: decay on matrices (rank >= 2) only."""
    import torch
    return torch.optim.AdamW([{"params": [t for t in params if t.dim() >= 2], "weight_decay": 0.1},
                              {"params": [t for t in params if t.dim() < 2], "weight_decay": 0.0}],
                             lr=LR, betas=(0.9, 0.95), eps=1e-8)


def rmsnorm(x, w):
    import torch
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rope(x, cos, sin):
    """x [B,H,S,Dh] -> [B,H,S,Dh]: pair (x[2i], x[2i+1]) at position s rotated by angle s*freq_i."""
    import torch
    b, h, s, dh = x.shape
    xr = x.reshape(b, h, s, dh // 2, 2)
    a, c = xr[..., 0], xr[..., 1]
    return torch.stack((a * cos - c * sin, a * sin + c * cos), dim=-1).reshape(b, h, s, dh)


def attention(h, p, pre, batch, seq, cos, sin, mask):
    """h [B*S, d] -> [B*S, d]: causal multi-head attention with RoPE; mask None: fused SDPA."""
    import torch
    import torch.nn.functional as F
    dh = D_MODEL // HEADS

    def heads(w):  # [B*S, d] @ [d, d] -> [B, H, S, Dh]
        return (h @ p[pre + w]).view(batch, seq, HEADS, dh).transpose(1, 2)

    q, k, v = rope(heads("attn.wq"), cos, sin), rope(heads("attn.wk"), cos, sin), heads("attn.wv")
    if mask is None:
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)                 # scale 1/sqrt(Dh)
    else:
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(dh))                  # [B, H, S, S]
        o = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v
    return o.transpose(1, 2).reshape(batch * seq, D_MODEL) @ p[pre + "attn.wo"]


def causal_mask(seq, kind):
    """None for the fused SDPA path (kind 'sdpa', or 'auto' where torch has it), else the boolean
    mask [S, S] of the written-out path (True above the diagonal)."""
    import torch
    from torch_info import has_sdpa
    if kind == "sdpa" and not has_sdpa():
        sys.exit(f"--attention sdpa: torch {torch.__version__} has no scaled_dot_product_attention")
    if kind == "sdpa" or (kind == "auto" and has_sdpa()):
        return None
    return torch.triu(torch.ones(seq, seq, dtype=torch.bool), diagonal=1)


def forward_loss(p, tokens, targets, cos, sin, mask):
    """tokens, targets [B, S] -> scalar loss (cross-entropy + load-balancing losses)."""
    import torch.nn.functional as F
    from moe_layer_peer import moe_layer

    batch, seq = tokens.shape
    x = F.embedding(tokens.reshape(-1), p["tok_emb"])                                 # [T, d]
    aux = 0.0
    for i in range(LAYERS):
        pre = f"layers.{i}."
        x = x + attention(rmsnorm(x, p[pre + "attn_norm"]), p, pre, batch, seq, cos, sin, mask)
        y, lbl = moe_layer(rmsnorm(x, p[pre + "ffn_norm"]), p[pre + "moe.router"], p[pre + "moe.w1"],
                           p[pre + "moe.w3"], p[pre + "moe.w2"], TOP_K, LBL_COEF)
        x = x + y
        aux = aux + lbl
    logits = rmsnorm(x, p["final_norm"]) @ p["lm_head"]                               # [T, V]
    return F.cross_entropy(logits, targets.reshape(-1)) + aux


def worker(threads, batch, seq, steps, rounds, warmup, attention_kind):
    import torch  # imported only here, after the environment is set
    from torch_info import describe

    torch.set_num_threads(threads)
    info = describe()
    p, cos, sin = build(seq)
    params = list(p.values())
    opt = adamw(params)
    mask = causal_mask(seq, attention_kind)
    data = torch.Generator().manual_seed(1234)

    def step():
        rows = torch.randint(VOCAB, (batch, seq + 1), generator=data)
        opt.zero_grad(set_to_none=True)
        loss = forward_loss(p, rows[:, :-1], rows[:, 1:], cos, sin, mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    first_loss = step()
    for _ in range(max(warmup - 1, 0)):
        step()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        samples.append(batch * seq * steps / (time.perf_counter() - t0))
    med = sorted(samples)[len(samples) // 2]
    print(json.dumps(dict(info, threads=threads, tokens_per_s=med, rounds=samples, first_loss=first_loss,
                          parameters=sum(t.numel() for t in params),
                          attention="sdpa" if mask is None else "explicit")))


def read_safetensors(path):
    """{name: float32 tensor} in file order, and the metadata strings."""
    import struct
    import torch
    with open(path, "rb") as fh:
        raw = fh.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = bytearray(raw[8 + n:])
    out = {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} has dtype {h['dtype']}, expected F32")
        b, e = h["data_offsets"]
        out[name] = torch.frombuffer(data, dtype=torch.float32, offset=b, count=(e - b) // 4).reshape(h["shape"]).clone()
    return out, meta


def check(folder, attention_kind="auto"):
    """One training step from the Java model's weights and batch (TrainStepBench --export DIR):
    the loss, the gradient norm and the updated weights must match the Java step."""
    import torch
    before, meta = read_safetensors(os.path.join(folder, "before.safetensors"))
    after, _ = read_safetensors(os.path.join(folder, "after.safetensors"))
    batch, seq = int(meta["batch"]), int(meta["seq"])
    p, _, _ = build(seq)
    if set(p) != set(before):
        sys.exit(f"check failed: parameter names differ: only in torch {sorted(set(p) - set(before))}, "
                 f"only in Java {sorted(set(before) - set(p))}")
    for name in p:
        if tuple(p[name].shape) != tuple(before[name].shape):
            sys.exit(f"check failed: {name} is {tuple(p[name].shape)} here, {tuple(before[name].shape)} in Java")
        p[name] = before[name].clone().requires_grad_()
    params = list(p.values())
    opt = adamw(params)
    cos, sin = rope_tables(seq)
    mask = causal_mask(seq, attention_kind)
    print(f"check: attention {'sdpa' if mask is None else 'explicit'} on torch {torch.__version__}")
    tokens = torch.tensor([int(v) for v in meta["inputs"].split(",")]).view(batch, seq)
    targets = torch.tensor([int(v) for v in meta["targets"].split(",")]).view(batch, seq)
    loss = forward_loss(p, tokens, targets, cos, sin, mask)
    loss.backward()
    norm = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
    opt.step()
    jl, jn = float(meta["loss"]), float(meta["grad_norm"])
    # Adam's first step moves each weight by about lr * g / (|g| + eps): where |g| is near eps
    # (1e-8) the float rounding of g decides the step, so compare only where the clipped
    # gradient is well above eps and count the others.
    worst, where, skipped = 0.0, "", 0
    for name, t in p.items():
        sure = (t.grad.abs() > 1e-6) | (t.grad == 0)  # zero: only the weight decay moves it
        skipped += int((~sure).sum())
        d = (t.detach() - after[name]).abs()[sure]
        if d.numel() and float(d.max()) > worst:
            worst, where = float(d.max()), name
    print(f"loss: torch {loss.item():.6f}, java {jl:.6f}; grad norm: torch {norm:.6f}, java {jn:.6f}")
    print(f"weights after the step, where |grad| > 1e-6 or 0: max |torch - java| = {worst:.3g} ({worst / LR:.3g} x lr, "
          f"in {where}); {skipped:,} of {sum(t.numel() for t in params):,} weights with tinier gradients not compared")
    ok = abs(loss.item() - jl) <= 1e-4 * abs(jl) and abs(norm - jn) <= 1e-3 * jn and worst <= 1e-3 * LR
    if not ok:
        sys.exit("check failed: the PyTorch step differs from the Java step")
    print("check: the PyTorch model and step match the Java ones")


def java_results(path):
    """{threads: tokens/s} and the config from a TrainStepBench --json file."""
    with open(path) as fh:
        j = json.load(fh)
    return {r["threads"]: r["tokens_per_s"] for r in j["results"]}, j


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=3, help="optimizer steps per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8, help="not 8: not the named config (smoke tests)")
    ap.add_argument("--seq", type=int, default=256, help="not 256: not the named config (smoke tests)")
    ap.add_argument("--java-json", help="TrainStepBench --json FILE to compare with")
    ap.add_argument("--json", metavar="FILE", help="also write {torch, threads: tokens/s, rounds} to FILE (for bench/pytorch/pairs.py)")
    ap.add_argument("--check", metavar="DIR", help="only compare one step with TrainStepBench --export DIR")
    ap.add_argument("--attention", choices=["auto", "sdpa", "explicit"], default="auto",
                    help="attention core: torch's fused scaled_dot_product_attention (auto: where torch has it) "
                         "or scores/mask/softmax written out")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.check:
        check(a.check, a.attention)
        return
    if a.worker:
        worker(a.worker, a.batch, a.seq, a.steps, a.rounds, a.warmup, a.attention)
        return
    java, jcfg = java_results(a.java_json) if a.java_json else ({}, None)
    if jcfg and (jcfg["config"]["batch"], jcfg["config"]["seq_len"]) != (a.batch, a.seq):
        print(f"warning: the Java result is for batch {jcfg['config']['batch']} seq {jcfg['config']['seq_len']}, "
              f"this run for batch {a.batch} seq {a.seq}: the ratios compare different work", file=sys.stderr)
    table = []
    for t in [int(v) for v in a.threads.split(",")]:
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t),
                   MKL_NUM_THREADS=str(t), OMP_WAIT_POLICY="PASSIVE")
        out = subprocess.run([sys.executable, __file__, "--worker", str(t), "--batch", str(a.batch),
                              "--seq", str(a.seq), "--steps", str(a.steps), "--rounds", str(a.rounds),
                              "--warmup", str(a.warmup), "--attention", a.attention], env=env, check=True, capture_output=True, text=True).stdout
        table.append(json.loads(out.strip().splitlines()[-1]))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"torch": table[0]["torch"], "results": [{"threads": r["threads"], "tokens_per_s": r["tokens_per_s"],
                       "rounds": r["rounds"]} for r in table]}, fh, indent=1)
    named = (a.batch, a.seq) == (8, 256)
    print(f"torch {table[0]['torch']}, training step (fwd + bwd + clip + AdamW): {LAYERS} layers, d={D_MODEL}, "
          f"{HEADS} heads, seq {a.seq}, batch {a.batch}, MoE E={EXPERTS} k={TOP_K} d_ff {D_FF}, vocab {VOCAB}"
          + ("" if named else "  [NOT the named config: smoke test only]"))
    print(f"{table[0]['parameters']:,} parameters, first loss {table[0]['first_loss']:.4f} "
          f"(ln V + {LAYERS} x LBL at balance = {math.log(VOCAB) + LAYERS * LBL_COEF:.4f}); "
          f"median of {a.rounds} rounds x {a.steps} steps")
    slow = [r for r in table if r["sgemm_gflops"] < 20]
    print(header(table) + f"; attention: {table[0]['attention']}")
    if slow:
        print("WARNING: torch's matmul is far below this CPU's OpenBLAS speed (~85-95 GFLOP/s per thread): it is "
              "probably using Debian's reference libblas3. Install OpenBLAS (apt-get install libopenblas0-pthread) "
              "before comparing; these PyTorch numbers are not a fair peer.")
    cols = f"{'threads':>7} {'torch tok/s':>12}"
    if java:
        cols += f" {'java tok/s':>11} {'java/torch':>10}"
    print(cols)
    for r in table:
        line = f"{r['threads']:>7} {r['tokens_per_s']:>12,.1f}"
        j = java.get(r["threads"])
        if java:
            line += f" {j:>11,.1f} {j / r['tokens_per_s']:>9.3f}x" if j else f" {'-':>11} {'-':>10}"
        print(line)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How much memory-aware routing steers, per configuration of a sweep: from every run's mar.jsonl,
the memory term's spread over experts relative to the router logits' (ratio = std_e(alpha*cos) /
std_e(z)) and the share of top-k choices the memory changes (topk_changed), averaged over the last
--tail share of the steps, over the MoE layers, then over seeds (mean and sample std over seeds),
and the same per layer. Usage:

  mar_steering.py SWEEP_DIR [--tail 0.1]

Runs without mar.jsonl (MAR off) are skipped; only finished runs (done.json) count.
"""
import json
import math
import pathlib
import re
import sys


def tail_means(path, tail):
    """(ratio, topk_changed) per layer, averaged over the last `tail` share of the steps."""
    rows = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    if not rows:
        return None
    last = rows[-1]["step"]
    first = last - max(1, int(round(last * tail))) + 1
    sums = {}
    for r in rows:
        if r["step"] < first:
            continue
        for L in r["layers"]:
            if L["ratio"] is None or L["topk_changed"] is None:
                continue
            s = sums.setdefault(L["layer"], [0.0, 0.0, 0])
            s[0] += L["ratio"]
            s[1] += L["topk_changed"]
            s[2] += 1
    return {layer: (s[0] / s[2], s[1] / s[2]) for layer, s in sorted(sums.items()) if s[2]}


def mean_sd(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else float("nan")
    return m, sd


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    sweep = pathlib.Path(argv[1])
    tail = float(argv[argv.index("--tail") + 1]) if "--tail" in argv else 0.1
    by_label = {}
    for run in sorted((sweep / "runs").iterdir()):
        m = re.fullmatch(r"(.+)-s(\d+)", run.name)
        if not m or not (run / "done.json").exists() or not (run / "mar.jsonl").exists():
            continue
        per_layer = tail_means(run / "mar.jsonl", tail)
        if per_layer:
            by_label.setdefault(m.group(1), []).append(per_layer)
    print("| config | seeds | memory / logit std | top-k changed | per layer: ratio, top-k changed |")
    print("|---|---|---|---|---|")
    for label, runs in by_label.items():
        ratio = mean_sd([sum(v[0] for v in r.values()) / len(r) for r in runs])
        changed = mean_sd([sum(v[1] for v in r.values()) / len(r) for r in runs])
        layers = sorted(runs[0])
        per = " / ".join(f"L{l} {sum(r[l][0] for r in runs) / len(runs):.3f}, {100 * sum(r[l][1] for r in runs) / len(runs):.1f}%"
                         for l in layers)
        print(f"| {label} | {len(runs)} | {ratio[0]:.3f} ± {ratio[1]:.3f} | {100 * changed[0]:.1f}% ± {100 * changed[1]:.1f} | {per} |")


if __name__ == "__main__":
    main(sys.argv)

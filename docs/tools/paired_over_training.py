#!/usr/bin/env python3
"""Paired-seed differences of one metric between two configurations of a sweep, per MoE layer and
per validation step: does an effect hold in every layer, every seed and over the whole run?

Reads <sweep>/runs/<label>-s<seed>/eval.jsonl (the `scalars` of every validation run, e.g.
layer0.purity_norm) or, with --probe, probe.jsonl (switch_rate, consistency, train_eval_jaccard per
layer; averaged over the probes of each window of --window steps). For each step (window) and layer
it prints B - A: the mean over the seeds both have, its 95% Student t interval (n - 1 degrees of
freedom) and the sign in each seed. Usage:

  paired_over_training.py SWEEP_DIR LABEL_A LABEL_B METRIC [--probe] [--window N]

METRIC is the per-layer name without the prefix (purity_norm, utilization, cond_nmi; with --probe
switch_rate, consistency).
"""
import json
import math
import pathlib
import sys

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def runs_of(sweep, label):
    """seed -> run folder of every run of this label."""
    out = {}
    for d in sorted((sweep / "runs").glob(label + "-s*")):
        seed = d.name[len(label) + 2:]
        if seed.isdigit() and (d / "done.json").exists():
            out[int(seed)] = d
    return out


def eval_series(run, metric):
    """step -> layer -> value, from eval.jsonl scalars."""
    series = {}
    for line in (run / "eval.jsonl").read_text().splitlines():
        r = json.loads(line)
        layers = {}
        for key, v in r["scalars"].items():
            if key.startswith("layer") and key.endswith("." + metric) and v is not None:
                layers[int(key[5:key.index(".")])] = v
        series[r["step"]] = layers
    return series


def probe_series(run, metric, window):
    """window end step -> layer -> mean of the probes in (end - window, end]."""
    sums = {}
    for line in (run / "probe.jsonl").read_text().splitlines():
        r = json.loads(line)
        end = -(-r["step"] // window) * window
        for l in r["layers"]:
            if l.get(metric) is None:
                continue
            s = sums.setdefault(end, {}).setdefault(l["layer"], [0.0, 0])
            s[0] += l[metric]
            s[1] += 1
    return {end: {layer: s / n for layer, (s, n) in layers.items()} for end, layers in sums.items()}


def interval(diffs):
    n = len(diffs)
    mean = sum(diffs) / n
    if n < 2:
        return mean, float("nan")
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    return mean, T975.get(n - 1, 1.96) * sd / math.sqrt(n)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    probe = "--probe" in argv
    window = int(argv[argv.index("--window") + 1]) if "--window" in argv else 100
    if "--window" in argv:
        args.remove(str(window))
    if len(args) != 4:
        sys.exit(__doc__)
    sweep, a, b, metric = pathlib.Path(args[0]), args[1], args[2], args[3]
    ra, rb = runs_of(sweep, a), runs_of(sweep, b)
    seeds = sorted(set(ra) & set(rb))
    if not seeds:
        sys.exit(f"paired_over_training.py: no seed with done runs of both '{a}' and '{b}' under {sweep}/runs")
    read = (lambda r: probe_series(r, metric, window)) if probe else (lambda r: eval_series(r, metric))
    sa = {s: read(ra[s]) for s in seeds}
    sb = {s: read(rb[s]) for s in seeds}
    steps = sorted(set.intersection(*(set(sa[s]) & set(sb[s]) for s in seeds)))
    layers = sorted(set.intersection(*(set(sa[s][steps[-1]]) for s in seeds))) if steps else []
    print(f"{metric}: {b} - {a}, seeds {seeds}; mean ± 95% t half-width [sign per seed]\n")
    print("| step | " + " | ".join(f"layer {l}" for l in layers) + " |")
    print("|---|" + "---|" * len(layers))
    for step in steps:
        cells = []
        for l in layers:
            diffs = [sb[s][step][l] - sa[s][step][l] for s in seeds if l in sa[s][step] and l in sb[s][step]]
            mean, half = interval(diffs)
            signs = "".join("+" if d > 0 else "-" if d < 0 else "0" for d in diffs)
            cells.append(f"{mean:+.4f} ± {half:.4f} [{signs}]")
        print(f"| {step} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv)

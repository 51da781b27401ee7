#!/usr/bin/env python3
"""Paired-seed differences of a sweep's final metrics against one baseline configuration.

Reads <sweep>/runs/*/done.json (label, seed, values), pairs every configuration's runs with the
baseline's runs of the same seed, and prints a Markdown table per metric: mean of the paired
differences (config - baseline), its 95% t interval (n - 1 degrees of freedom), and the per-seed
differences. Usage: paired_seeds.py SWEEP_DIR BASELINE_LABEL [METRIC ...]
"""
import json
import math
import pathlib
import sys

# two-sided 95% Student t quantiles by degrees of freedom
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}
DEFAULT = ["val_loss", "domain_loss_macro", "purity", "purity_norm", "utilization", "expert_entropy", "max_vio", "nmi",
           "train_drop_rate"]


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: paired_seeds.py SWEEP_DIR BASELINE_LABEL [METRIC ...]")
    sweep, base = pathlib.Path(argv[1]), argv[2]
    metrics = argv[3:] or DEFAULT
    runs = {}
    for f in sorted((sweep / "runs").glob("*/done.json")):
        d = json.loads(f.read_text())
        runs.setdefault(d["label"], {})[d["seed"]] = d["values"]
    if base not in runs:
        sys.exit(f"paired_seeds.py: no done runs of baseline '{base}' under {sweep}/runs; labels: {', '.join(sorted(runs))}")
    for m in metrics:
        print(f"\n**{m}** (configuration - {base}; mean [95% t interval]; per seed)\n")
        print("| configuration | seeds | mean difference | 95% interval | per seed |")
        print("| --- | --- | --- | --- | --- |")
        for label in sorted(runs):
            if label == base:
                continue
            seeds = sorted(s for s in runs[label] if s in runs[base] and m in runs[label][s] and m in runs[base][s])
            diffs = [runs[label][s][m] - runs[base][s][m] for s in seeds]
            if not diffs:
                continue
            n = len(diffs)
            mean = sum(diffs) / n
            if n > 1:
                sd = math.sqrt(sum((x - mean) ** 2 for x in diffs) / (n - 1))
                half = T95.get(n - 1, 1.96) * sd / math.sqrt(n)
                interval = f"[{mean - half:+.4f}, {mean + half:+.4f}]"
            else:
                interval = "n/a (one seed)"
            per = ", ".join(f"s{s}: {x:+.4f}" for s, x in zip(seeds, diffs))
            print(f"| {label} | {n} | {mean:+.4f} | {interval} | {per} |")


if __name__ == "__main__":
    main(sys.argv)

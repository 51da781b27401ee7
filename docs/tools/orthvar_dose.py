#!/usr/bin/env python3
"""Dose-response of the orthogonality and variance losses at fixed coefficients (sweep
study-orthvar-fixed): for every orth-b<beta> and var-g<gamma> configuration, the paired-seed
difference against aux_only of the final validation loss and utilization, with 95% t intervals;
prints a Markdown table and, with --png, plots both against the coefficient (log scale).

    python3 docs/tools/orthvar_dose.py runs/sweeps/study-orthvar-fixed [--png OUT.png]

Reads <sweep>/runs/*/done.json. The plot needs matplotlib (pip install matplotlib).
"""
import argparse
import json
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from paired_over_training import interval  # noqa: E402  (mean and 95% t half-width of paired differences)

ARMS = {"orth": r"orth-b([0-9.]+(?:e[+-]?[0-9]+)?)$", "var": r"var-g([0-9.]+(?:e[+-]?[0-9]+)?)$"}
METRICS = ["val_loss", "utilization"]


def paired(runs, base, label, metric):
    """Mean of (label - base) over the seeds both ran, and its 95% t half-width."""
    seeds = sorted(set(runs[base]) & set(runs[label]))
    if not seeds:
        return float("nan"), float("nan"), 0
    mean, half = interval([runs[label][s][metric] - runs[base][s][metric] for s in seeds])
    return mean, half, len(seeds)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sweep", type=pathlib.Path)
    p.add_argument("--base", default="aux_only")
    p.add_argument("--png", type=pathlib.Path)
    a = p.parse_args()
    runs = {}
    for f in sorted((a.sweep / "runs").glob("*/done.json")):
        d = json.loads(f.read_text())
        runs.setdefault(d["label"], {})[d["seed"]] = d["values"]
    if a.base not in runs:
        sys.exit(f"orthvar_dose.py: no done runs of '{a.base}' under {a.sweep}/runs; labels: {', '.join(sorted(runs))}")
    curves = {arm: [] for arm in ARMS}
    for label in runs:
        for arm, pat in ARMS.items():
            m = re.match(pat, label)
            if m:
                curves[arm].append((float(m.group(1)), label))
    print("| loss | coefficient | seeds | " + " | ".join(f"Δ {m} [95% CI]" for m in METRICS) + " |")
    print("|---|---|---|" + "---|" * len(METRICS))
    points = {}
    for arm in ARMS:
        for coef, label in sorted(curves[arm]):
            cells, n = [], 0
            for metric in METRICS:
                mean, half, n = paired(runs, a.base, label, metric)
                points.setdefault((arm, metric), []).append((coef, mean, half))
                cells.append(f"{mean:+.3f} [{mean - half:+.3f}, {mean + half:+.3f}]")
            print(f"| {'L_o' if arm == 'orth' else 'L_v'} | {coef:g} | {n} | " + " | ".join(cells) + " |")
    if a.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, len(METRICS), figsize=(10, 3.8))
        for ax, metric in zip(axes, METRICS):
            for arm, name in (("orth", "L_o alone (beta)"), ("var", "L_v alone (gamma)")):
                pts = points.get((arm, metric), [])
                if pts:
                    xs, ys, hs = zip(*pts)
                    ax.errorbar(xs, ys, yerr=hs, marker="o", capsize=3, label=name)
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_xscale("log")
            ax.set_xlabel("fixed coefficient")
            ax.set_ylabel(f"Δ {metric} vs {a.base}")
            ax.legend(fontsize=8)
        fig.suptitle("study-orthvar-fixed: paired-seed differences, 95% t intervals", fontsize=10)
        fig.tight_layout()
        fig.savefig(a.png, dpi=110)
        print(f"wrote {a.png}")


if __name__ == "__main__":
    main()

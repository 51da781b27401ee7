"""Java / PyTorch training-step ratios from runs taken in alternating pairs.

The host is shared and its speed drifts by tens of percent over minutes, so one Java run followed
by one PyTorch run can compare a quiet minute with a busy one. bench/front-page.sh therefore runs
the pair several times, alternating which side goes first, and this script prints each pair's
ratio (Java and PyTorch measured minutes apart) and the median over pairs.

    python3 bench/pytorch/pairs.py DIR     # DIR holds train_step-N.json (TrainStepBench --json)
                                           # and train_step_peer-N.json (train_step_peer.py --json);
                                           # train_step_native.json, if there, is set against the
                                           # median PyTorch of the pairs
"""
import glob
import json
import os
import statistics
import sys


def load(path):
    with open(path) as fh:
        return {r["threads"]: r["tokens_per_s"] for r in json.load(fh)["results"]}


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    pairs = []
    for jpath in sorted(glob.glob(os.path.join(d, "train_step-*.json"))):
        n = jpath.rsplit("-", 1)[1][:-len(".json")]
        ppath = os.path.join(d, f"train_step_peer-{n}.json")
        if os.path.exists(ppath):
            pairs.append((n, load(jpath), load(ppath)))
    if not pairs:
        sys.exit(f"pairs: no train_step-N.json with a train_step_peer-N.json in {d}")
    threads = sorted(set(t for _, j, p in pairs for t in j if t in p))
    print(f"training step, Java / PyTorch in {len(pairs)} alternating pairs (tokens/s, median of each side's rounds)")
    print(f"{'threads':>7} {'pair':>4} {'java tok/s':>11} {'torch tok/s':>12} {'java/torch':>10}")
    for t in threads:
        ratios = []
        for n, j, p in pairs:
            if t in j and t in p:
                ratios.append(j[t] / p[t])
                print(f"{t:>7} {n:>4} {j[t]:>11,.0f} {p[t]:>12,.0f} {ratios[-1]:>9.2f}x")
        jm = statistics.median(j[t] for _, j, p in pairs if t in j)
        pm = statistics.median(p[t] for _, j, p in pairs if t in p)
        print(f"{t:>7} {'all':>4} {jm:>11,.0f} {pm:>12,.0f} {statistics.median(ratios):>9.2f}x"
              f"  (median ratio over pairs; range {min(ratios):.2f}-{max(ratios):.2f}x)")
    native = os.path.join(d, "train_step_native.json")
    if os.path.exists(native):
        nat = load(native)
        print("Java with the native (C) SGEMM, one run after the pairs, against the pairs' median PyTorch:")
        for t in threads:
            if t in nat:
                pm = statistics.median(p[t] for _, j, p in pairs if t in p)
                print(f"{t:>7} {'nat':>4} {nat[t]:>11,.0f} {pm:>12,.0f} {nat[t] / pm:>9.2f}x")


if __name__ == "__main__":
    main()

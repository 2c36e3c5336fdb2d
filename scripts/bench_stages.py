"""Benchmark: time per stage and per step of the three-stage training for one toy concept.

    python scripts/bench_stages.py [--backbone toy|DIR|toy-untrained] [--concept NAME] [--seed 0]

Trains one concept of a freshly made toy world through stages 1, 2 and 3 with the tiny recipe and prints, per stage,
the wall time, the number of optimizer steps and the time per step, on the shipped toy backbone by default
(`toy-untrained`: the same architecture with random weights). Numbers, not a test.
"""
import argparse, tempfile, time
from pathlib import Path

import torch

from unictokens.backbones import load_backbone, untrained_toy_backbone
from unictokens.data import UniCTokensData
from unictokens.stages import train
from unictokens.toyworld import make_world


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backbone", default="toy"); ap.add_argument("--concept", default=None)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    backbone = untrained_toy_backbone(a.seed) if a.backbone == "toy-untrained" else load_backbone(a.backbone)
    with tempfile.TemporaryDirectory() as d:
        root = make_world(Path(d) / "world", seed=a.seed)
        concept = a.concept or UniCTokensData(root).concepts()[0]
        marks = []
        log = lambda m: marks.append((time.perf_counter(), m))
        t0 = time.perf_counter()
        train(concept, root, backbone, (1, 2, 3), Path(d) / "run", a.seed, "tiny", log=log)
        import json
        hist = json.loads((Path(d) / "run" / "history.json").read_text())
    print(f"<{concept}> through stages 1-3 (tiny recipe, backbone {backbone.name}), {torch.get_num_threads()} CPU threads")
    start = t0
    for t, m in marks:
        if m.startswith("stage ") and "s, concept file in" in m:
            s = int(m.split()[1].rstrip(":"))
            steps = sum(h["stage"] == s for h in hist)
            print(f"  stage {s}: {t - start:6.1f} s, {steps:3d} steps, {1000 * (t - start) / steps:6.1f} ms/step (incl. initialisation and checkpoints)")
            start = t
    print(f"  total: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

"""The toy backbone's knowledge-in-context figure (08_backbones) at several CFG scales and step counts. Numbers, not a test.

    python scripts/backbone_guidance.py                         # this machine's CPU: about 4 minutes per setting
    python scripts/backbone_guidance.py --device cuda --grid 16:2,16:5
    python scripts/backbone_guidance.py --device cuda --grid 16:2 --all      # every dressed held-out scene, not 300
    python scripts/backbone_guidance.py --device cuda --grid 16:2 --all --backbone out/cand   # a candidate backbone

The 300 held-out dressed scenes are those the shipped manifest's figure was measured on; only the sampler differs.
Each figure comes with its 95% Wilson interval over the pictures.
"""
import argparse, json, math, time

from unictokens import backbones as bb


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu"); ap.add_argument("--grid", default="16:2,16:3,16:4,16:5,32:3", help="STEPS:CFG,...")
    ap.add_argument("--all", action="store_true", help="every dressed scene of the held-out pool, not the manifest's 300")
    ap.add_argument("--out", default=None)
    ap.add_argument("--backbone", default="toy", help="the shipped toy backbone, or a folder pretrain_toy wrote")
    a = ap.parse_args()
    b, cfg = bb.load_backbone(a.backbone, device=a.device), bb.PretrainConfig.gpu()
    held_scenes, _ = bb.render_pool(cfg.heldout, cfg.seed + 1000, 0)  # as pretrain_toy renders its held-out pool
    dressed = [s for s in held_scenes if s.accessory != "none"][: None if a.all else cfg.n_eval]
    rows = []
    for steps, g in (x.split(":") for x in a.grid.split(",")):
        t0 = time.time()
        v = bb.in_context_knowledge_t2i(b.showo, b.magvit, b.probe, b.prompter, dressed, steps=int(steps), guidance=float(g))
        rows.append({"steps": int(steps), "guidance": float(g), "in_context_knowledge_t2i": v, "interval": wilson(v, len(dressed)),
                     "pictures": len(dressed), "device": a.device, "seconds": round(time.time() - t0, 1)})
        print(json.dumps(rows[-1]), flush=True)
    if a.out: open(a.out, "w").write(json.dumps(rows, indent=1) + "\n")


def wilson(p: float, n: int, z: float = 1.96) -> list:
    "95% Wilson score interval of a proportion `p` of `n`."
    c, h = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(c - h, 4), round(c + h, 4)]


if __name__ == "__main__":
    main()

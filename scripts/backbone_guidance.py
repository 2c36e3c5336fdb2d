"""The toy backbone's knowledge-in-context figure (08_backbones) at several CFG scales and step counts. Numbers, not a test.

    python scripts/backbone_guidance.py                         # this machine's CPU: about 4 minutes per setting
    python scripts/backbone_guidance.py --device cuda --grid 16:2,16:5

The 300 held-out dressed scenes are those the shipped manifest's figure was measured on; only the sampler differs.
"""
import argparse, json, time

from unictokens import backbones as bb


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu"); ap.add_argument("--grid", default="16:2,16:3,16:4,16:5,32:3", help="STEPS:CFG,...")
    a = ap.parse_args()
    b, cfg = bb.load_backbone("toy", device=a.device), bb.PretrainConfig.gpu()
    held_scenes, _ = bb.render_pool(cfg.heldout, cfg.seed + 1000, 0)  # as pretrain_toy renders its held-out pool
    dressed = [s for s in held_scenes if s.accessory != "none"][:cfg.n_eval]
    rows = []
    for steps, g in (x.split(":") for x in a.grid.split(",")):
        t0 = time.time()
        v = bb.in_context_knowledge_t2i(b.showo, b.magvit, b.probe, b.prompter, dressed, steps=int(steps), guidance=float(g))
        rows.append({"steps": int(steps), "guidance": float(g), "in_context_knowledge_t2i": v, "pictures": len(dressed), "seconds": round(time.time() - t0, 1)})
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()

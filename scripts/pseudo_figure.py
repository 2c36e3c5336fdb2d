"""`pseudo_knowledge_t2i` of existing toy backbones: can a backbone draw a made-up entity's fact from rows that only read it?

    python scripts/pseudo_figure.py --backbones toy,out/cand --n 100 --device cpu --out results/backbone/pseudo_figure.json

For each backbone: held-out made-up entities (`backbones.pseudo_eval_set`, encoded by that backbone's MAGVIT-v2), fresh
rows learnt on the frozen backbone from understanding items alone, then 'a photo of <rows> NAME wearing its hat.' drawn
and judged strictly by the backbone's probe. The same entities, learning seed and sampling seed for every backbone.
Numbers, not a test; the 95% interval is Wilson's over the n pictures.
"""
import argparse, json, time
from pathlib import Path
import torch
from backbone_guidance import wilson  # (scripts/ is on the path when a script runs)
from unictokens.backbones import load_backbone, pseudo_eval_set, pseudo_knowledge_t2i


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backbones", default="toy", help="comma-separated: 'toy' or folders pretrain_toy wrote")
    ap.add_argument("--n", type=int, default=100, help="held-out made-up entities (one picture each)")
    ap.add_argument("--learn-steps", type=int, default=150); ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = {"n": a.n, "learn_steps": a.learn_steps, "device": a.device, "backbones": {}}
    for name in a.backbones.split(","):
        t0, bb = time.time(), load_backbone(name, device=a.device)
        ents, codes = pseudo_eval_set(a.n, bb.magvit, a.device)
        with torch.no_grad(): black = bb.magvit.encode(torch.full((1, 3, 64, 64), -1.0, device=a.device)).cpu()[0]
        v = pseudo_knowledge_t2i(bb.showo, bb.magvit, bb.probe, bb.prompter, ents, codes, black, learn_steps=a.learn_steps)
        out["backbones"][name] = {"pseudo_knowledge_t2i": v, "interval": wilson(v, a.n), "showo_sha256": bb.manifest["sha256"]["showo/pytorch_model.safetensors"],
                                  "manifest_quality": bb.manifest["quality"], "seconds": round(time.time() - t0, 1)}
        print(f"{name}: {v:.3f} {wilson(v, a.n)} in {time.time() - t0:.0f} s", flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1) + "\n")

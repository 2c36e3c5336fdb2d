"""Re-pretrain the toy backbone after the toy world's *text* changed: Show-o and CLIP learn again, while MAGVIT-v2 and the
attribute probe, which see only pictures (and the pictures did not change), are taken from an earlier backbone.

    python scripts/repretrain_toy.py --out out/toy --device cuda           # a lent GPU, about nine minutes
    python scripts/repretrain_toy.py --out /tmp/t --device cpu --smoke     # the whole path in a minute

The earlier backbone's MAGVIT-v2 and probe are written as `pretrain_toy`'s finished parts (float16 weights and a record
with their own seconds, steps and loss curve), so `pretrain_toy` reuses them exactly as it reuses its own parts after a
split run; the manifest says which parts came from where.
"""
import argparse, json
from pathlib import Path
from safetensors.torch import load_file
from unictokens.backbones import TOY_ASSETS, PretrainConfig, pretrain_toy, _half
from unictokens.checkpoints import write_json, write_safetensors
from unictokens.magvit import MAGVITv2


def seed_parts(src: Path, out: Path):
    "Write src's MAGVIT-v2 and probe as finished parts of a pretrain_toy run into out/parts."
    man = json.loads((src / "manifest.json").read_text())
    weights = {"magvit": _half(MAGVITv2.from_pretrained(src / "magvit").state_dict()), "probe": load_file(src / "probe.safetensors")}
    for name, sd in weights.items():
        write_safetensors({k: v.contiguous() for k, v in sd.items()}, out / "parts" / f"{name}.safetensors")
        rec = {**man["parts"][name], "history": man["loss_curves"][name], "from": f"{src} (git {man.get('git_commit', '?')[:12]})"}
        write_json(rec, out / "parts" / f"{name}.json")
    return man


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True); ap.add_argument("--device", default="cuda")
    ap.add_argument("--from", dest="src", default=str(TOY_ASSETS), help="the backbone whose MAGVIT-v2 and probe are kept")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes: the whole path on a CPU")
    ap.add_argument("--showo-budget", type=float, default=None, help="seconds for Show-o (default: PretrainConfig.gpu's)")
    a = ap.parse_args()
    out = Path(a.out)
    old = seed_parts(Path(a.src), out)
    cfg = PretrainConfig.smoke() if a.smoke else PretrainConfig.gpu()
    if a.showo_budget: cfg.budgets = {**cfg.budgets, "showo": a.showo_budget}
    cmd = f"python scripts/repretrain_toy.py --out {a.out} --device {a.device}" + (" --smoke" if a.smoke else "")
    m = pretrain_toy(out, cfg, a.device, command=cmd)
    m["note"] = (f"MAGVIT-v2 and the probe are the earlier backbone's ({old.get('card')}, git {old.get('git_commit', '?')[:12]}): "
                 "the pictures did not change. CLIP and Show-o were trained again by this command.")
    write_json(m, out / "manifest.json")
    print(json.dumps({k: round(v, 4) for k, v in m["quality"].items()}), "passes" if m["passes_bars"] else "MISSES a bar")

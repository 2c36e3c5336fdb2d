"""Benchmark: the three stages at paper scale (Show-o 512 architecture), time per stage and peak GPU memory.

    python scripts/bench_paper_scale.py --settings bf16 --out paper.json        # the whole recipe: 20 epochs a stage
    python scripts/bench_paper_scale.py --epochs 1 --settings t4                # one epoch a stage: memory in the T4 setting

Builds Show-o 512 (Phi-1.5 body, 24 layers of width 2048, 1,024 image tokens) and the released MAGVIT-v2 architecture
with random weights (the figures need the shapes, not the weights), an offline word tokenizer padded to Phi-1.5's
50,295 entries, and one toy-world concept with its pictures upscaled to 512 px. Then it runs `stages.train` with the
paper preset (the released recipe, perception with 20 images x 50 steps, guidance 5) for `--epochs` epochs per stage
(default 20, the recipe's) under each setting and prints seconds per stage and in all, per optimizer step, and peak GPU
memory. With fewer than 15 epochs stage 2 starts from stage 1's last epoch, since the release's epoch 15 does not exist.

Settings: `bf16` = weights in bfloat16, bf16 autocast (an H100/A100); `t4` = what the docs recommend for a 16 GB
Colab T4: weights in float16, fp16 autocast with loss scaling, gradient checkpointing; `t4_lean` = the same with the
lean backward (three projections a layer recomputed, `engine.LeanMLP`/`ProjNorm`) instead of whole layers. Numbers,
not a test.
"""
import argparse, json, tempfile, time
from dataclasses import replace
from pathlib import Path

import torch

from unictokens import toyworld as tw
from unictokens.backbones import Backbone
from unictokens.data import UniCTokensData
from unictokens.magvit import MAGVITv2, MAGVITv2Config
from unictokens.prompting import word_tokenizer
from unictokens.showo import ShowO, ShowOConfig
from unictokens.stages import train

SETTINGS = {"bf16": dict(dtype=torch.bfloat16, precision="bf16", grad_checkpointing=False),
            "t4": dict(dtype=torch.float16, precision="fp16", grad_checkpointing=True),
            "t4_lean": dict(dtype=torch.float16, precision="fp16", grad_checkpointing="lean")}


def paper_backbone(dtype, device="cuda") -> Backbone:
    "Show-o 512 and MAGVIT-v2 (showlab) with random weights, built on the device."
    words = tw.vocabulary()
    tok = word_tokenizer(words + [f"filler{i}" for i in range(50295 - 2 - len(words))])
    assert len(tok) == 50295, len(tok)
    cfg = replace(ShowOConfig.showo_512(), text_size=len(tok), eot_id=0)
    torch.manual_seed(0)
    with torch.device(device):
        showo = ShowO(cfg).to(dtype).eval()
        magvit = MAGVITv2(MAGVITv2Config.showlab()).eval()
    return Backbone("show-o-512 (random weights)", tok, magvit, showo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20); ap.add_argument("--settings", default="bf16,t4")
    ap.add_argument("--out", default=None); ap.add_argument("--concept", default=None)
    a = ap.parse_args()
    assert torch.cuda.is_available(), "this benchmark needs a GPU"
    results = {"card": torch.cuda.get_device_name(), "torch": torch.__version__, "epochs_run": a.epochs, "settings": {}}
    with tempfile.TemporaryDirectory() as d:
        root = tw.make_world(Path(d) / "world", seed=0)
        data = UniCTokensData(root)
        concept = a.concept or next(c for c in data.concepts() if data.concept_categories()[c] == "animal")
        for name in a.settings.split(","):
            s = SETTINGS[name]
            torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            b = paper_backbone(s["dtype"])
            built = time.perf_counter() - t0
            weights_gib = torch.cuda.memory_allocated() / 2**30
            steps = {}
            run = Path(d) / name
            short = {"start_epoch": None} if a.epochs < 15 else {}  # no epoch 15 to start stage 2 from
            t1 = time.perf_counter()
            train(concept, root, b, out_dir=run, preset="paper", epochs=a.epochs, **({"save_every": a.epochs} if a.epochs < 5 else {}),
                  precision=s["precision"], grad_checkpointing=s["grad_checkpointing"], **short,
                  log=lambda m: print(f"[{name}] {time.perf_counter() - t1:6.1f} s {m}", flush=True))
            total = time.perf_counter() - t1
            timing = json.loads((run / "system.json").read_text())["timing"]
            hist = json.loads((run / "history.json").read_text())
            for st in timing:
                n = sum(h["stage"] == int(st[-1]) for h in hist)
                timing[st]["steps"] = n
                timing[st]["s_per_step"] = round(timing[st]["seconds"] / max(1, n), 4)
            results["settings"][name] = {"build_s": round(built, 1), "weights_gib": round(weights_gib, 2), "train_s": round(total, 1),
                                         "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2), "stages": timing}
            print(json.dumps({name: results["settings"][name]}), flush=True)
            del b; torch.cuda.empty_cache()
    print(json.dumps(results, indent=1))
    if a.out: Path(a.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

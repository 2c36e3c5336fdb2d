"""Where the toy backbone's `in_context_knowledge_t2i` misses come from: reading the context, or drawing the picture.

    python scripts/knowledge_ceiling.py --device cuda --out ceiling.json   # about 30 s on a GPU
    python scripts/knowledge_ceiling.py --backbone /tmp/cand               # a candidate `repretrain_toy.py` wrote
    python scripts/knowledge_ceiling.py --magvit out/m8/parts/magvit.safetensors   # another tokenizer, the shipped probe judging

The same 300 held-out scenes with an accessory that the manifest's figure uses (`pretrain_toy`'s held-out pool,
seed 1000, the first 300 dressed scenes), read by the attribute probe on the six attributes the strict score needs
(`backbones.STRICT`), in four forms:
- `real`: the rendered pictures themselves (the probe's own accuracy);
- `real_through_magvit`: the pictures through the tokenizer and back (the best any drawing in codes can score);
- `full_caption`: drawn from a caption that names every attribute ("a photo of a blue striped dog with a star, ...,
  wearing a white scarf."): drawing with nothing to read;
- `in_context`: drawn from the figure's own prompts (look and accessory colour only in facts about a made-up name).
Each gives the misses per attribute, the strict hits (every attribute right), and the accessory-colour misses by kind of
accessory and by the subject's size as the probe reads it in the picture (the prompts in context do not give a size). Numbers, not a test.
With `--magvit` (a MAGVIT-v2 folder, or the `parts/magvit.safetensors` a `repretrain_toy.py --stop-after magvit` run
keeps), that tokenizer replaces the backbone's and only the first two forms are measured: Show-o's codes belong to
the backbone's own tokenizer.
"""
import argparse, json, random, time
import torch
from unictokens import toyworld as tw
from unictokens.backbones import STRICT, _Filled, knowledge_prompt, load_backbone, render_pool, to_model
from unictokens.sampling import t2i_generate


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda"); ap.add_argument("--out", default=None)
    ap.add_argument("--backbone", default="toy", help="'toy' (the shipped one) or a folder pretrain_toy wrote")
    ap.add_argument("--magvit", default=None, help="another MAGVIT-v2 (folder or parts/magvit.safetensors): the tokenizer forms only")
    ap.add_argument("--workers", type=int, default=8, help="processes rendering the held-out pool")
    a = ap.parse_args()
    dev = a.device
    b = load_backbone(a.backbone)
    model, vq, pr, probe = b.showo.to(dev).eval(), b.magvit.to(dev).eval(), b.prompter, b.probe.to(dev).eval()
    if a.magvit: vq = other_magvit(a.magvit).to(dev).eval()
    held_scenes, held = render_pool(2000, 1000, a.workers)  # pretrain_toy's held-out pool (PretrainConfig: heldout, seed + 1000)
    idx = [i for i, s in enumerate(held_scenes) if s.accessory != "none"][:300]
    dressed, pics = [held_scenes[i] for i in idx], held[idx]
    want = lambda k: torch.tensor([tw.ATTRIBUTES[k].index(tw.scene_labels(s)[k]) for s in dressed], device=dev)

    def misses(images):
        "({attribute: pictures read wrong}, strict hits, {accessory colour misses by accessory and by subject size})."
        with torch.no_grad(): out = probe(images)
        ok, per = torch.ones(len(dressed), dtype=torch.bool, device=dev), {}
        for k in STRICT:
            right = out[k].argmax(-1) == want(k); per[k] = int((~right).sum()); ok &= right
            if k == "accessory_colour": wrong = (~right).tolist()
        kind = [s.accessory for s in dressed]  # asked for in every form
        size = [tw.ATTRIBUTES["size"][i] for i in out["size"].argmax(-1).tolist()]  # as drawn (the prompts in context do not say it)
        by = {f"{name} {v}": f"{sum(w for x, w in zip(xs, wrong) if x == v)}/{xs.count(v)}"
              for name, xs in (("accessory", kind), ("size read", size)) for v in sorted(set(xs))}
        return per, int(ok.sum()), by

    res, t0 = {}, time.time()
    with torch.no_grad():
        rec = torch.cat([vq.decode(vq.encode(to_model(pics[i:i + 100], dev))).clamp(-1, 1) for i in range(0, len(pics), 100)])
        res["real_through_magvit"] = misses(rec)
        res["real"] = misses(to_model(pics, dev))
        texts = []
        if not a.magvit:
            g, rng = torch.Generator(device=dev).manual_seed(0), random.Random(0)
            codes = torch.cat([t2i_generate(model, pr, [tw.caption(s, rng, full=True) for s in dressed[i:i + 100]], steps=16, guidance=2.0, generator=g)
                               for i in range(0, 300, 100)])
            res["full_caption"] = misses(vq.decode(codes).clamp(-1, 1))
            # the figure's own prompts and random streams (backbones.in_context_knowledge_t2i, seed 0)
            rng, gg, gen = random.Random("knowledge-0"), torch.Generator().manual_seed(0), torch.Generator(device=dev).manual_seed(0)
            cs = []
            for i in range(0, 300, 100):
                tx = [knowledge_prompt(s, rng) for s in dressed[i:i + 100]]
                texts += tx; cs.append(t2i_generate(model, _Filled(pr, gg), tx, steps=16, guidance=2.0, generator=gen))
            res["in_context"] = misses(vq.decode(torch.cat(cs)).clamp(-1, 1))
    r = {"backbone": a.backbone, **({"magvit": a.magvit} if a.magvit else {}), "device": torch.cuda.get_device_name() if dev.startswith("cuda") else "cpu", "n": len(dressed),
         "forms": {k: {"misses": m, "strict_hits": h, "strict": round(h / len(dressed), 4), "accessory_colour_misses_by": by}
                   for k, (m, h, by) in res.items()},
         **({} if a.magvit else {"example_prompts": {"full_caption": [tw.caption(s, random.Random(0), full=True) for s in dressed[:3]],
                                                      "in_context": texts[:3]}}),
         "seconds": round(time.time() - t0)}
    print(json.dumps(r, indent=1))
    if a.out: open(a.out, "w").write(json.dumps(r, indent=1) + "\n")


def other_magvit(path: str):
    "A MAGVIT-v2 from a folder, or from the float16 state dict `pretrain_toy` keeps in parts/magvit.safetensors."
    from pathlib import Path
    from unictokens.backbones import _load_part
    from unictokens.magvit import MAGVITv2
    p = Path(path)
    if p.is_dir(): return MAGVITv2.from_pretrained(p)
    if not p.is_file(): raise SystemExit(f"--magvit {path}: no such folder or file")
    return _load_part(p, "magvit", 0)  # MAGVIT-v2's size does not depend on the text vocabulary


if __name__ == "__main__":
    main()

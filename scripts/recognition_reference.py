"""How well can the toy backbone itself find a concept in UnifyBench's recognition pictures when it is told the
concept's look in words, the way its pretraining introduces an entity ("NAME is a white child with a heart. Is NAME
in this photo?", NAME a made-up name)? A reference for the rows' recognition, on a *held-out* world (never the test
world, seed 0). Numbers, not a test; no training, a few minutes on a CPU.

    python scripts/recognition_reference.py --out nbs/results/sweep/recognition_reference.json   # the seed-1 world

For every concept: its test recognition items as UnifyBench asks them (`derive_test_data`), the concept's name
replaced by the placeholder NAME in the question, and as system line its info's look sentence ("<c> is a white child
with a heart.") with the name replaced the same way; answers greedy, read as yes/no as UnifyBench reads them, and
counted by kind of picture as `bench.recognition_by_kind` counts them. `text_description` (the baseline) names the
concept by its class instead ("the child"), a form the backbone was never asked to recognise; this asks in its own.
"""
import argparse, json, math, tempfile, time
from pathlib import Path

import torch


def main():
    from unictokens.backbones import load_backbone, fill_placeholders
    from unictokens.bench import _items, recognition_by_kind
    from unictokens.data import UniCTokensData, load_image, image_transform
    from unictokens.metrics import recognition_scores
    from unictokens.sampling import mmu_generate
    from unictokens import toyworld as tw
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=None, help="a held-out toy world (default: the seed-1 world, made in a temporary folder)")
    ap.add_argument("--out", required=True, help="the JSON to write")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    t0 = time.time()
    root = Path(a.data_root) if a.data_root else tw.make_world(Path(tempfile.mkdtemp()) / "world", seed=1)
    data, b = UniCTokensData(root), load_backbone("toy", device=a.device)
    pr, g = b.prompter, torch.Generator().manual_seed(0)
    res = math.isqrt(b.showo.config.num_vq_tokens) * b.magvit.downsample  # the resolution UnifyBench encodes at
    results, looks = [], {}
    for c in data.concepts():
        first = data.info(c).info.split(". ")[0].rstrip(".") + "."  # "<c> is a white child with a heart."
        if not first.startswith(f"<{c}> is "): raise SystemExit(f"{data.concept_dir(c) / 'info.json'}: 'info' does not begin '<{c}> is ...': {first!r}")
        system = first.replace(f"<{c}>", tw.NAME); looks[c] = system
        items = _items(data.derive_test_data(c), "rec")
        answers = []
        for i in range(0, len(items), 16):  # as UnifyBench batches its questions
            chunk = items[i:i + 16]
            with torch.no_grad():
                codes = b.magvit.encode(torch.stack([image_transform(load_image(Path(p)), res) for p, _, _ in chunk]).to(a.device))
                prefix = pr.mmu_prefix(codes, [q.replace(f"<{c}>", tw.NAME) for _, q, _ in chunk], system=[system] * len(chunk))
                ids = mmu_generate(b.showo, fill_placeholders(prefix, pr, g), max_new_tokens=8)
            answers += [pr.tokenizer.decode(x, skip_special_tokens=True).strip() for x in ids]
        results.append({"concept": c, "systems": {"told in words": {"raw": {"rec": [
            {"image": str(p), "question": q, "gold": gold, "answer": ans} for (p, q, gold), ans in zip(items, answers)]}}}})
    by_kind = recognition_by_kind(results, "told in words")
    per_concept = [recognition_scores(*zip(*[(x["answer"], x["gold"]) for x in r["systems"]["told in words"]["raw"]["rec"]])).weighted
                   for r in results]  # as UnifyBench's rec_weighted: per concept, then the mean
    weighted = sum(per_concept) / len(per_concept)
    out = {"what": __doc__.split("\n\n")[0].replace("\n", " "), "data_root": "the seed-1 toy world" if not a.data_root else str(root),
           "concepts": data.concepts(), "backbone": b.name, "recognition_by_kind": by_kind, "rec_weighted": weighted,
           "example_system": next(iter(looks.values())), "seconds": round(time.time() - t0, 1),
           "device": a.device, "date": time.strftime("%Y-%m-%d")}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: out[k] for k in ("recognition_by_kind", "rec_weighted", "example_system", "seconds")}, indent=1))


if __name__ == "__main__":
    main()

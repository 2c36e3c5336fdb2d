"""A lead for knowledge-driven pictures: the concept draws what it read, then learns from those pictures. A diagnostic on held-out concepts.

    python scripts/knowledge_selfdraw.py --out out/kself --concepts 3 --n 8

For each of the first `--concepts` concepts of the seed-1 toy world (concepts UnifyBench never reports): train ours with
the tiny recipe; then, from its facts alone (extra_info, never the test files), draw `--n` pictures per accessory fact
with the stage-3 concept and the colour written into the prompt ("A photo of <c> wearing a pink hat."); then one more
stage on those pictures beside the training photos, captioned in a phrasing no test file uses ("A picture of <c> with
its hat."), the identifier, shared and generation rows learning. Both concept files then draw the benchmark's knowledge
conditions as asked, scored by the toy judge. Nothing is filtered by the judge: the pictures are taken as drawn.
Numbers, not a test.
"""
import argparse, json, sys, time
from dataclasses import replace
from pathlib import Path
from unictokens.backbones import accessory_fact
from unictokens.bench import system_of
from unictokens.stages import train, train_stage, tiny_stage

sys.path.insert(0, str(Path(__file__).parent))
import knowledge_probe  # the same held-out world, drawing and judging as the probe


def draw(backbone, concept_dir, prompt: str, n: int, seed: int) -> list:
    "n PIL pictures of `prompt` drawn with the concept file attached (the probe's drawing)."
    return knowledge_probe.draw(backbone, concept_dir, {"as asked": prompt}, n, seed)["as asked"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True); ap.add_argument("--concepts", type=int, default=3)
    ap.add_argument("--n", type=int, default=8, help="pictures per prompt"); ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=3, help="epochs of the extra stage")
    a = ap.parse_args()
    out, t0 = Path(a.out), time.time()
    world, data, backbone, judge = knowledge_probe.held_out_world(out, a.device)
    rows = []
    for c in data.concepts()[: a.concepts]:
        run = out / "runs" / c
        train(c, world, backbone, out_dir=run, seed=0, log=lambda m: None)
        info, stage3 = data.info(c), system_of(run).gen[0]
        drawn = []
        for j, fact in enumerate(info.extra_info):
            f = accessory_fact(fact)
            if f is None: continue
            kind, colour = f
            pics = draw(backbone, stage3, f"A photo of <{c}> wearing a {colour} {kind}.", a.n, seed=100 + j)
            for k, im in enumerate(pics):
                p = out / "drawn" / c / f"{kind}_{k}.png"; p.parent.mkdir(parents=True, exist_ok=True); im.save(p)
                drawn.append({"image": str(p), "prompt": f"A picture of <{c}> with its {kind}."})
        plain = data.derive_training_data
        data.derive_training_data = lambda concept, stage, **kw: (lambda sd: replace(sd, t2i=sd.t2i + drawn))(plain(concept, stage, **kw))
        cfg = replace(tiny_stage(3), new_groups={}, init={}, perception=None, learn=("identifier", "shared", "gen"), epochs=a.epochs)
        res = train_stage(backbone, data, c, cfg, run / "selfdraw", prev=stage3, seed=0, log=lambda m: None)
        data.derive_training_data = plain
        for name, concept_dir in (("ours", stage3), ("ours + self-drawn", res["concept_dir"])):
            for k, condition in enumerate(data.derive_test_data(c).conditions):
                for v in (judge.judge_image(im, condition, info) for im in draw(backbone, concept_dir, condition, a.n, seed=k)):
                    if v is not None: rows.append({"concept": c, "system": name, "condition": condition, **v})
        print(f"<{c}> done at {time.time() - t0:.0f} s", flush=True)
    summary = {}
    for name in ("ours", "ours + self-drawn"):
        vs = [r for r in rows if r["system"] == name]
        summary[name] = {k: round(sum(r[k] for r in vs) / max(len(vs), 1), 3) for k in ("score", "identity", "fact")} | {"pictures": len(vs)}
        summary[name]["both"] = round(sum(r["identity"] and r["fact"] == 1 for r in vs) / max(len(vs), 1), 3)
        print(name, summary[name])
    (out / "knowledge_selfdraw.json").write_text(json.dumps({"world_seed": 1, "concepts": data.concepts()[: a.concepts], "n": a.n,
        "extra_epochs": a.epochs, "seconds": round(time.time() - t0, 1), "summary": summary, "pictures": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Where knowledge-driven pictures fail: recalling the fact from the rows, or drawing it. A diagnostic on held-out concepts.

    python scripts/knowledge_probe.py --out out/kprobe --concepts 3 --n 8            # a 2-core CPU: about 10 minutes
    python scripts/knowledge_probe.py --out out/kprobe --concepts 20 --device cuda    # every concept of the world
    python scripts/knowledge_probe.py --out out/kdesc --t2i-form described --forms "as asked,fact named"  # trained described
    python scripts/knowledge_probe.py --out out/kp --concepts 20 --device cuda --backbone out/cand --seed 1 --shard 0/8
                      # another backbone (a folder pretrain_toy wrote), training seed 1, the first of 8 parallel processes
                      # (make the world once first: each process writes knowledge_probe_seed1_0of8.json after every concept;
                      # give each process OMP_NUM_THREADS=2: 8 processes on 2 H200s took about 170 s a concept without it)

It makes the seed-1 toy world (concepts UnifyBench never reports), trains ours with the tiny recipe on the first
`--concepts` of them, and draws every knowledge condition three ways with the same stage-3 concept file, scoring each
picture with the toy judge (identity: the concept's look; fact: the accessory in its colour; both):

    as asked      'A photo of <c> wearing its hat.'                      the benchmark's form: the rows must recall it
    fact named    'A photo of <c> wearing its pink hat.'                 the colour written into the prompt
    fact before   '<c> has a pink hat. A photo of <c> wearing its hat.'  the fact in context, as the backbone learnt it
    described first  "<c> is <shared><und>. A photo of <c> wearing its hat."  the rows' own description (the understanding
                  system prompt) before the prompt, where the backbone learnt to read an entity's facts for a picture

If the last two score well and the first does not, the rows hold the fact for answers but do not carry it into a
picture (a recall problem); if none does, the backbone cannot draw this concept and the fact together. Numbers, not a
test, and never on the test world.
"""
import argparse, json, time
from pathlib import Path
import torch
from unictokens.backbones import load_backbone, fact_for_prompt, accessory_fact
from unictokens.bench import bench_tools, system_of
from unictokens.concepts import T2I_FORMS, attached, expand_t2i
from unictokens.data import UniCTokensData
from unictokens.magvit import to_pil
from unictokens.sampling import t2i_generate
from unictokens.stages import train, tiny_stage
from unictokens.toyworld import make_world

FORMS = ("as asked", "fact named", "fact before", "described first")


def variants(condition: str, facts: list) -> dict:
    "The three prompts of one knowledge condition (None where the concept has no fact about the accessory it names)."
    fact = fact_for_prompt(condition, facts)
    if fact is None: return {}
    kind, colour = accessory_fact(fact)
    return {"as asked": condition, "fact named": condition.replace(f"its {kind}", f"its {colour} {kind}"),
            "fact before": f"{fact} {condition}", "described first": condition}


def draw(backbone, concept_dir, prompts: dict, n: int, seed: int) -> dict:
    "{form: [PIL images]} drawn with the concept attached (the text block grown to hold the longest prompt, never cut)."
    dev, out = next(backbone.showo.parameters()).device, {}
    with attached(backbone, [concept_dir]) as (cts, pr):
        texts = {k: (cts[0].system_prompt() + " " if k == "described first" else "") + expand_t2i(p, cts) for k, p in prompts.items()}
        need = max(map(len, pr.text_ids(list(texts.values())))) + 2
        if need > pr.max_text_len: pr = pr.with_text_block(need)
        for k, t in texts.items():
            g = torch.Generator(device=dev).manual_seed(seed)
            out[k] = to_pil(backbone.magvit.decode(t2i_generate(backbone.showo, pr, [t] * n, steps=16, guidance=2.0, generator=g)))
    return out


def held_out_world(out: Path, device: str, backbone: str = "toy") -> tuple:
    "(world folder, dataset, backbone, judge): the seed-1 toy world (made once under `out`), the backbone (default: the shipped toy one), its judge."
    world = out / "world"
    if not (world / "concepts_list.json").is_file(): make_world(world, seed=1)
    backbone = load_backbone(backbone, device=device)
    return world, UniCTokensData(world), backbone, bench_tools(backbone)["judge"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True); ap.add_argument("--concepts", type=int, default=3)
    ap.add_argument("--n", type=int, default=8, help="pictures per prompt"); ap.add_argument("--device", default="cpu")
    ap.add_argument("--t2i-form", default=None, choices=T2I_FORMS, help="train with this generation form (default: the preset's)")
    ap.add_argument("--forms", default=",".join(FORMS), help=f"which of {FORMS} to draw, comma-separated")
    ap.add_argument("--row-norm-cap", type=float, default=None, help="train with StageConfig.row_norm_cap (default: the preset's)")
    ap.add_argument("--gen-init", default=None, choices=("fact_words",), help="start stage 2's gen rows from the facts' words (default: the preset's)")
    ap.add_argument("--backbone", default="toy", help="'toy' (the shipped one) or a folder pretrain_toy wrote")
    ap.add_argument("--seed", type=int, default=0, help="the training seed")
    ap.add_argument("--shard", default="0/1", help="K/N: only every N-th of the concepts, from the K-th (parallel processes)")
    a = ap.parse_args()
    out, t0, forms = Path(a.out), time.time(), [f.strip() for f in a.forms.split(",")]
    k_, n_ = a.shard_kn = tuple(map(int, a.shard.split("/")))
    world, data, backbone, judge = held_out_world(out, a.device, a.backbone)
    rows, concepts = [], data.concepts()[: a.concepts][k_::n_]
    for c in concepts:
        run = out / "runs" / (c if a.seed == 0 else f"{c}-seed{a.seed}")
        over = {k: v for k, v in (("t2i_form", a.t2i_form), ("row_norm_cap", a.row_norm_cap)) if v is not None}
        if a.gen_init: over["inits"] = {**(tiny_stage(1).inits or {}), "gen": a.gen_init}
        train(c, world, backbone, out_dir=run, seed=a.seed, log=lambda m: None, **over)
        info, concept_dir = data.info(c), system_of(run).gen[0]
        for k, condition in enumerate(data.derive_test_data(c).conditions):
            prompts = {k: v for k, v in variants(condition, info.extra_info).items() if k in forms}
            if not prompts: continue
            for form, pics in draw(backbone, concept_dir, prompts, a.n, seed=k + 1000 * a.seed).items():
                for v in (judge.judge_image(im, condition, info) for im in pics):
                    if v is not None: rows.append({"concept": c, "seed": a.seed, "condition": condition, "form": form, "prompt": prompts[form], **v})
        print(f"<{c}> done at {time.time() - t0:.0f} s", flush=True)
        write(a, out, rows, forms, concepts, t0)


def write(a, out: Path, rows: list, forms: list, concepts: list, t0: float):
    "Summarise the pictures judged so far and write them (after every concept: a run cut short keeps what it did)."
    summary = {}
    for form in forms:
        vs = [r for r in rows if r["form"] == form]
        summary[form] = {k: sum(r[k] for r in vs) / max(len(vs), 1) for k in ("score", "identity", "fact")} | {"pictures": len(vs)}
        summary[form]["both"] = sum(r["identity"] and r["fact"] == 1 for r in vs) / max(len(vs), 1)
    result = {"t2i_form": a.t2i_form or "phrase", "row_norm_cap": a.row_norm_cap, "gen_init": a.gen_init, "backbone": a.backbone, "world_seed": 1, "seed": a.seed,
              "concepts": concepts, "shard": a.shard, "pictures_per_prompt": a.n, "device": a.device,
              "seconds": round(time.time() - t0, 1), "summary": summary, "pictures": rows}
    k_, n_ = a.shard_kn
    name = "knowledge_probe" + (f"_seed{a.seed}" if a.seed else "") + (f"_{k_}of{n_}" if n_ > 1 else "")
    (out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    for form, s in summary.items():
        print(f"{form:12s} {s['pictures']:4d} pictures: judge {s['score']:.3f}, identity {s['identity']:.3f}, fact {s['fact']:.3f}, both {s['both']:.3f}")


if __name__ == "__main__":
    main()

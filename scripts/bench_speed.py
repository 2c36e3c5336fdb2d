"""Benchmark: a training step, a 100-token answer and a 50-step CFG picture at Show-o-512 shape, ours beside the release's approach.

    python scripts/bench_speed.py --out speed.json           # a GPU: Show-o 512 with random weights (the shapes are what count)
    python scripts/bench_speed.py --tiny --device cpu        # the same code on a tiny Show-o: a smoke run, not figures

Each work is timed through the public API, in one run, after one warm-up, as the median of `--repeats`:
- training step: one t2i and one mmu sequence of the full length (1,155 ids at 512 px), 33 concept rows attached,
  loss 0.8 t2i + 0.2 mmu, backward, AdamW. Ours: the stage loop's `train_step` on frozen weights in bf16 (fp16 where
  bf16 is missing), no autocast, the two sequences packed into one forward (`engine.pack_batches`, made on the CPU),
  the head only where a loss reads it, only the concept rows in the optimizer; once more keeping less for backward
  (`_lean`: three projections a layer recomputed, `engine.LeanMLP` and `engine.ProjNorm`), with layer checkpointing,
  and with compiled layers. Timed as the stage loop runs steps (`ours_s`: ten steps in a row, the next batch packed on
  the CPU while the GPU works, each loss read back after its step, divided by ten) and one step alone, packing
  included and not overlapped (`_one_step_s`). On a GPU in bf16 the stage loop replays each step as a CUDA graph
  (`engine.TrainingGraphs`) with its qk-LayerNorms compiled (`compiled="qk"`): that is `ours_s` (and `ours_capture_s`
  the first step, capture and compiling included; `ours_uncompiled_*` the same graph without compiling); the steps
  launched kernel by kernel are `ours_eager_*`. The release's approach: float32 weights, the whole embedding and lm_head
  matrices in AdamW, every row that is not a concept row copied back after the step. Peak GPU memory for each.
- answer: 100 new tokens (end-of-text ignored) after a 1,024-code picture and a question. Ours: `mmu_generate` on the
  bf16 weights with its default engine, `auto` (on a GPU: a static key/value cache, each token step a CUDA graph, for
  the model's first 40 answers, reported apart with the capture and the promoting call that compiles; then the
  compiled engine: `ours_s`), and each engine alone (`cache`: transformers' growing cache; `static`; `graph`;
  `compiled`, found compiled by auto's promoting call). The release's approach: the whole sequence
  recomputed for every token in float32 (`mmu_generate_uncached`).
- picture: 50 MaskGIT steps at CFG 5. Ours: `t2i_generate` on the bf16 weights (the head's codebook rows at the image
  slots only) with its default engine, `auto` (on a GPU: the text's keys and values once, the image segment attending
  without a mask, each step a CUDA graph, for the model's first 10 pictures; then compiled layers: `ours_s`), and
  each engine alone (`full`, `prefix`, `graph`, `compiled`). The model
  keeps its picture engine between calls whose prompts have the same shape, so a repeat reuses the captured graph;
  `ours_graph_new_shape_s` and `ours_compiled_new_shape_s` make the engine afresh for every picture (a capture each). For comparison, the
  same 50 forwards with the whole head over every position and the full-vocabulary float32 logits, as the release's
  sampler computes them, in bf16 and in float32.

The paper recipe end to end (three stages and perception for one concept) is `scripts/bench_paper_scale.py`.
Numbers, not a test.
"""
import argparse, json, statistics, sys, time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_paper_scale import paper_backbone  # Show-o 512 with random weights and a word tokenizer of Phi-1.5's size

from unictokens.prompting import sample_t2i_mask, t2i_attention_mask, mmu_attention_mask, word_tokenizer
from unictokens.sampling import t2i_generate, mmu_generate, mmu_generate_uncached, drop_engines, ANSWER_ENGINES, PICTURE_ENGINES, GRAPHED, PROMOTE_AFTER
from unictokens.concepts import ConceptTokens, attach_concepts
from unictokens.showo import ShowO, ShowOConfig, t2i_loss, mmu_loss
from unictokens.engine import pack_batches, batch_to, train_step, TrainingGraphs

GROUPS = {"identifier": 1, "shared": 16, "gen": 8, "und": 8}  # 33 rows, as a stage-3 concept
LOOP = 10  # training steps timed together, as the stage loop runs them


def sync(dev):
    if str(dev).startswith("cuda"): torch.cuda.synchronize()


def timed(fn, dev, repeats: int) -> float:
    "Median seconds of `fn()` after one warm-up call."
    fn(); sync(dev); ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); sync(dev); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def once(fn, dev) -> float:
    "Seconds of one call of `fn`, the first (for the compiled engine: compiling included)."
    sync(dev); t0 = time.perf_counter(); fn(); sync(dev)
    return time.perf_counter() - t0


def auto_calls(fn, kind: str, dev) -> dict:
    """The default engine's first calls on a fresh model: the first (graphed, its capture included), the rest that the
    graphed engine serves, and on a GPU the call that promotes the model to the compiled engine (compiling included:
    the process's first compile, so the compiled engine's own timings below find it done)."""
    n = PROMOTE_AFTER[kind] if str(dev).startswith("cuda") else 1
    first = once(fn, dev)
    rest = [once(fn, dev) for _ in range(n - 1)]
    out = {"ours_auto_first_call_s": round(first, 2), "ours_auto_graphed_calls": n,
           "ours_auto_graphed_calls_total_s": round(first + sum(rest), 2)}
    if str(dev).startswith("cuda"): out["ours_auto_promoting_call_s"] = round(once(fn, dev), 2)
    return out


def peaks_of(fn, dev) -> tuple:
    "(allocated, reserved): peak GPU memory (GiB) of one more call of `fn`, the allocator's cache emptied first."
    if not str(dev).startswith("cuda"): return None, None
    torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(); fn(); sync(dev)
    return round(torch.cuda.max_memory_allocated() / 2**30, 2), round(torch.cuda.max_memory_reserved() / 2**30, 2)


def peak_of(fn, dev) -> float | None:
    "Peak GPU memory allocated (GiB) of one more call of `fn`."
    return peaks_of(fn, dev)[0]


def build(dtype, device, tiny: bool):
    "(model with 33 concept rows attached, prompter): Show-o 512 (or a tiny Show-o) with seeded random weights."
    if tiny:
        words = "a photo of the cat what is in picture ? . USER ASSISTANT :".split()
        tok = word_tokenizer(words)
        cfg = ShowOConfig.tiny(text_size=len(tok), codebook_size=64, num_vq_tokens=64, max_text_len=40)
        torch.manual_seed(0)
        with torch.device(device): model = ShowO(cfg).to(dtype).eval()
    else:
        b = paper_backbone(dtype, device); model, tok = b.showo, b.tokenizer
    model.requires_grad_(False)
    ct = ConceptTokens.new("bo", "dog", model.config.hidden_size, **{g: n for g, n in GROUPS.items() if g != "identifier"})
    with torch.no_grad():
        for d in (ct.rows.embed, ct.rows.lm_weight, ct.rows.lm_bias):
            for p in d.values(): p.normal_(std=0.02)
    pr = attach_concepts(model, tok, [ct])
    return model, pr, ct.rows


def batches(model, pr):
    "One t2i and one mmu training sequence of the full length, concept ids in their text: collator batches, on the CPU."
    L, N = model.layout, model.config.num_vq_tokens
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, L.codebook_size, (1, N), generator=g)
    concept = torch.tensor(list(L.concept_ids))
    ids, labels = pr.t2i(["a photo of the cat"], codes, sample_t2i_mask(1, N, generator=g), generator=g)
    ids[0, 2:2 + len(concept)] = concept  # where `<c>`'s generation phrase would be
    t2i = {"input_ids": ids, "labels": labels, "attention_mask": t2i_attention_mask(ids, L)}
    ids, labels = pr.mmu(codes, [[{"from": "human", "value": "<image>\nwhat is in the picture ?"}, {"from": "gpt", "value": "a cat ."}]])
    k = ids.shape[1] - 12 - len(concept)
    ids = torch.cat([ids[:, :k], concept[None], ids[:, k:]], 1); labels = torch.cat([labels[:, :k], torch.full((1, len(concept)), -100), labels[:, k:]], 1)
    return {"t2i": t2i, "mmu": {"input_ids": ids, "labels": labels, "attention_mask": mmu_attention_mask(ids, L)}}


def release_step(model, parts, opt, copy_back):
    "The release's step: two float32 forwards through transformers, full-vocabulary heads, AdamW on whole matrices, old rows copied back."
    dev = next(model.parameters()).device
    t, m = ({k: v.to(dev) for k, v in parts[n].items()} for n in ("t2i", "mmu"))
    loss = (0.8 * t2i_loss(model(t["input_ids"], t["attention_mask"]), t["labels"], model.config.max_text_len + 1)
            + 0.2 * mmu_loss(model(m["input_ids"], m["attention_mask"]), m["labels"]))
    loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    with torch.no_grad():
        for p, keep in copy_back: p.copy_(keep)


def ours_step(model, pr, parts, opt, precision: str, checkpoint: bool = False, compiled: bool = False):
    "The stage loop's step (`engine.train_step`): the parts packed on the CPU, moved, one forward, the head at scored positions."
    dev = next(model.parameters()).device
    batch = batch_to(pack_batches(parts, {k: k for k in parts}, pr.layout, pr.max_text_len + 1), dev)
    return train_step(model, batch, {"t2i": 0.8, "mmu": 0.2}, opt, None, precision, checkpoint, compiled)


def ours_loop(model, pr, parts, opt, precision: str, checkpoint: bool = False, compiled: bool = False, steps: int = 10, graphs=None):
    "`steps` steps as the stage loop runs them (`stages._epoch`): the next batch packed on the CPU while the GPU works on this one, each loss read back after its step; `graphs`: a `TrainingGraphs` replaying each step."
    dev = next(model.parameters()).device
    pack = lambda: pack_batches(parts, {k: k for k in parts}, pr.layout, pr.max_text_len + 1, multiple=256 if graphs else 1,
                                longest=pr.max_text_len + 3 + model.config.num_vq_tokens)
    nxt = pack()
    for _ in range(steps):
        if graphs: loss, _ = graphs(nxt)
        else: loss, _ = train_step(model, batch_to(nxt, dev), {"t2i": 0.8, "mmu": 0.2}, opt, None, precision, checkpoint, compiled)
        nxt = pack()
        loss.item()


def full_head_picture(model, pr, prompt, steps, guidance):
    "50 forwards as the release's sampler makes them: the whole head at every position, full-vocabulary float32 logits."
    L, N = model.layout, model.config.num_vq_tokens
    dev = next(model.parameters()).device
    ids = torch.cat([pr.t2i_gen([prompt], N, device=dev), pr.uncond(1, N, device=dev)])
    mask, slots = t2i_attention_mask(ids, L), slice(pr.max_text_len + 2, pr.max_text_len + 2 + N)
    with torch.no_grad():
        for _ in range(steps):
            logits = L.image_logits(model(ids, mask)[:, slots])
            ((1 + guidance) * logits[:1] - guidance * logits[1:]).softmax(-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda"); ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--repeats", type=int, default=3); ap.add_argument("--out", default=None)
    ap.add_argument("--new-tokens", type=int, default=100); ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--works", default="training,answer,picture", help="which works to time, comma-separated")
    a = ap.parse_args()
    dev = a.device
    fast = torch.bfloat16 if not dev.startswith("cuda") or torch.cuda.is_bf16_supported() else torch.float16
    r = {"device": torch.cuda.get_device_name() if dev.startswith("cuda") else "cpu", "torch": torch.__version__,
         "shape": "tiny" if a.tiny else "show-o-512", "dtype_ours": str(fast), "repeats": a.repeats, "works": {}}
    W = r["works"]

    def report(work, **kv):
        W.setdefault(work, {}).update(kv); print(json.dumps({work: W[work]}), flush=True)

    for name, dtype in (("ours", fast), ("release", torch.float32)):
        model, pr, rows = build(dtype, dev, a.tiny)
        parts = batches(model, pr)
        r["sequence_ids"] = {k: v["input_ids"].shape[1] for k, v in parts.items()}
        works = set(a.works.split(","))
        if "training" not in works: pass
        elif name == "ours":
            opt = torch.optim.AdamW(rows.parameters(), lr=1e-3)
            precision = "fp32" if dtype == torch.float32 else "bf16" if dtype == torch.bfloat16 else "fp16"
            for key, ck, comp in (("ours_eager", False, False), ("ours_eager_lean", "lean", False), ("ours_eager_checkpointed", True, False),
                                  ("ours_compiled", False, True)):
                if comp and not dev.startswith("cuda"): continue  # eager: each step's kernels launched one by one
                step = lambda: ours_step(model, pr, parts, opt, precision, ck, comp)
                loop = lambda: ours_loop(model, pr, parts, opt, precision, ck, comp, LOOP)
                if comp: report("training step", ours_compiled_first_call_s=round(once(step, dev), 1))
                peak, reserved = peaks_of(step, dev)  # reserved: what the GPU gives the process (a graph's pool is counted so)
                report("training step", **{f"{key}_s": round(timed(loop, dev, a.repeats) / LOOP, 4), f"{key}_peak_gib": peak,
                                           f"{key}_peak_reserved_gib": reserved, f"{key}_one_step_s": round(timed(step, dev, a.repeats), 4)})
            if dev.startswith("cuda") and precision == "bf16":  # what the stage loop does here: each step replayed as a CUDA graph
                # the stage loop compiles the qk-LayerNorms (compiled="qk"); "ours_uncompiled" is the same graph without
                for key, ck, comp in (("ours", False, "qk"), ("ours_uncompiled", False, False), ("ours_lean", "lean", "qk"),
                                      ("ours_checkpointed", True, "qk")):
                    tg = TrainingGraphs(model, torch.optim.AdamW(rows.parameters(), lr=1e-3, capturable=True), {"t2i": 0.8, "mmu": 0.2}, ck,
                                        compiled=comp)
                    loop = lambda: ours_loop(model, pr, parts, None, precision, steps=LOOP, graphs=tg)
                    report("training step", **{f"{key}_capture_s": round(once(lambda: ours_loop(model, pr, parts, None, precision, steps=1, graphs=tg), dev), 2)})
                    report("training step", **{f"{key}_s": round(timed(loop, dev, a.repeats) / LOOP, 4), f"{key}_peak_gib": peak_of(loop, dev)})
                    # a graph's private pool (its activations) is reserved, not counted as allocated after capture: what the
                    # step holds is what stays reserved once the cache is emptied (weights, rows, optimizer state, the pool)
                    torch.cuda.empty_cache()
                    report("training step", **{f"{key}_reserved_gib": round(torch.cuda.memory_reserved() / 2**30, 2)})
                    del tg; torch.cuda.empty_cache()
                    report("training step", **{f"{key}_reserved_without_graph_gib": round(torch.cuda.memory_reserved() / 2**30, 2)})
        else:
            head, emb = model.showo.lm_head, model.showo.model.embed_tokens
            mats = [emb.weight, head.weight] + ([head.bias] if head.bias is not None else [])
            for p in mats: p.requires_grad_(True)
            opt = torch.optim.AdamW(mats + list(rows.parameters()), lr=1e-3)
            copy_back = [(p, p.detach().clone()) for p in mats]  # the release keeps every old row by copying it back
            step = lambda: release_step(model, parts, opt, copy_back)
            report("training step", **{"release_s": round(timed(step, dev, a.repeats), 4), "release_peak_gib": peak_of(step, dev)})
            del copy_back
        for p in model.parameters(): p.requires_grad_(False)
        prefix = pr.mmu_prefix(torch.randint(0, model.layout.codebook_size, (1, model.config.num_vq_tokens)).to(dev), "what is in the picture ?")
        if name == "ours" and "answer" in works:
            for engine in ("auto",) + ANSWER_ENGINES:  # each engine's time shows what it buys
                decode = lambda: mmu_generate(model, prefix, a.new_tokens, eot_id=-1, engine=engine)
                if engine in GRAPHED and not dev.startswith("cuda"): continue
                if engine == "auto": report(f"answer, {a.new_tokens} tokens", **auto_calls(decode, "answer", dev))
                report(f"answer, {a.new_tokens} tokens", **{"ours_s" if engine == "auto" else f"ours_{engine}_s": round(timed(decode, dev, a.repeats), 3)})
        if name == "ours" and "picture" in works:
            for engine in ("auto",) + PICTURE_ENGINES:
                if engine in GRAPHED and not dev.startswith("cuda"): continue
                g = lambda: t2i_generate(model, pr, ["a photo of the cat"], steps=a.steps, guidance=5.0, engine=engine,
                                         generator=torch.Generator(dev).manual_seed(0))
                if engine == "auto": report(f"picture, {a.steps} steps, CFG 5", **auto_calls(g, "picture", dev))
                kv = {"ours_s": round(timed(g, dev, a.repeats), 3), "ours_peak_gib": peak_of(g, dev)} if engine == "auto" else \
                     {f"ours_{engine}_s": round(timed(g, dev, a.repeats), 3)}
                if engine in GRAPHED:  # the same picture with the engine made (and its graph captured) afresh, as for a new prompt shape
                    kv[f"ours_{engine}_new_shape_s"] = round(timed(lambda: (drop_engines(model), g()), dev, a.repeats), 3)
                report(f"picture, {a.steps} steps, CFG 5", **kv)
        if name == "release" and "answer" in works:
            decode = lambda: mmu_generate_uncached(model, prefix, a.new_tokens, eot_id=-1)
            report(f"answer, {a.new_tokens} tokens", release_s=round(timed(decode, dev, a.repeats), 3))
        if "picture" in works:
            full = lambda: full_head_picture(model, pr, "a photo of the cat", a.steps, 5.0)
            report(f"picture, {a.steps} steps, CFG 5", **{f"{name}_full_head_s": round(timed(full, dev, a.repeats), 3)})
        del model, rows, parts
        if dev.startswith("cuda"): torch.cuda.empty_cache()
    for w, v in W.items():
        if "ours_s" in v and "release_s" in v: v["release_over_ours"] = round(v["release_s"] / v["ours_s"], 2)
    p = W.get(f"picture, {a.steps} steps, CFG 5", {})
    if "ours_s" in p: p["release_over_ours"] = round(p["release_full_head_s"] / p["ours_s"], 2); p["full_head_bf16_over_ours"] = round(p["ours_full_head_s"] / p["ours_s"], 2)
    print(json.dumps(r, indent=1))
    if a.out: Path(a.out).write_text(json.dumps(r, indent=1) + "\n")


if __name__ == "__main__":
    main()

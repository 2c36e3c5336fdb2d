"""Profile: where the time of a picture step, an answer token and a training step goes, at Show-o-512 shape on a GPU.

    python scripts/profile_speed.py --out profile.json

Runs each work a few times under `torch.profiler` after a warm-up and prints, per work: wall time per call, GPU busy
time per call (the sum of kernel times), kernel launches per call, and the kernels that take the most GPU time.
Then times the attention alone on one layer's shapes with the masks the model can give it (additive float, bool,
none), because attention through a dense mask is one suspect. Numbers, not a test; `bench_speed.py` gives the
headline figures.
"""
import argparse, json, sys, time
from collections import defaultdict
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from bench_speed import build, batches, ours_step, sync  # the same model, batches and step as the benchmark

from unictokens.prompting import t2i_attention_mask
from unictokens.sampling import t2i_generate, mmu_generate
from unictokens.showo import _prepare_mask


def profile(fn, calls: int, top: int = 12) -> dict:
    "Wall seconds, GPU busy seconds and launches per call of `fn`, and its costliest kernels."
    fn(); torch.cuda.synchronize()
    acts = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=acts) as prof:
        t0 = time.perf_counter()
        for _ in range(calls): fn()
        torch.cuda.synchronize(); wall = (time.perf_counter() - t0) / calls
    kern = defaultdict(lambda: [0.0, 0])
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            k = kern[e.name[:90]]; k[0] += e.device_time / 1e6; k[1] += 1
    busy = sum(v[0] for v in kern.values()) / calls
    launches = sum(v[1] for v in kern.values()) / calls
    rows = sorted(kern.items(), key=lambda kv: -kv[1][0])[:top]
    return {"wall_s": round(wall, 4), "gpu_busy_s": round(busy, 4), "launches": round(launches),
            "top_kernels": [{"kernel": n, "s_per_call": round(t / calls, 5), "count_per_call": round(c / calls, 1)} for n, (t, c) in rows]}


def seconds_per_call(f, reps: int) -> float:
    "Mean seconds of `f()` over `reps` calls after one warm-up call."
    f(); torch.cuda.synchronize(); t0 = time.perf_counter()
    for _ in range(reps): f()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps


def attention_variants(B=2, heads=32, L=1155, hd=64, dtype=torch.bfloat16, reps=20) -> dict:
    "One layer's attention at picture-step shape: additive float mask, bool mask, no mask."
    q, k, v = (torch.randn(B, heads, L, hd, device="cuda", dtype=dtype) for _ in range(3))
    allow = torch.ones(B, 1, L, L, dtype=torch.bool, device="cuda").tril_()
    allow[:, :, 130:, 130:] = True  # image slots see each other, as in the omni mask
    add = torch.zeros(B, 1, L, L, dtype=dtype, device="cuda").masked_fill_(~allow, torch.finfo(dtype).min)
    out = {}
    for name, kw in (("additive", dict(attn_mask=add)), ("bool", dict(attn_mask=allow)), ("none", {}), ("causal", dict(is_causal=True))):
        f = lambda: F.scaled_dot_product_attention(q, k, v, **kw)
        out[name] = round(seconds_per_call(f, reps) * 1e3, 4)
    return {"ms_per_layer_call": out, "shape": [B, heads, L, hd]}


def norm_variants(B=2, q=1025, heads=32, hd=64, hidden=2048, inter=8192, dtype=torch.bfloat16, reps=50) -> dict:
    "The small ops of a picture step at its shape: qk-LayerNorm, the GELU and the rotary embedding, several ways each."
    t = torch.randn(B, q, heads, hd, device="cuda", dtype=dtype)
    w, b = torch.randn(hd, device="cuda", dtype=dtype), torch.randn(hd, device="cuda", dtype=dtype)
    u = torch.randn(B, q, inter, device="cuda", dtype=dtype)
    R = torch.randn(hd, hd, device="cuda", dtype=dtype); cs = torch.randn(1, q, 1, hd, device="cuda", dtype=dtype)
    def manual(x):
        xf = x.float(); mu = xf.mean(-1, keepdim=True); xc = xf - mu
        return (xc * torch.rsqrt((xc * xc).mean(-1, keepdim=True) + 1e-5) * w.float() + b.float()).to(x.dtype)
    ways = {"qk layer_norm (B,q,H,hd)": lambda: F.layer_norm(t, (hd,), w, b),
            "qk layer_norm on a transposed view": lambda: F.layer_norm(t.transpose(1, 2), (hd,), w, b),
            "qk group_norm": lambda: F.group_norm(t.view(B * q, heads * hd), heads, w.repeat(heads), b.repeat(heads)),
            "qk manual fp32": lambda: manual(t),
            "gelu tanh, one kernel": lambda: F.gelu(u, approximate="tanh"),
            "gelu_new, transformers": lambda: 0.5 * u * (1.0 + torch.tanh(0.7978845608028654 * (u + 0.044715 * torch.pow(u, 3.0)))),
            "rope by matrix": lambda: t * cs + (t @ R) * cs}
    out = {}
    for name, f in ways.items():
        out[name] = round(seconds_per_call(f, reps) * 1e6, 1)
    return {"us_per_call": out, "shape": [B, q, heads, hd]}


def matmul_variants(M=2050, hidden=2048, inter=8192, dtype=torch.bfloat16, reps=50) -> dict:
    "A picture step's matrix products at its shape (B=2 x 1,025 image positions), several ways: what fusing them would save."
    h = torch.randn(M, hidden, device="cuda", dtype=dtype)
    wq, wk, wv = (torch.randn(hidden, hidden, device="cuda", dtype=dtype) / 45 for _ in range(3))
    bq, bk, bv = (torch.randn(hidden, device="cuda", dtype=dtype) for _ in range(3))
    wqkv, bqkv = torch.cat([wq, wk, wv]), torch.cat([bq, bk, bv])
    w1, b1 = torch.randn(inter, hidden, device="cuda", dtype=dtype) / 45, torch.randn(inter, device="cuda", dtype=dtype)
    ways = {"q, k, v: three products": lambda: (F.linear(h, wq, bq), F.linear(h, wk, bk), F.linear(h, wv, bv)),
            "q, k, v: one product": lambda: F.linear(h, wqkv, bqkv),
            "fc1 then tanh GELU": lambda: F.gelu(F.linear(h, w1, b1), approximate="tanh"),
            "fc1 with the GELU in cuBLAS's epilogue": lambda: torch._addmm_activation(b1, h, w1.t(), use_gelu=True),
            "fc1 alone": lambda: F.linear(h, w1, b1)}
    out = {}
    for name, f in ways.items():
        out[name] = round(seconds_per_call(f, reps) * 1e6, 1)
    a = torch._addmm_activation(b1, h, w1.t(), use_gelu=True).float(); b = F.gelu(F.linear(h, w1, b1).float(), approximate="tanh")
    return {"us_per_call": out, "shape": [M, hidden, inter], "epilogue_gelu_max_abs_diff": round((a - b).abs().max().item(), 4)}


WORKS = ("picture_step", "picture", "picture_graph", "picture_compiled", "answer", "training", "attention", "small_ops", "matmuls")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3); ap.add_argument("--out", default=None)
    ap.add_argument("--works", default=",".join(WORKS), help=f"comma-separated, of {', '.join(WORKS)}")
    a = ap.parse_args()
    works = set(a.works.split(","))
    if works - set(WORKS): ap.error(f"unknown works {sorted(works - set(WORKS))}; choose from {', '.join(WORKS)}")
    dev = "cuda"
    model, pr, rows = build(torch.bfloat16, dev, tiny=False)
    r = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    L, N = model.layout, model.config.num_vq_tokens
    ids = torch.cat([pr.t2i_gen(["a photo of the cat"], N, device=dev), pr.uncond(1, N, device=dev)])
    mask = _prepare_mask(t2i_attention_mask(ids, L), torch.bfloat16, ids.shape[1])
    slots = slice(pr.max_text_len + 2, pr.max_text_len + 2 + N)

    @torch.no_grad()
    def picture_step(): model.image_logits(model.hidden(ids, mask, checked=True)[:, slots]).softmax(-1)
    def picture(engine): return lambda: t2i_generate(model, pr, ["a photo of the cat"], steps=50, guidance=5.0, engine=engine,
                                                     generator=torch.Generator(dev).manual_seed(0))
    if "picture_step" in works: r["picture step (one CFG forward, B=2)"] = profile(picture_step, a.calls * 5)
    if "picture" in works: r["picture, 50 steps"] = profile(picture("auto"), 1)
    if "picture_graph" in works: r["picture, 50 steps, engine graph"] = profile(picture("graph"), 1, top=20)
    if "picture_compiled" in works:
        picture("compiled")()  # compiles
        r["picture, 50 steps, engine compiled"] = profile(picture("compiled"), 1, top=20)
    prefix = pr.mmu_prefix(torch.randint(0, L.codebook_size, (1, N)).to(dev), "what is in the picture ?")
    if "answer" in works: r["answer, 20 tokens"] = profile(lambda: mmu_generate(model, prefix, 20, eot_id=-1), a.calls)
    if "training" in works:
        parts = batches(model, pr)
        opt = torch.optim.AdamW(rows.parameters(), lr=1e-3)
        r["training step"] = profile(lambda: ours_step(model, pr, parts, opt, "bf16"), a.calls)
    if "attention" in works: r["attention alone"] = attention_variants()
    if "small_ops" in works: r["small ops alone"] = norm_variants()
    if "matmuls" in works: r["matrix products alone"] = matmul_variants()
    for k, v in r.items(): print(k, json.dumps(v, indent=1), flush=True)
    if a.out: Path(a.out).write_text(json.dumps(r, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Where a toy Show-o pretraining step's time goes on this device: batch preparation (DataLoader workers) against the
model step, at several batch sizes. Random codes stand in for MAGVIT-v2's (the step's cost does not depend on them).

    python scripts/profile_pretrain_step.py --device cuda --workers 8,14 --batches 256,1024
"""
import argparse, json, random, time
import torch
from functools import partial
from unictokens import toyworld as tw
from unictokens.backbones import Pools, ShowO, batches, showo_batch, showo_losses, toy_showo_config
from unictokens.prompting import Prompter

def pools(n=4000):
    fam = tw.famous_entities()
    z = lambda k: torch.randint(1024, (k, 64))
    return Pools([tw.random_scene(random.Random(i)) for i in range(n)], z(n), [tw.random_group(random.Random(i)) for i in range(n // 2)],
                 z(n // 2), [tw.famous_scene(random.Random(i), fam) for i in range(n // 4)], z(n // 4), z(1)[0])

if __name__ == "__main__":
    ap = argparse.ArgumentParser(); ap.add_argument("--device", default="cuda")
    ap.add_argument("--workers", default="8"); ap.add_argument("--batches", default="256"); ap.add_argument("--steps", type=int, default=30)
    a = ap.parse_args(); dev = a.device
    tok = tw.toy_tokenizer(); pr = Prompter(tok, toy_showo_config(len(tok)).layout, max_text_len=40); P = pools()
    out = []
    sync = (lambda: torch.cuda.synchronize()) if dev.startswith("cuda") else (lambda: None)
    for B in map(int, a.batches.split(",")):
        model = ShowO(toy_showo_config(pr.layout.text_size)).to(dev).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        fixed = showo_batch(pr, P, B, 0.1, random.Random(0), torch.Generator().manual_seed(0))
        def step(b):
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.startswith("cuda")):
                loss = sum(showo_losses(model, b, pr.max_text_len, dev).values())
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); return loss.item()
        for _ in range(3): step(fixed)
        sync(); t = time.time()
        for _ in range(a.steps): step(fixed)
        sync(); compute = (time.time() - t) / a.steps
        row = {"batch": B, "compute_s_per_step": round(compute, 4), "seq_lens": {k: list(v.shape) for k, v in fixed.items()}}
        for W in map(int, a.workers.split(",")):
            it = batches(partial(showo_batch, pr, P, B, 0.1), 0, W)
            for _ in range(W): next(it)
            t = time.time()
            for _ in range(a.steps): next(it)
            data = (time.time() - t) / a.steps
            it = batches(partial(showo_batch, pr, P, B, 0.1), 1, W)
            for _ in range(W): next(it)
            sync(); t = time.time()
            for _ in range(a.steps): step(next(it))
            sync(); both = (time.time() - t) / a.steps
            row[f"w{W}"] = {"data_s_per_batch": round(data, 4), "train_s_per_step": round(both, 4), "samples_per_s": round(B / both)}
            del it
        print(json.dumps(row), flush=True); out.append(row)
    if dev.startswith("cuda"):
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
            for _ in range(5): step(fixed)
            sync()
        print(p.key_averages().table(sort_by="cuda_time_total", row_limit=20))

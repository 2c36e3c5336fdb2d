"""Benchmark: KV-cached vs full-recompute understanding decoding, on a Show-o-256-shaped sequence.

A tiny Show-o (random weights; the shapes are what matter) decodes `--new` tokens after a prompt of
`<|mmu|> <|soi|> 256 image tokens <|eoi|> <eot> USER: ... ASSISTANT:` with both decoders; both must return the same
tokens. Prints the time per generated token of each and the speed-up, measured in one run. Not a test.

    python scripts/bench_mmu_cache.py [--new 64] [--batch 1] [--repeats 3] [--hidden 256 --layers 4]
"""
import argparse, time

import torch

from unictokens.prompting import Prompter, word_tokenizer
from unictokens.sampling import mmu_generate, mmu_generate_uncached
from unictokens.showo import ShowO, ShowOConfig


def best_time(fn, repeats):
    "Best wall time of `repeats` calls, and the last result."
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(); best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new", type=int, default=64, help="tokens to generate")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    words = "what is in the photo describe it USER ASSISTANT : ? . a red cat on beach".split()
    cfg = ShowOConfig.tiny(text_size=len(words) + 2, codebook_size=1024, num_vq_tokens=256, max_text_len=128,
                           max_position_embeddings=512, hidden_size=a.hidden, intermediate_size=4 * a.hidden,
                           num_layers=a.layers, num_heads=a.hidden // 64)
    model = ShowO(cfg).eval()
    pr = Prompter(word_tokenizer(words), cfg.layout, max_text_len=cfg.max_text_len)
    codes = torch.randint(0, cfg.codebook_size, (a.batch, 256), generator=torch.Generator().manual_seed(0))
    prefix = pr.mmu_prefix(codes, "describe what is in the photo ?")
    t_full, slow = best_time(lambda: mmu_generate_uncached(model, prefix, a.new, eot_id=-1), a.repeats)
    t_kv, fast = best_time(lambda: mmu_generate(model, prefix, a.new, eot_id=-1), a.repeats)
    assert fast == slow, "cached and uncached decoders disagree"
    n = a.new
    print(f"Show-o-256-shaped mmu decoding: prompt {prefix.shape[1]} ids, {n} new tokens, batch {a.batch}, "
          f"tiny model hidden={a.hidden} layers={a.layers}, {torch.get_num_threads()} CPU threads")
    print(f"  full recompute : {t_full:.3f} s  ({1000 * t_full / n:.2f} ms/token)")
    print(f"  KV cache       : {t_kv:.3f} s  ({1000 * t_kv / n:.2f} ms/token)")
    print(f"  speed-up       : {t_full / t_kv:.1f}x  (same tokens: yes)")


if __name__ == "__main__":
    main()

"""Benchmark: the image-code cache. Epochs after the first call the MAGVIT-v2 encoder zero times.

Runs several epochs of t2i collation (images -> codes -> sequences) over a dataset in the UniCTokens layout, with and
without the cache, and prints per epoch the encoder calls, images encoded and wall time, and the speed-up of cached
epochs over the first, measured in one run. Not a test.

    python scripts/bench_code_cache.py [--data-root DIR] [--concept bo] [--epochs 3] [--resolution 64] [--showlab]

Without --data-root a small example dataset is written to a temporary folder. --showlab uses the full-size
(randomly initialised) MAGVIT-v2 architecture instead of the tiny one.
"""
import argparse, tempfile, time

import torch

from unictokens.data import CodeCache, T2ICollator, T2IDataset, UniCTokensData, make_example_dataset
from unictokens.magvit import MAGVITv2, MAGVITv2Config
from unictokens.prompting import Prompter, word_tokenizer
from unictokens.vocab import VocabLayout


class NoCache(CodeCache):
    "Encodes every batch (what a loop without a cache does)."
    def __call__(self, images):
        self.encoder_calls += 1; self.images_encoded += len(images)
        return self.magvit.encode(images).cpu()


def epochs(collate, ds, n, batch):
    rows = []
    for e in range(n):
        c0, i0, t0 = collate.codes.encoder_calls, collate.codes.images_encoded, time.perf_counter()
        for s in range(0, len(ds), batch): collate([ds[i] for i in range(s, min(s + batch, len(ds)))])
        rows.append((collate.codes.encoder_calls - c0, collate.codes.images_encoded - i0, time.perf_counter() - t0))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root"); ap.add_argument("--concept", default="bo")
    ap.add_argument("--epochs", type=int, default=3); ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--resolution", type=int, default=64); ap.add_argument("--showlab", action="store_true")
    a = ap.parse_args()
    tmp = None
    if a.data_root is None:
        tmp = tempfile.TemporaryDirectory(); a.data_root = make_example_dataset(tmp.name, n_train=12, size=a.resolution)
    data = UniCTokensData(a.data_root)
    items = [{**x, "prompt": "a photo of"} for x in data.derive_training_data(a.concept, stage=2).t2i]  # no tokens needed here
    ds = T2IDataset(items, a.resolution)
    torch.manual_seed(0)
    vq = MAGVITv2(MAGVITv2Config.showlab() if a.showlab else MAGVITv2Config.tiny()).eval()
    words = "a photo of".split()
    tok = word_tokenizer(words)
    pr = Prompter(tok, VocabLayout(len(tok), vq.codebook_size, 0), max_text_len=16)
    print(f"{len(ds)} images of <{a.concept}> at {a.resolution} px, batch {a.batch}, "
          f"{'showlab' if a.showlab else 'tiny'} MAGVIT-v2, {torch.get_num_threads()} CPU threads")
    results = {}
    for name, cache in (("no cache", NoCache(vq)), ("cache", CodeCache(vq))):
        results[name] = epochs(T2ICollator(pr, cache, generator=torch.Generator().manual_seed(0)), ds, a.epochs, a.batch)
        for e, (calls, imgs, t) in enumerate(results[name]):
            print(f"  {name:9s} epoch {e + 1}: encoder calls {calls:3d}, images encoded {imgs:3d}, {t:.3f} s")
    later = sum(t for _, _, t in results["cache"][1:]) / max(1, a.epochs - 1)
    print(f"  cached epochs after the first: {results['cache'][1][0]} encoder calls; "
          f"{results['no cache'][1][2] / later:.1f}x faster than an uncached epoch, "
          f"{results['cache'][0][2] / later:.1f}x faster than the first epoch")


if __name__ == "__main__":
    main()

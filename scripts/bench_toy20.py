"""UnifyBench on the whole toy world: 20 concepts x seeds x (ours, 4 ablations, 3 baselines), on GPUs.

    python scripts/bench_toy20.py run --out out/toy20 --seeds 0,1,2 --processes 15 --deadline 540 --pack $OUT/toy20.tgz
    python scripts/bench_toy20.py speedup --processes-per-gpu 15 --out out/speedup   # one GPU against all of them
    python scripts/bench_toy20.py merge toy20.tgz --into nbs/results/toy20

`run` trains and evaluates every (concept, seed) pair with `unictokens demo` under `accelerate launch` (`--processes`
processes sharing the GPUs: tiny recipe and evaluation preset, the shipped toy backbone, its exact judge), stopping at
`--deadline` seconds: every finished pair is on disk and a rerun into the same `--out` resumes. `speedup` runs the same
20-concept benchmark (one seed) on one GPU and then on every GPU of the machine, each into a fresh folder, and prints
the wall times and their ratio (also written as speedup.json). It then packs what is finished (each pair's result.json, the first seed's training
histories, and the picture grids of the concepts shown in the notebook) into one archive, the form in which results
travel back from a lent GPU. `merge` reads such archives, recomputes the aggregate, intervals and claims from the
per-concept results with the same code as the report, and writes the files the 10b_bench notebook reads. Numbers, not
a test.
"""
import argparse, io, json, os, signal, subprocess, tarfile, time
from pathlib import Path

SHOWN = ("bo", "eli")  # concepts whose pictures the notebook shows (a cat and a woman of the seed-0 world)


def launch(out, seeds: str, processes: int, deadline: float, epochs=None, env=None) -> tuple:
    "(exit code, seconds) of `unictokens demo` on all concepts under `accelerate launch`, killed at `deadline`."
    cmd = ["accelerate", "launch", "--multi_gpu", "--num_processes", str(processes), "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "-m", "unictokens.cli", "demo", "--concepts", "all", "--ablations", "all", "--seeds", seeds,
           "--device", "cuda", "--out", str(out)] + (["--epochs", str(epochs)] if epochs else [])
    t0 = time.time()
    p = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, start_new_session=True)
    try: code = p.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        print(f"deadline of {deadline} s reached: stopping; finished pairs are kept and a rerun resumes", flush=True)
        os.killpg(p.pid, signal.SIGTERM); code = p.wait()
    return code, time.time() - t0


def speedup(a):
    import torch
    n = torch.cuda.device_count()
    one = launch(Path(a.out) / "one_gpu", "0", a.processes_per_gpu, a.deadline, env={"CUDA_VISIBLE_DEVICES": "0"})
    every = launch(Path(a.out) / f"{n}_gpus", "0", a.processes_per_gpu * n, a.deadline)
    r = {"gpus": n, "processes_per_gpu": a.processes_per_gpu, "one_gpu_s": round(one[1], 1), f"{n}_gpus_s": round(every[1], 1),
         "speedup": round(one[1] / every[1], 2), "exit_codes": [one[0], every[0]], "gpu": torch.cuda.get_device_name(0)}
    Path(a.out, "speedup.json").write_text(json.dumps(r, indent=1))
    print(json.dumps(r))


def run(a):
    t0 = time.time()
    code, _ = launch(a.out, a.seeds, a.processes, a.deadline, a.epochs)
    out = Path(a.out)
    done = sorted(out.glob("concepts/seed_*/*/result.json"))
    print(f"{len(done)} (concept, seed) results after {time.time() - t0:.0f} s (exit code {code})", flush=True)
    with tarfile.open(a.pack, "w:gz") as tar:
        for f in done: tar.add(f, str(f.relative_to(out)))
        for f in sorted(out.glob("runs/seed_0/*/*/history.json")): tar.add(f, str(f.relative_to(out)))
        for c in SHOWN:
            for f in sorted(out.glob(f"concepts/seed_0/{c}/*.png")): tar.add(f, str(f.relative_to(out)))
        for name in ("report.md", "scores.json", "intervals.json", "claims.json"):
            if (out / name).is_file(): tar.add(out / name, name)
        info = tarfile.TarInfo("timing.json"); blob = json.dumps({"seconds": round(time.time() - t0, 1), "pairs": len(done),
                                                                  "processes": a.processes, "seeds": a.seeds}).encode()
        info.size = len(blob); tar.addfile(info, io.BytesIO(blob))
    print(f"packed into {a.pack} ({os.path.getsize(a.pack) / 2 ** 20:.1f} MiB)")


def merge(a):
    from unictokens.bench import aggregate, claims
    into = Path(a.into); into.mkdir(parents=True, exist_ok=True)
    results, timing = {}, []
    for arc in a.archives:
        with tarfile.open(arc) as tar:
            for m in tar.getmembers():
                if m.name.endswith("result.json"):
                    r = json.load(tar.extractfile(m)); results[(r["concept"], r["seed"])] = r
                elif m.name == "timing.json": timing.append(json.load(tar.extractfile(m)))
                elif m.name.endswith(".png") or m.name.endswith("history.json"):
                    tar.extract(m, into / "files", filter="data")
    rs = [results[k] for k in sorted(results, key=lambda k: (k[1], k[0]))]
    slim = [{k: v for k, v in r.items() if k != "systems"} | {"systems": {s: {"metrics": x["metrics"], "notes": x["notes"],
             "raw": {k: x["raw"][k] for k in ("knowledge", "knowledge_verdicts") if k in x["raw"]}} for s, x in r["systems"].items()}}
            for r in rs]
    summary = {"aggregate": aggregate(rs), "claims": claims(rs), "concepts": sorted({r["concept"] for r in rs}),
               "seeds": sorted({r["seed"] for r in rs}), "timing": timing}
    (into / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (into / "results.json").write_text(json.dumps(slim) + "\n")
    answers = [{"concept": r["concept"], "seed": r["seed"], "system": s, "kind": k, **{f: x[f] for f in ("question", "gold", "answer")}}
               for r in rs if r["seed"] == rs[0]["seed"] for s, v in r["systems"].items() for k in ("vqa", "text_only") for x in v["raw"].get(k, [])]
    (into / "answers.json").write_text(json.dumps(answers) + "\n")
    knowledge_figure(into / "files", [r for r in rs if r["seed"] == 0 and r["concept"] in SHOWN], into / "knowledge.png")
    print(f"merged {len(rs)} results ({len(summary['concepts'])} concepts x seeds {summary['seeds']}) into {into}")


FIGURE_SYSTEMS = ("ours", "skip_stage3", "separate", "no_concept", "text_description")


def knowledge_figure(files: Path, results: list, png: Path):
    "Per shown concept: its training pictures, then per system the plain prompt and the first knowledge condition, with scores."
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image
    fig, axs = plt.subplots(1 + len(FIGURE_SYSTEMS), 2 * len(results), figsize=(8 * len(results), 1.45 * (1 + len(FIGURE_SYSTEMS))))
    for j, r in enumerate(results):
        folder = files / r["folder"]
        axs[0, 2 * j].imshow(Image.open(folder / r["train_grid"])); axs[0, 2 * j].set_title(f"<{r['concept']}>: training pictures", fontsize=9)
        axs[0, 2 * j + 1].axis("off")
        for i, s in enumerate(FIGURE_SYSTEMS, start=1):
            v = r["systems"][s]
            plain, cond = list(v["grids"])[-3], list(v["grids"])[-2]  # grids: generation prompts, the plain prompt, conditions
            verdicts = v["raw"]["knowledge_verdicts"][cond]
            for k, (p, title) in enumerate(((plain, f"{s}: {plain}"), (cond, f"{s}: {cond}\nscore " + " ".join(
                    f"{x['score']:g}" + ("" if x["identity"] is None else f"({'I' if x['identity'] else '-'}{'F' if x['fact'] == 1 else '-'})")
                    for x in verdicts)))):
                ax = axs[i, 2 * j + k]; ax.imshow(Image.open(folder / v["grids"][p])); ax.set_title(title, fontsize=7)
    for ax in axs.flat: ax.set_xticks([]); ax.set_yticks([])
    fig.tight_layout(); fig.savefig(png, dpi=80); plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run"); r.add_argument("--out", default="out/toy20"); r.add_argument("--seeds", default="0,1,2")
    r.add_argument("--processes", type=int, default=15)
    r.add_argument("--epochs", type=int, default=None); r.add_argument("--deadline", type=float, default=540)
    r.add_argument("--pack", required=True)
    sp = sub.add_parser("speedup"); sp.add_argument("--out", default="out/speedup"); sp.add_argument("--processes-per-gpu", type=int, default=15)
    sp.add_argument("--deadline", type=float, default=280)
    m = sub.add_parser("merge"); m.add_argument("archives", nargs="+"); m.add_argument("--into", default="nbs/results/toy20")
    a = ap.parse_args()
    {"run": run, "speedup": speedup, "merge": merge}[a.cmd](a)


if __name__ == "__main__":
    main()

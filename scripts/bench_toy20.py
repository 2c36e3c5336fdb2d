"""UnifyBench on the whole toy world: 20 concepts x seeds x (ours, 4 ablations, 3 baselines), on GPUs.

    python scripts/bench_toy20.py run --out out/toy20 --seeds 0,1,2 --processes 15 --deadline 540 --pack $OUT/toy20.tgz
    python scripts/bench_toy20.py run --out out/one --gpus 1 --seeds 0,1,2 --processes 15 --pack $OUT/one.tgz  # one GPU ...
    python scripts/bench_toy20.py run --out out/two --seeds 0,1,2 --processes 30 --pack $OUT/two.tgz           # ... against two
    python scripts/bench_toy20.py run --out out/two --seeds 0,1,2 --processes 30 --launcher torchrun --pack $OUT/two.tgz  # started sooner
    python scripts/bench_toy20.py speedup --processes-per-gpu 15 --seeds 0 --out out/speedup   # both in one call, one seed
    python scripts/bench_toy20.py run --out out/cand --backbone out/cand --pack $OUT/cand.tgz    # another backbone (a folder)
    python scripts/bench_toy20.py merge toy20.tgz --into nbs/results/toy20

`run` trains and evaluates every (concept, seed) pair with `unictokens demo` under `accelerate launch` (`--processes`
processes sharing the GPUs, or the first `--gpus`: tiny recipe and evaluation preset, the shipped toy backbone, its exact
judge), stopping at `--deadline` seconds: every finished pair is on disk and a rerun into the same `--out` resumes. It
then packs what is finished (each pair's result.json, the first seed's training histories, the picture grids of the
concepts shown in the notebook, the launcher's output stamped with seconds, and timing.json: wall and in-run seconds,
GPUs, processes) into one archive, the form in which results travel back from a lent GPU. Two `run`s, one GPU and two,
are the speed-up measurement of the multi-GPU issue. `speedup` does both in one call (one seed, so both fit) and
prints the wall times and their ratio (also written as speedup.json). `merge` reads archives, recomputes the
aggregate, intervals and claims from the per-concept results with the same code as the report, and writes the files
the 10b_bench notebook reads. Numbers, not a test.
"""
import argparse, io, json, os, re, signal, subprocess, tarfile, threading, time
from pathlib import Path

SHOWN = ("bo", "eli")  # concepts whose pictures the notebook shows (a cat and a woman of the seed-0 world)


def launcher_command(launcher: str, processes: int) -> list:
    "The command line that starts `processes` copies of a script on this machine (followed by the script or `-m module`)."
    if launcher == "torchrun": return ["torchrun", "--standalone", "--nproc_per_node", str(processes)]
    return ["accelerate", "launch", "--multi_gpu", "--num_processes", str(processes), "--num_machines", "1", "--mixed_precision", "no",
            "--dynamo_backend", "no"]


def launch(out, seeds: str, processes: int, deadline: float, epochs=None, env=None, log=None, launcher="accelerate", backbone=None) -> tuple:
    "(exit code, seconds) of `unictokens demo` on all concepts under `launcher`, killed at `deadline`; output also to `log`."
    cmd = launcher_command(launcher, processes) + ["-m", "unictokens.cli", "demo", "--concepts", "all", "--ablations", "all", "--seeds", seeds,
           "--device", "cuda", "--out", str(out)] + (["--epochs", str(epochs)] if epochs else []) + (["--backbone", backbone] if backbone else [])
    t0 = time.time()
    p = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, start_new_session=True, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, bufsize=1)
    def copy():  # every line to the console and, stamped with the seconds since the launch, to the log
        with open(log or os.devnull, "a") as f:
            for line in p.stdout: print(line, end="", flush=True); f.write(f"{time.time() - t0:7.1f} {line}"); f.flush()
    reader = threading.Thread(target=copy, daemon=True); reader.start()
    try: code = p.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        print(f"deadline of {deadline} s reached: stopping; finished pairs are kept and a rerun resumes", flush=True)
        os.killpg(p.pid, signal.SIGTERM); code = p.wait()
    reader.join(timeout=10)
    return code, time.time() - t0


def speedup(a):
    "The same benchmark on one GPU, then on every GPU, each into a fresh folder (one call: both must fit the deadline)."
    import torch
    n, out = torch.cuda.device_count(), Path(a.out)
    runs = {}
    for gpus in (1, n):
        folder = out / f"{gpus}_gpus"; folder.mkdir(parents=True, exist_ok=True)
        code, seconds = launch(folder, a.seeds, a.processes_per_gpu * gpus, a.deadline, log=folder / "launch.log", launcher=a.launcher,
                               env={"CUDA_VISIBLE_DEVICES": ",".join(map(str, range(gpus)))})
        runs[gpus] = (code, round(seconds, 1), in_run_seconds(folder / "launch.log"))
    same = (out / "1_gpus/scores.json").is_file() and (out / "1_gpus/scores.json").read_bytes() == (out / f"{n}_gpus/scores.json").read_bytes()
    r = {"gpus": n, "processes_per_gpu": a.processes_per_gpu, "one_gpu_s": runs[1][1], f"{n}_gpus_s": runs[n][1],
         "speedup": round(runs[1][1] / runs[n][1], 2), "exit_codes": [runs[1][0], runs[n][0]], "gpu": torch.cuda.get_device_name(0),
         "cpus": os.cpu_count(), "one_gpu_in_run_s": runs[1][2], f"{n}_gpus_in_run_s": runs[n][2], "scores_identical": same,
         "seeds": a.seeds, "launcher": a.launcher}
    Path(a.out, "speedup.json").write_text(json.dumps(r, indent=1))
    print(json.dumps(r))


def in_run_seconds(log: Path):
    "run_bench's own seconds (its last line: 'wrote ... in N s'), without the launcher's start and end."
    found = re.findall(r"claims\.json in (\d+) s", log.read_text()) if log.is_file() else []
    return int(found[-1]) if found else None


def run(a):
    import torch
    t0, out = time.time(), Path(a.out)
    gpus = a.gpus or torch.cuda.device_count()
    env = {"CUDA_VISIBLE_DEVICES": ",".join(map(str, range(gpus)))} if a.gpus else None
    out.mkdir(parents=True, exist_ok=True); log = out / "launch.log"
    code, seconds = launch(a.out, a.seeds, a.processes, a.deadline, a.epochs, env=env, log=log, launcher=a.launcher, backbone=a.backbone)
    done = sorted(out.glob("concepts/seed_*/*/result.json"))
    print(f"{len(done)} (concept, seed) results after {time.time() - t0:.0f} s (exit code {code})", flush=True)
    with tarfile.open(a.pack, "w:gz") as tar:
        for f in done: tar.add(f, str(f.relative_to(out)))
        for f in sorted(out.glob("runs/seed_0/*/*/history.json")): tar.add(f, str(f.relative_to(out)))
        for c in SHOWN:
            for f in sorted(out.glob(f"concepts/seed_0/{c}/*.png")): tar.add(f, str(f.relative_to(out)))
        for name in ("report.md", "scores.json", "intervals.json", "claims.json"):
            if (out / name).is_file(): tar.add(out / name, name)
        if log.is_file(): tar.add(log, "launch.log")
        info = tarfile.TarInfo("timing.json"); blob = json.dumps({
            "seconds": round(time.time() - t0, 1), "launch_s": round(seconds, 1), "in_run_s": in_run_seconds(log), "exit_code": code,
            "pairs": len(done), "processes": a.processes, "launcher": a.launcher, "seeds": a.seeds, "gpus": gpus, "backbone": a.backbone or "toy",
            "gpu": torch.cuda.get_device_name(0) if gpus else None, "cpus": os.cpu_count()}).encode()
        info.size = len(blob); tar.addfile(info, io.BytesIO(blob))
    print(f"packed into {a.pack} ({os.path.getsize(a.pack) / 2 ** 20:.1f} MiB)")


def merge(a):
    from unictokens.bench import aggregate, claims, recognition_by_kind
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
               "seeds": sorted({r["seed"] for r in rs}), "timing": timing, "recognition_by_kind": recognition_by_kind(rs)}
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
    r.add_argument("--gpus", type=int, default=None, help="use only the first N GPUs (default: every one)")
    r.add_argument("--epochs", type=int, default=None); r.add_argument("--deadline", type=float, default=540)
    r.add_argument("--pack", required=True)
    r.add_argument("--backbone", default=None, help="a backbone folder pretrain_toy wrote (default: the shipped toy backbone)")
    sp = sub.add_parser("speedup"); sp.add_argument("--out", default="out/speedup"); sp.add_argument("--processes-per-gpu", type=int, default=15)
    sp.add_argument("--seeds", default="0"); sp.add_argument("--deadline", type=float, default=280)
    for p in (r, sp): p.add_argument("--launcher", choices=("accelerate", "torchrun"), default="accelerate",
                                     help="what starts the processes (torchrun starts them sooner; both run the same code)")
    m = sub.add_parser("merge"); m.add_argument("archives", nargs="+"); m.add_argument("--into", default="nbs/results/toy20")
    a = ap.parse_args()
    {"run": run, "speedup": speedup, "merge": merge}[a.cmd](a)


if __name__ == "__main__":
    main()

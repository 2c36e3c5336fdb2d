"""Where the start of a launched benchmark goes: each process's time to its imports, the process group, CUDA and the backbone.

    python scripts/profile_launch.py --processes 15 --out out/launch.json    # one GPU: CUDA_VISIBLE_DEVICES=0 in front
    python scripts/profile_launch.py --processes 30 --launcher torchrun --out out/launch_torchrun.json

The 20-concept benchmark spends about 30 s between `accelerate launch` and `run_bench`'s first line, on one GPU and on
two alike, and that part does not shrink with more GPUs. This script launches `--processes` copies of itself the same way
(`--launcher`: `accelerate launch --multi_gpu` or `torchrun`), each stamping the seconds since the launch at every step
of the start, and prints the slowest process's stamps per step. Numbers, not a test.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from bench_toy20 import launcher_command


def child():
    t0, stamps = float(os.environ["PROFILE_LAUNCH_T0"]), {}
    def stamp(name): stamps[name] = round(time.time() - t0, 2)
    stamp("python started")
    import torch; stamp("import torch")
    import unictokens.cli, unictokens.bench, unictokens.stages, unictokens.judges; stamp("import unictokens (demo's modules)")
    from unictokens.bench import coordinator, process_device, wait_for_everyone
    state = coordinator(); stamp("process group (gloo)")
    wait_for_everyone(state); stamp("first barrier")
    dev = process_device("cuda", state)
    torch.cuda.init(); stamp("torch.cuda.init")
    torch.zeros(1, device=dev); torch.cuda.synchronize(dev); stamp("CUDA context (first tensor)")
    from unictokens.backbones import load_backbone
    load_backbone("toy", device=dev); torch.cuda.synchronize(dev); stamp("toy backbone on the GPU")
    wait_for_everyone(state); stamp("every process ready")
    out = Path(os.environ["PROFILE_LAUNCH_DIR"]); out.mkdir(parents=True, exist_ok=True)
    (out / f"process_{state.process_index}.json").write_text(json.dumps(stamps))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=15); ap.add_argument("--out", default="out/launch.json")
    ap.add_argument("--launcher", choices=("accelerate", "torchrun"), default="accelerate")
    a = ap.parse_args()
    parts = Path(a.out).with_suffix(".d")
    env = {**os.environ, "PROFILE_LAUNCH_T0": repr(time.time()), "PROFILE_LAUNCH_DIR": str(parts)}
    t0 = time.time()
    code = subprocess.call(launcher_command(a.launcher, a.processes) + [__file__, "--child"], env=env)
    total = time.time() - t0
    runs = [json.loads(p.read_text()) for p in sorted(parts.glob("process_*.json"))]
    steps = list(runs[0]) if runs else []
    r = {"launcher": a.launcher, "processes": a.processes, "finished": len(runs), "exit_code": code, "launcher_total_s": round(total, 1),
         "slowest_s": {s: max(x[s] for x in runs) for s in steps}, "fastest_s": {s: min(x[s] for x in runs) for s in steps}}
    Path(a.out).write_text(json.dumps(r, indent=1)); print(json.dumps(r, indent=1))


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()

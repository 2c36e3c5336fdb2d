"""Minutes per notebook, run as `nbdev_test` runs them, on this machine's CPU or GPU: the start page's table.

    python scripts/time_notebooks.py --out out/times_cpu.json                     # every notebook, one at a time
    python scripts/time_notebooks.py --workers 8 --out $OUT/times_gpu.json        # on a lent GPU, eight side by side
    python scripts/time_notebooks.py nbs/09_stages.ipynb nbs/start.ipynb --out t.json

Each notebook runs in its own fresh process with the cells `nbdev_test` runs (the same skip rules: `#| eval: false`
and the test flags of settings.ini), from its own folder, stopping at the first failing cell. The script prints and
writes, per notebook, whether it passed, its seconds, the device it found (`torch.cuda.is_available()` decides it in
the notebooks) and its three slowest cells. Side by side (`--workers`), the seconds include waiting for the CPU, so the
figures the docs quote come from one notebook at a time unless they say otherwise. Numbers, not a test.
"""
import argparse, json, os, platform, subprocess, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def child(path: Path) -> dict:
    "Run one notebook here, timing each cell (the work of one worker process)."
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.process import NBProcessor
    sys.path.insert(0, str(Path(__file__).parent))
    from run_notebooks import skipped  # the cells nbdev_test skips
    nb = NBProcessor(path, process=True).nb
    cells, t = [], {}

    def skip(cell):
        if skipped(cell): return True
        t["start"], t["cell"] = time.perf_counter(), cell.idx_; return False

    def done(cell):
        cells.append({"cell": cell.idx_, "seconds": round(time.perf_counter() - t["start"], 2), "first_line": cell.source.splitlines()[0][:80]})

    os.environ["IN_TEST"] = "1"  # as nbdev_test sets it
    t0, error = time.perf_counter(), None
    shell = CaptureShell(path)
    try:
        with working_directory(path.parent): shell.run_all(nb, exc_stop=True, preproc=skip, postproc=done)
    except Exception as e: error = f"cell {t.get('cell')}: {type(e).__name__}: {str(e)[:500]}"
    import torch
    return {"notebook": path.name, "ok": error is None, "error": error, "seconds": round(time.perf_counter() - t0, 1),
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores)",
            "slowest_cells": sorted(cells, key=lambda c: -c["seconds"])[:3]}


def run_one(path: Path, timeout: float) -> dict:
    "One notebook in a fresh Python process (like a fresh kernel); its result, or why it gave none."
    t0 = time.time()
    try:
        p = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"notebook": path.name, "ok": False, "error": f"still running after {timeout:.0f} s: stopped", "seconds": round(time.time() - t0, 1)}
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode or not lines:
        return {"notebook": path.name, "ok": False, "error": f"exit code {p.returncode}: {p.stderr[-500:]}", "seconds": round(time.time() - t0, 1)}
    return json.loads(lines[-1])


def main():
    if "--child" in sys.argv:
        print(json.dumps(child(Path(sys.argv[-1])))); return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*"); ap.add_argument("--out", default="out/notebook_times.json")
    ap.add_argument("--workers", type=int, default=1); ap.add_argument("--timeout", type=float, default=3600)
    a = ap.parse_args()
    paths = [Path(p) for p in a.notebooks]  # in the order given
    if not paths:  # every notebook, the big ones first, so that side by side the longest start early
        paths = sorted((p for p in Path("nbs").glob("*.ipynb") if not p.name.startswith("_")), key=lambda p: -p.stat().st_size)
    t0, results, lock = time.time(), [], threading.Lock()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    def write():  # after every notebook, so a run stopped early keeps what finished
        report = {"workers": a.workers, "machine": f"{platform.node()} ({os.cpu_count()} cores)", "wall_s": round(time.time() - t0, 1),
                  "finished": len(results), "of": len(paths), "notebooks": sorted(results, key=lambda r: r["notebook"])}
        Path(a.out).write_text(json.dumps(report, indent=1) + "\n"); return report
    def one(p):
        r = run_one(p.resolve(), a.timeout)
        print(f"{r['notebook']:24s} {'ok' if r['ok'] else 'FAILED':6s} {r['seconds']:7.1f} s  {r.get('device', '')}"
              + ("" if r["ok"] else f"\n    {r['error']}"), flush=True)
        with lock: results.append(r); write()
        return r
    with ThreadPoolExecutor(a.workers) as ex: list(ex.map(one, paths))
    report = write()
    print(f"{sum(r['ok'] for r in results)} of {len(results)} notebooks passed; {report['wall_s']} s in all; written to {a.out}")
    sys.exit(0 if all(r["ok"] for r in results) else 1)


if __name__ == "__main__":
    main()

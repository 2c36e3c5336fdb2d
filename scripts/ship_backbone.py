"""Ship a candidate toy backbone (a folder `pretrain_toy` or `repretrain_toy.py` wrote) as the package's `assets/toy`.

    python scripts/sweep_recipe.py choice backbone --candidate out/r --out out/bb --pack $OUT/bb.tgz --per-category 10 --processes 15  # a GPU
    python scripts/sweep_recipe.py merge-choice bb.tgz --into out/bb_answer
    python scripts/ship_backbone.py out/r --version v3.7 --what "..." --heldout out/bb_answer/backbone.json --dry-run
    python scripts/ship_backbone.py out/r --version v3.7 --what "..." --heldout out/bb_answer/backbone.json

Checks before anything is written, each refusal naming the file and field:
- the candidate's manifest passes every quality bar (`passes_bars`), and its bars are the package's `QUALITY_BARS`;
- every file its manifest hashes is there with that sha256 (a truncated copy from the GPU machine is refused);
- the shipped files come to at most 40 MB;
- concepts trained on it score, on held-out concepts, not lower than on the shipped backbone beyond the interval:
  `--heldout FILE` is `scripts/sweep_recipe.py choice backbone --candidate FOLDER`'s answer (merged with
  `merge-choice`), tied to this candidate and to the shipped backbone by their `weights_id`, and the paired
  difference in the mean of the four headline scores must have the upper end of its 95% interval at zero or above.
  The bars measure the backbone on made-up entities; this measures what a user trains on it (v3.6 passed every bar
  and scored lower on the test world, 10b_bench).
Then the files replace `assets/toy`'s, the manifest gets the old lineage plus this version's entry (its `measured_later`
starts empty: figures measured after shipping belong to the version they measured), the stored generation
`tests/data/toy_generation.json` is redrawn on this CPU with the new weights, and `load_backbone("toy")` is timed.
The rest (notebook pictures, the 20-concept benchmark) is a person's job: the script prints the list.
"""
import argparse, json, shutil, subprocess, sys, time
from pathlib import Path

from unictokens.backbones import QUALITY_BARS, TOY_ASSETS, load_backbone, reference_generation, weights_id
from unictokens.checkpoints import file_sha256, write_json

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "toy_generation.json"
MAX_MB = 40


def check(cand: Path) -> dict:
    "The candidate's manifest, after every check; SystemExit naming what is wrong otherwise."
    mf = cand / "manifest.json"
    if not mf.is_file(): raise SystemExit(f"{mf}: no manifest (is {cand} a folder pretrain_toy wrote?)")
    m = json.loads(mf.read_text())
    if m.get("quality_bars") != QUALITY_BARS: raise SystemExit(f"{mf}: field quality_bars differs from the package's QUALITY_BARS")
    missed = {k: round(m["quality"][k], 4) for k, bar in QUALITY_BARS.items() if m["quality"][k] < bar}
    if missed or not m.get("passes_bars"): raise SystemExit(f"{mf}: field quality misses its bars: {missed}; not shipped")
    size = 0
    for rel, sha in m["sha256"].items():
        p = cand / rel
        if not p.is_file(): raise SystemExit(f"{mf}: field sha256 names {rel}, which is not in {cand}")
        if file_sha256(p) != sha: raise SystemExit(f"{p}: sha256 differs from the manifest's (a partial copy?)")
        size += p.stat().st_size
    if size > MAX_MB * 2**20: raise SystemExit(f"{cand}: the shipped files come to {size / 2**20:.1f} MB, over {MAX_MB} MB")
    print(f"{cand}: every bar passes, {len(m['sha256'])} files match their hashes, {size / 2**20:.1f} MB")
    return m


def check_heldout(cand: Path, answer: Path) -> dict:
    "The held-out comparison's paired difference, after checking it is about this candidate and the shipped backbone."
    if not answer.is_file(): raise SystemExit(f"{answer}: no such file (make it with sweep_recipe.py choice backbone, then merge-choice)")
    try: h = json.loads(answer.read_text())
    except json.JSONDecodeError as e: raise SystemExit(f"{answer}: not JSON ({e})")
    if h.get("sweep") != "backbone": raise SystemExit(f"{answer}: field sweep is {h.get('sweep')!r}, not 'backbone'")
    for side, folder in (("candidate", cand), ("shipped", TOY_ASSETS)):
        if h.get(f"{side}_weights_id") != weights_id(folder):
            raise SystemExit(f"{answer}: field {side}_weights_id is not the weights_id of {folder}: it compared other backbones")
    if h.get("world_seed", 0) == 0: raise SystemExit(f"{answer}: field world_seed must name a held-out world, not the test world 0")
    d = (h.get("rows", {}).get("candidate") or {}).get("difference_from_none")
    if not d or None in d: raise SystemExit(f"{answer}: field rows.candidate.difference_from_none is missing")
    pairs = h["rows"]["candidate"].get("pairs")
    said = f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}] ({pairs} pairs, seed-{h['world_seed']} world)"
    if d[2] < 0: raise SystemExit(f"{answer}: field rows.candidate.difference_from_none: concepts score lower on the candidate, "
                                  f"{said} on the mean of the four headline scores; not shipped")
    print(f"{answer}: on held-out concepts the candidate minus the shipped backbone is {said}: not lower beyond the interval")
    return {"heldout_difference": d, "heldout_pairs": pairs, "heldout_world_seed": h["world_seed"]}


def ship(cand: Path, version: str, what: str, dry_run: bool, heldout: Path):
    m, old = check(cand), json.loads((TOY_ASSETS / "manifest.json").read_text())
    gate = check_heldout(cand, heldout)
    commit = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    entry = {"version": version, "commit": commit, "what": what, "quality": {k: round(v, 4) for k, v in m["quality"].items()},
             **gate}
    if any(e.get("version") == version for e in old.get("lineage", [])): raise SystemExit(f"{TOY_ASSETS / 'manifest.json'}: lineage already has {version}")
    if dry_run: print("would ship:", json.dumps(entry, indent=1)); return
    for rel in old["sha256"]:
        if rel not in m["sha256"]: (TOY_ASSETS / rel).unlink(missing_ok=True)
    for rel in m["sha256"]:
        (TOY_ASSETS / rel).parent.mkdir(parents=True, exist_ok=True); shutil.copyfile(cand / rel, TOY_ASSETS / rel)
    m = {**m, "lineage": [*old.get("lineage", []), entry], "measured_later": []}
    write_json(m, TOY_ASSETS / "manifest.json")
    t0 = time.time(); toy = load_backbone("toy"); secs = time.time() - t0  # checks every hash again
    ref = json.loads(REF.read_text())
    ref["codes"] = reference_generation(toy, ref)
    ref["note"] = (f"codes that t2i_generate draws on CPU with the shipped toy backbone ({version}); pins the shipped weights and the sampler")
    write_json(ref, REF)
    print(f"shipped {version} into {TOY_ASSETS}; load_backbone('toy') took {secs:.1f} s; {REF.name} redrawn")
    print("still to do: re-run the notebooks whose pictures come from the backbone (scripts/run_notebooks.py), read them,"
          " and benchmark the 20 concepts again (scripts/bench_toy20.py on a GPU)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("candidate", type=Path); ap.add_argument("--version", required=True)
    ap.add_argument("--what", required=True, help="one paragraph for the manifest's lineage: what was trained, how long, on what")
    ap.add_argument("--heldout", type=Path, required=True,
                    help="sweep_recipe.py choice backbone's merged answer for this candidate (results/sweep/backbone.json's form)")
    ap.add_argument("--dry-run", action="store_true", help="run every check, write nothing")
    a = ap.parse_args()
    ship(a.candidate, a.version, a.what, a.dry_run, a.heldout)

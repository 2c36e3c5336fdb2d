"scripts/ship_backbone.py refuses what must not ship, naming the file and field, and writes nothing on a dry run."
import json, shutil, subprocess, sys
from pathlib import Path
from unictokens.backbones import QUALITY_BARS, TOY_ASSETS, weights_id
from unictokens.checkpoints import file_sha256

ROOT = Path(__file__).resolve().parents[1]


def ship(cand, *args):
    if "--heldout" not in args: args = (*args, "--heldout", heldout(cand, [0.01, -0.02, 0.04]))
    return subprocess.run([sys.executable, "scripts/ship_backbone.py", str(cand), *map(str, args), "--version", "vtest", "--what", "a test",
                           "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=300)


def heldout(cand, difference, name="backbone.json", **fields):
    "An answer of sweep_recipe.py choice backbone about `cand` and the shipped backbone, in merge-choice's form."
    f = cand.parent / name
    f.write_text(json.dumps({"sweep": "backbone", "world_seed": 1, "candidate_weights_id": weights_id(cand),
                             "shipped_weights_id": weights_id(TOY_ASSETS),
                             "rows": {"none": {"pairs": 60, "difference_from_none": None},
                                      "candidate": {"pairs": 60, "difference_from_none": difference}}, **fields}))
    return f


def test_ship_refuses_missed_bars_and_partial_copies(tmp_path):
    cand = tmp_path / "cand"
    shutil.copytree(TOY_ASSETS, cand)
    m = json.loads((cand / "manifest.json").read_text())
    if not m["passes_bars"]:  # the shipped one misses a bar (issue 13): refused, the bar named
        r = ship(cand)
        assert r.returncode != 0 and "field quality misses its bars" in r.stderr, r.stderr[-500:]
    m["quality"] = {**m["quality"], **{k: max(v, m["quality"][k]) for k, v in QUALITY_BARS.items()}}
    m["passes_bars"] = True
    (cand / "manifest.json").write_text(json.dumps(m))
    r = ship(cand)
    assert r.returncode == 0 and "every bar passes" in r.stdout and '"version": "vtest"' in r.stdout, r.stderr[-500:]
    before = (TOY_ASSETS / "manifest.json").read_bytes()
    w = cand / "showo" / "pytorch_model.safetensors"
    w.write_bytes(w.read_bytes()[:1000])  # a truncated copy
    r = ship(cand)
    assert r.returncode != 0 and "showo/pytorch_model.safetensors: sha256 differs" in r.stderr, r.stderr[-500:]
    assert (TOY_ASSETS / "manifest.json").read_bytes() == before  # nothing written


def test_ship_refuses_a_candidate_concepts_score_lower_on(tmp_path):
    "The held-out gate: the answer must be about this candidate and the shipped backbone, on a held-out world, and not lower."
    cand = tmp_path / "cand"
    shutil.copytree(TOY_ASSETS, cand)
    m = json.loads((cand / "manifest.json").read_text())
    m["quality"] = {**m["quality"], **{k: max(v, m["quality"][k]) for k, v in QUALITY_BARS.items()}}
    (cand / "manifest.json").write_text(json.dumps({**m, "passes_bars": True}))
    r = ship(cand, "--heldout", heldout(cand, [-0.026, -0.049, -0.004]))
    assert r.returncode != 0 and "concepts score lower on the candidate, -0.026 [-0.049, -0.004] (60 pairs, seed-1 world)" in r.stderr, r.stderr[-500:]
    r = ship(cand, "--heldout", heldout(cand, [-0.01, -0.03, 0.01]))  # lower, within the interval: ships
    assert r.returncode == 0 and "not lower beyond the interval" in r.stdout, r.stderr[-500:]
    r = ship(cand, "--heldout", heldout(cand, [0.0, -0.02, 0.02], world_seed=0))
    assert r.returncode != 0 and "field world_seed must name a held-out world" in r.stderr, r.stderr[-500:]
    other = heldout(cand, [0.0, -0.02, 0.02])
    (cand / "manifest.json").write_text(json.dumps({**m, "passes_bars": True, "note": "a figure added later"}))
    r = ship(cand, "--heldout", other)  # the same weights: the answer still holds
    assert r.returncode == 0, r.stderr[-500:]
    (cand / "probe.safetensors").write_bytes(b"other weights")
    m["sha256"] = {**m["sha256"], "probe.safetensors": file_sha256(cand / "probe.safetensors")}
    (cand / "manifest.json").write_text(json.dumps({**m, "passes_bars": True}))
    r = ship(cand, "--heldout", other)
    assert r.returncode != 0 and "field candidate_weights_id is not the weights_id of" in r.stderr, r.stderr[-500:]
    r = ship(cand, "--heldout", tmp_path / "missing.json")
    assert r.returncode != 0 and "missing.json: no such file" in r.stderr, r.stderr[-500:]

"scripts/ship_backbone.py refuses what must not ship, naming the file and field, and writes nothing on a dry run."
import json, shutil, subprocess, sys
from pathlib import Path
from unictokens.backbones import QUALITY_BARS, TOY_ASSETS

ROOT = Path(__file__).resolve().parents[1]


def ship(*args):
    return subprocess.run([sys.executable, "scripts/ship_backbone.py", *map(str, args), "--version", "vtest", "--what", "a test", "--dry-run"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


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

"The re-pretraining script's decoder refit, end to end on tiny sizes: everything but MAGVIT-v2's decoder is kept bit for bit."
import json, subprocess, sys
from pathlib import Path
from safetensors.torch import load_file
from unictokens.backbones import TOY_ASSETS

ROOT = Path(__file__).resolve().parents[1]


def test_refit_decoder_keeps_every_other_weight(tmp_path):
    out = tmp_path / "dec"
    r = subprocess.run([sys.executable, "scripts/repretrain_toy.py", "--out", str(out), "--device", "cpu", "--smoke",
                        "--refit-decoder", "1", "--detail-weight", "4"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    m, shipped = json.loads((out / "manifest.json").read_text()), json.loads((TOY_ASSETS / "manifest.json").read_text())
    for f in ("showo/pytorch_model.safetensors", "clip.safetensors", "probe.safetensors"):
        assert m["sha256"][f] == shipped["sha256"][f], f  # kept exactly
    old, new = load_file(TOY_ASSETS / "magvit" / "pytorch_model.safetensors"), load_file(out / "magvit" / "pytorch_model.safetensors")
    assert all(old[k].equal(new[k]) for k in old if not k.startswith("decoder.")), "the encoder moved"
    assert any(not old[k].equal(new[k]) for k in old if k.startswith("decoder.")), "the decoder did not train"
    assert m["config"]["magvit_decoder_only"] and m["config"]["magvit_detail_weight"] == 4
    assert "its decoder only" in m["note"], m["note"]


def test_refit_options_refuse_bad_mixes(tmp_path):
    for extra, says in ((["--refit-decoder", "1", "--continue-showo", "1"], "give one"),
                        (["--detail-weight", "4"], "goes with --refit-magvit or --refit-decoder"),
                        (["--refit-decoder", "1", "--showo-detail-weight", "4"], "which --refit-decoder keeps"),
                        (["--continue-showo", "1", "--showo-from-earlier"], "goes with --refit-magvit")):
        r = subprocess.run([sys.executable, "scripts/repretrain_toy.py", "--out", str(tmp_path / "x"), "--device", "cpu", "--smoke", *extra],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and says in r.stderr, (extra, r.stderr[-500:])


def test_split_refit_reports_codes_unchanged(tmp_path):
    "A tokenizer refit stopped before Show-o says what share of the held-out codes it kept, so going on from the earlier Show-o is a choice made first."
    out = tmp_path / "r"
    r = subprocess.run([sys.executable, "scripts/repretrain_toy.py", "--out", str(out), "--device", "cpu", "--smoke",
                        "--refit-magvit", "1", "--showo-from-earlier", "--stop-after", "magvit"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    cu = json.loads((out / "parts" / "codes_unchanged.json").read_text())
    assert 0 <= cu["share"] <= 1 and cu["pictures"] > 0 and f"codes unchanged: {cu['share']:.4f}" in r.stdout, (cu, r.stdout[-500:])
    assert not (out / "parts" / "showo.json").exists() and not (out / "manifest.json").exists()  # stopped where asked

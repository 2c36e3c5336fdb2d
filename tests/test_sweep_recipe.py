"scripts/sweep_recipe.py's backbone choice: it names what it needs, and its answer is tied to both backbones by their manifests."
import io, json, subprocess, sys, tarfile
from pathlib import Path
from unictokens.backbones import TOY_ASSETS, weights_id

ROOT = Path(__file__).resolve().parents[1]


def choice(*args, timeout=300):
    return subprocess.run([sys.executable, "scripts/sweep_recipe.py", "choice", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_backbone_choice_names_what_it_needs(tmp_path):
    r = choice("backbone", "--out", tmp_path / "a", "--pack", tmp_path / "a.tgz")
    assert r.returncode != 0 and "choice backbone needs --candidate FOLDER" in r.stderr, r.stderr[-300:]
    r = choice("kept", "--candidate", TOY_ASSETS, "--out", tmp_path / "b", "--pack", tmp_path / "b.tgz")
    assert r.returncode != 0 and "--candidate is for the backbone choice, not kept" in r.stderr, r.stderr[-300:]
    r = choice("backbone", "--candidate", tmp_path, "--out", tmp_path / "c", "--pack", tmp_path / "c.tgz")
    assert r.returncode != 0 and f"{tmp_path / 'manifest.json'}: no manifest" in r.stderr, r.stderr[-300:]
    r = choice("backbone", "--candidate", TOY_ASSETS, "--world-seed", "0", "--out", tmp_path / "d", "--pack", tmp_path / "d.tgz")
    assert r.returncode != 0 and "--world-seed 0 is the world whose test files UnifyBench reports" in r.stderr, r.stderr[-300:]


def test_backbone_choice_records_both_manifests(tmp_path):
    "Cut short by its deadline (a CPU), the archive still says which two backbones it compared."
    r = choice("backbone", "--candidate", TOY_ASSETS, "--out", tmp_path / "bb", "--pack", tmp_path / "bb.tgz", "--per-category", "1",
               "--seeds", "0", "--device", "cpu", "--processes", "1", "--deadline", "3")
    assert r.returncode == 0, r.stderr[-500:]
    with tarfile.open(tmp_path / "bb.tgz") as tar: info = json.loads(tar.extractfile("choice.json").read())
    assert (info["sweep"], info["settings"], info["world_seed"]) == ("backbone", ["none", "candidate"], 1)
    assert info["shipped_weights_id"] == info["candidate_weights_id"] == weights_id()
    info["candidate_weights_id"] = "0" * 64  # an archive made with another candidate
    blob = json.dumps(info).encode(); ti = tarfile.TarInfo("choice.json"); ti.size = len(blob)
    with tarfile.open(tmp_path / "other.tgz", "w:gz") as tar: tar.addfile(ti, io.BytesIO(blob))
    r = choice("backbone", "--candidate", TOY_ASSETS, "--out", tmp_path / "bb", "--pack", tmp_path / "bb2.tgz", "--per-category", "1",
               "--seeds", "0", "--device", "cpu", "--resume", tmp_path / "other.tgz")
    assert r.returncode != 0 and "field candidate_weights_id differs" in r.stderr, r.stderr[-500:]

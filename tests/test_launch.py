"Two concepts, two CPU processes, through the real launchers (accelerate launch and torchrun, gloo): every concept done once, one report equal to the one-process report."
import json, os, re, shutil, subprocess, sys
from pathlib import Path

import pytest
import torch

from unictokens import toyworld as tw
from unictokens.cli import main

CONCEPTS = ["yas", "bo"]


def launched(*args, cwd, launcher="accelerate") -> subprocess.CompletedProcess:
    "`unictokens ARGS` in two processes under `accelerate launch` or `torchrun` (CPU: gloo)."
    if not shutil.which(launcher): pytest.skip(f"the {launcher} launcher is not on PATH")
    cmd = (["accelerate", "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
            "--dynamo_backend", "no"] if launcher == "accelerate" else ["torchrun", "--nproc_per_node", "2", "--master_port", "29533"])
    cmd += ["-m", "unictokens.cli", *map(str, args)]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)


def test_two_processes_split_the_concepts_and_gather_one_report(tmp_path):
    world = tw.make_world(tmp_path / "world", seed=0)
    runs = tmp_path / "runs"
    r = launched("train", "--concepts", ",".join(CONCEPTS), "--data-root", world, "--out", runs, "--epochs", "1", "--device", "cpu",
                 cwd=tmp_path)
    log = r.stdout
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    for c in CONCEPTS:  # each concept trained by exactly one process, exactly once
        assert len(re.findall(rf"<{c}> stage 3: [\d.]+ s, concept file", log)) == 1, log[-3000:]
        assert (runs / c / "ours" / "system.json").is_file()
    assert "trained 2 of 2 concept(s) in 2 process(es)" in log

    common = ["--concepts", "all", "--runs", runs, "--data-root", world, "--n-images", "1", "--steps", "2", "--device", "cpu"]
    r = launched("eval", *common, "--out", tmp_path / "eval2", cwd=tmp_path)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    threads = torch.get_num_threads(); torch.set_num_threads(1)  # as each launched process (OMP_NUM_THREADS=1): the same sums
    try: assert main(["eval", *map(str, common), "--out", str(tmp_path / "eval1")]) == 0  # one process, no launcher
    finally: torch.set_num_threads(threads)
    r = launched("eval", *common, "--out", tmp_path / "eval2t", cwd=tmp_path, launcher="torchrun")  # plain torchrun: the same
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    one = json.loads((tmp_path / "eval1" / "scores.json").read_text())
    for folder in ("eval2", "eval2t"):
        two = json.loads((tmp_path / folder / "scores.json").read_text())
        assert sorted(two) == sorted(one) == ["no_concept", "ours", "random_rows", "text_description"]
        for s in one:
            for m, v in one[s].items():
                assert (v is None) == (two[s][m] is None) and (v is None or abs(v - two[s][m]) < 1e-5), (folder, s, m, v, two[s][m])
        assert json.loads((tmp_path / folder / "raw.json").read_text())["meta"]["processes"] == 2, folder


def test_a_failing_concept_is_reported_and_the_others_go_on(tmp_path, capsys):
    world = tw.make_world(tmp_path / "world", seed=0)
    (world / "concept/train/bo/info.json").write_text("{broken")
    code = main(["train", "--concepts", "yas,bo", "--data-root", str(world), "--out", str(tmp_path / "runs"), "--epochs", "1",
                 "--device", "cpu"])
    out = capsys.readouterr()
    assert code == 1 and "<bo> failed: DataError" in out.out and "1 concept(s) failed (<bo>" in out.err, out
    assert (tmp_path / "runs/yas/ours/system.json").is_file() and not (tmp_path / "runs/bo/ours/system.json").exists()

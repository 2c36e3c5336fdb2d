"Fault injection: each failure a hostile but realistic user can cause ends as a clear message, the right exit status, and nothing lost."
import hashlib, json, os, shutil, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
from PIL import Image

from unictokens import cli
from unictokens import toyworld as tw
from unictokens.cli import main

CONCEPT = "yas"


def tree_hashes(folder: Path) -> dict:
    "{relative path: sha256} of every file under `folder` (to prove nothing was changed)."
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def run_cli(capsys, *argv) -> tuple:
    "(exit status, stdout, stderr) of `unictokens ARGV`, in this process."
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return tw.make_world(tmp_path_factory.mktemp("faults") / "world", seed=0)


@pytest.fixture(scope="module")
def trained(world, tmp_path_factory):
    "One concept trained for one epoch per stage (the run the rerun cases start from)."
    out = tmp_path_factory.mktemp("runs") / CONCEPT
    assert main(["train", "--concept", CONCEPT, "--data-root", str(world), "--out", str(out), "--epochs", "1", "--device", "cpu"]) == 0
    return out


# ---- runs that refuse to lie ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change,named", [(["--seed", "1"], "seed: 0 -> 1"), (["--epochs", "2"], "stage 1 epochs: 1 -> 2"),
                                          (["--preset", "paper", "--epochs", "20"], "preset: 'tiny' -> 'paper'")])
def test_rerun_with_other_settings_is_refused_and_changes_nothing(trained, world, capsys, change, named):
    before = tree_hashes(trained)
    args = {"--seed": "0", "--epochs": "1", "--preset": "tiny", **dict(zip(change[::2], change[1::2]))}
    code, _, err = run_cli(capsys, "train", "--concept", CONCEPT, "--data-root", world, "--out", trained, "--device", "cpu",
                           *[x for kv in args.items() for x in kv])
    assert code == 1 and named in err and "--out NEW_FOLDER" in err and "--overwrite" in err, err
    assert err.count("\n") <= 3  # a message, not a traceback
    assert tree_hashes(trained) == before


def test_rerun_with_the_same_settings_resumes(trained, world, capsys):
    before = tree_hashes(trained)
    code, out, _ = run_cli(capsys, "train", "--concept", CONCEPT, "--data-root", world, "--out", trained, "--epochs", "1", "--device", "cpu")
    assert code == 0 and out.strip().endswith("stage3")
    assert {k: v for k, v in tree_hashes(trained).items() if k.endswith(".safetensors")} == \
           {k: v for k, v in before.items() if k.endswith(".safetensors")}


def test_overwrite_replaces_the_run(trained, world, tmp_path, capsys):
    run = tmp_path / "copy"; shutil.copytree(trained, run)
    code, _, _ = run_cli(capsys, "train", "--concept", CONCEPT, "--data-root", world, "--out", run, "--epochs", "1",
                         "--seed", "1", "--device", "cpu", "--overwrite")
    assert code == 0 and json.loads((run / "config.json").read_text())["seed"] == 1


@pytest.mark.parametrize("epochs", ["0", "-1", "two"])
def test_bad_epochs_are_a_usage_error_and_write_nothing(world, tmp_path, capsys, epochs):
    code, _, err = run_cli(capsys, "train", "--concept", CONCEPT, "--data-root", world, "--out", tmp_path / "run", "--epochs", epochs)
    assert code == 2 and "--epochs" in err
    assert not (tmp_path / "run").exists()


def test_huge_seed_is_a_usage_error(world, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--concept", CONCEPT, "--data-root", world, "--out", tmp_path / "run", "--seed", str(2 ** 70))
    assert code == 2 and "between 0 and 2**63 - 1" in err


# ---- arguments checked before any work ----------------------------------------------------------------------------------

def test_broken_data_trains_nothing_and_writes_nothing(world, tmp_path, capsys):
    data = tmp_path / "world"; shutil.copytree(world, data)
    (data / "concept/train" / CONCEPT / "info.json").write_text('{"class": 3}')
    code, _, err = run_cli(capsys, "train", "--concept", CONCEPT, "--data-root", data, "--out", tmp_path / "run", "--device", "cpu")
    assert code == 1 and "info.json: class: expected a non-empty string" in err, err
    assert not (tmp_path / "run").exists()  # nothing written


@pytest.mark.parametrize("case", ["unknown concept", "missing data root", "cuda without a GPU", "out is a file", "out unwritable"])
def test_expected_failures_are_one_message_with_status_1(world, tmp_path, capsys, case):
    (tmp_path / "afile").write_text("x")
    args = {"unknown concept": ["--concept", "nobody", "--data-root", world, "--out", tmp_path / "r"],
            "missing data root": ["--concept", CONCEPT, "--data-root", tmp_path / "nowhere", "--out", tmp_path / "r"],
            "cuda without a GPU": ["--concept", CONCEPT, "--data-root", world, "--out", tmp_path / "r", "--device", "cuda"],
            "out is a file": ["--concept", CONCEPT, "--data-root", world, "--out", tmp_path / "afile"],
            "out unwritable": ["--concept", CONCEPT, "--data-root", world, "--out", "/proc/unictokens-run"]}[case]
    if case == "cuda without a GPU" and torch.cuda.is_available(): pytest.skip("this machine has a GPU")
    code, _, err = run_cli(capsys, "train", *args)
    want = {"unknown concept": "has no such concept", "missing data root": "dataset root: expected a folder",
            "cuda without a GPU": "no CUDA GPU", "out is a file": "a file is in the way", "out unwritable": "cannot write there"}[case]
    assert code == 1 and want in err and "Traceback" not in err, err


def test_debug_shows_the_traceback(world, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--concept", "nobody", "--data-root", world, "--out", tmp_path / "r", "--debug")
    assert code == 1 and "Traceback" in err


def test_ctrl_c_says_what_was_kept(monkeypatch, capsys):
    def interrupted(a): raise KeyboardInterrupt
    monkeypatch.setattr(cli, "cmd_toyworld", interrupted)
    code, _, err = run_cli(capsys, "toyworld", "make", "/tmp/unused")
    assert code == 130 and "kept on disk" in err and "same command again to resume" in err


# ---- prompts: never cut, never empty, unknown words named; run folders accepted ------------------------------------------

def test_prompts(trained, tmp_path, capsys):
    long = "A photo of <yas> " + "on the grass " * 12 + "."
    code, _, err = run_cli(capsys, "generate", long, "--concept", trained, "--n", "1", "--steps", "2", "--out", tmp_path / "g", "--device", "cpu")
    assert code == 1 and "tokens long; the text block holds 38" in err, err
    code, _, err = run_cli(capsys, "generate", "  ", "--concept", trained, "--out", tmp_path / "g")
    assert code == 1 and "the prompt is empty" in err
    code, _, err = run_cli(capsys, "generate", "A photo of <yas> on the moon.", "--concept", trained, "--n", "1", "--steps", "2",
                           "--out", tmp_path / "g", "--device", "cpu")
    assert code == 1 and "'moon'" in err, err
    code, _, err = run_cli(capsys, "ask", "Is <yas> in this photo?", "--concept", tmp_path, "--device", "cpu")
    assert code == 1 and "neither a concept folder (concept.json) nor a training run" in err


def test_generate_and_ask_take_a_run_folder(trained, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "generate", "A photo of <yas>.", "--concept", trained, "--n", "1", "--steps", "2",
                           "--out", tmp_path / "g", "--device", "cpu")
    assert code == 0 and (tmp_path / "g" / "sample_0.png").is_file()
    code, out, _ = run_cli(capsys, "ask", "What colour is <yas>?", "--concept", trained, "--device", "cpu")
    assert code == 0 and out.strip()


# ---- validate: one pass, every fault ----------------------------------------------------------------------------------

def test_validate_names_every_fault_at_once(world, tmp_path, capsys):
    data, far = tmp_path / "world", tmp_path / "elsewhere"; shutil.copytree(world, data); far.mkdir()
    lst = json.loads((data / "concepts_list.json").read_text()); lst["animal"].append("../x")
    (data / "concepts_list.json").write_text(json.dumps(lst))
    names = [n for ns in lst.values() for n in ns if n != "../x"]
    a, b, c, d = names[:4]
    shutil.move(data / "concept/test" / a, far / a); (data / "concept/test" / a).symlink_to(far / a)  # a folder linked out
    Image.new("RGB", (64, 64)).save(far / "x.png")
    img = data / "concept/train" / b / "0.png"; img.unlink(); img.symlink_to(far / "x.png")  # an image linked out
    Image.new("RGB", (1, 1)).save(data / "concept/train" / c / "1.png")  # too small
    (data / "concept/train" / d / "info.json").write_text("{broken")  # unreadable
    (data / "concept/test" / d / "t2i_conditions.json").write_text('["no concept here"]')
    code, out, _ = run_cli(capsys, "validate", data)
    assert code == 1
    for want in ["concept name: expected letters", f"concept/test/{a}: link", f"train/{b}/0.png: link", f"train/{c}/1.png: image size",
                 f"train/{d}/info.json: file: expected valid JSON", f"test/{d}/t2i_conditions.json: [0]"]:
        assert want in out, (want, out)
    assert "6 problem(s)" in out or "7 problem(s)" in out, out


# ---- the API judge: deadlines, retries, cache ----------------------------------------------------------------------------

class Hanging(BaseHTTPRequestHandler):
    "Replies 'garbage' at once, or hangs for 3 s when the answer says hang."
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = json.dumps(body["messages"])
        if "hang" in text: threading.Event().wait(3)
        reply = {"choices": [{"message": {"content": "garbage" if "garbage" in text else "1"}}]}
        data = json.dumps(reply).encode()
        try:
            self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(data)))
            self.end_headers(); self.wfile.write(data)
        except OSError: pass
    def log_message(self, *a): pass


@pytest.fixture
def endpoint():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hanging); threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}/v1"
    srv.shutdown()


def test_judge_deadline_bounds_a_hanging_judge(endpoint, tmp_path, monkeypatch):
    from unictokens.judges import APIJudge
    monkeypatch.setenv("K", "k")
    j = APIJudge(endpoint, "m", api_key_env="K", timeout=60, retries=2, cache_dir=tmp_path, deadline=1)
    import time
    t0 = time.time()
    assert [j.score_answer(f"q{i}", "hang", "g") for i in range(5)] == [None] * 5
    assert time.time() - t0 < 4 and j.n_requests == 1
    assert "deadline of 1 s has passed" in j.failures[-1]["reason"]


def test_judge_caches_only_scores_and_keys_by_endpoint(endpoint, tmp_path, monkeypatch):
    from unictokens.judges import APIJudge
    monkeypatch.setenv("K", "k")
    j = APIJudge(endpoint, "m", api_key_env="K", cache_dir=tmp_path)
    assert j.score_answer("q", "garbage", "g") is None and j.score_answer("q", "garbage", "g") is None
    assert j.n_requests == 2 and not list(tmp_path.glob("*.json"))  # garbage is never cached
    assert j.score_answer("q", "fine", "g") == 1.0 and len(list(tmp_path.glob("*.json"))) == 1
    other = APIJudge(endpoint.replace("127.0.0.1", "localhost"), "m", api_key_env="K", cache_dir=tmp_path)
    assert other.score_answer("q", "fine", "g") == 1.0 and other.n_requests == 1  # another endpoint: asked, not reused


def test_refused_connection_is_not_retried(tmp_path, monkeypatch):
    from unictokens.judges import APIJudge
    monkeypatch.setenv("K", "k")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hanging); port = srv.server_port; srv.server_close()
    j = APIJudge(f"http://127.0.0.1:{port}/v1", "m", api_key_env="K", retries=3, backoff=5, cache_dir=tmp_path)
    import time
    t0 = time.time()
    assert j.score_answer("q", "a", "g") is None and j.n_requests == 1 and time.time() - t0 < 2


def test_missing_judge_key_stops_eval_before_anything_loads(trained, world, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("UNICTOKENS_JUDGE_KEY", raising=False)
    monkeypatch.setattr(cli, "_backbone", lambda *a, **k: pytest.fail("the backbone was loaded"))
    code, _, err = run_cli(capsys, "eval", "--concept-file", trained, "--data-root", world, "--out", tmp_path / "e", "--judge", "api",
                           "--api-base-url", "http://127.0.0.1:9/v1", "--api-model", "m")
    assert code == 1 and "UNICTOKENS_JUDGE_KEY" in err


# ---- eval: results keyed by what made them, kept as they finish -----------------------------------------------------------

def test_eval_keeps_finished_systems_and_refuses_other_concept_files(trained, world, tmp_path, capsys, monkeypatch):
    from unictokens import bench
    out = tmp_path / "eval"
    args = ["eval", "--concept-file", trained, "--data-root", world, "--out", out, "--n-images", "1", "--steps", "2", "--device", "cpu"]
    real, calls = bench.evaluate_system, []
    def dies_on_the_second(*a, **k):
        calls.append(a[4].name)
        if len(calls) == 2: raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(bench, "evaluate_system", dies_on_the_second)
    code, _, err = run_cli(capsys, *args)
    assert code == 130 and "resume" in err
    partial = json.loads((out / "concepts/seed_0" / CONCEPT / "partial.json").read_text())
    assert list(partial["systems"]) == ["ours"]
    monkeypatch.setattr(bench, "evaluate_system", real)
    code, out_text, _ = run_cli(capsys, *args)
    assert code == 0 and "ours: reusing partial.json" in out_text
    other = tmp_path / "other"; shutil.copytree(trained / "stage2", other)
    code, _, err = run_cli(capsys, "eval", "--concept-file", other, "--concept", CONCEPT, "--data-root", world, "--out", out,
                           "--n-images", "1", "--steps", "2", "--device", "cpu", "--no-baselines")
    assert code == 1 and "made with other und, gen" in err and "--overwrite" in err, err


def test_disk_full_is_a_message_and_keeps_what_was_written(world, tmp_path, capsys, monkeypatch):
    import errno
    from unictokens import stages
    real, n = stages.write_json, []
    def fills_up(obj, path, *a, **k):
        n.append(path)
        if Path(path).name == "history.json": raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(obj, path, *a, **k)
    monkeypatch.setattr(stages, "write_json", fills_up)
    code, _, err = run_cli(capsys, "train", "--concept", CONCEPT, "--data-root", world, "--out", tmp_path / "run", "--epochs", "1", "--device", "cpu")
    assert code == 1 and "the disk is full (writing" in err and "run the same command again" in err, err
    assert (tmp_path / "run" / "stage1" / "concept.json").is_file()  # the finished stage is kept


def test_validate_checks_concept_folders_when_the_list_is_unreadable(world, tmp_path, capsys):
    data = tmp_path / "world"; shutil.copytree(world, data)
    (data / "concepts_list.json").write_text("{oops")
    (data / "concept/train" / CONCEPT / "info.json").write_text("[]")
    code, out, _ = run_cli(capsys, "validate", data)
    assert code == 1 and "concepts_list.json: file: expected valid JSON" in out and f"{CONCEPT}/info.json: top level" in out, out


def test_demo_rerun_with_other_epochs_is_refused_not_reported_as_success(tmp_path, capsys):
    args = ["demo", "--out", tmp_path / "demo", "--ablations", "none", "--no-baselines", "--n-images", "1", "--steps", "2",
            "--device", "cpu", "--epochs", "1"]
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    code, _, err = run_cli(capsys, *args[:-1], "2")
    assert code == 1 and "stage 1 epochs: 1 -> 2" in err and "--overwrite" in err, err


def test_paper_preset_with_too_few_epochs_is_refused_before_anything_is_written(world, capsys, tmp_path):
    "The paper preset starts stage 2 from stage 1's epoch 15: with 3 epochs that checkpoint can never exist."
    code, _, err = run_cli(capsys, "train", "--concept", CONCEPT, "--data-root", world, "--out", tmp_path / "r", "--device", "cpu",
                           "--preset", "paper", "--epochs", "3")
    assert code == 1 and "epoch-15 checkpoint" in err and err.count("\n") <= 3, err
    assert not any((tmp_path / "r").rglob("*"))  # nothing written (the CLI checks --out is writable first)

"The command line end to end on a tiny backbone folder: pretrain-toy --smoke, train, generate, ask."
import subprocess, sys
from pathlib import Path

import pytest

from unictokens.cli import run


@pytest.fixture(scope="module")
def backbone_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bb") / "toy"
    run(["pretrain-toy", str(d), "--device", "cpu", "--smoke"])
    return d


def test_train_generate_ask(backbone_dir, tmp_path, capsys):
    out = tmp_path / "run"
    final = run(["train", "--concept", "bo", "--backbone", str(backbone_dir), "--stages", "1", "--out", str(out)])
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(final) == str(out / "stage1")
    assert {"stage1", "history.json", "config.json", "checkpoints"} <= {p.name for p in out.iterdir()}
    paths = run(["generate", "A photo of <bo> on the beach.", "--concept", str(final), "--backbone", str(backbone_dir),
                 "--n", "2", "--steps", "2", "--out", str(tmp_path / "gen")])
    assert [p.name for p in paths] == ["sample_0.png", "sample_1.png", "sample_grid.png"]
    assert isinstance(run(["ask", "What colour is <bo>?", "--concept", str(final), "--backbone", str(backbone_dir)]), str)


def test_stage_before_its_predecessor_is_refused(backbone_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="run stage 1 first"):
        run(["train", "--concept", "bo", "--backbone", str(backbone_dir), "--stages", "2", "--out", str(tmp_path / "r")])


def test_console_script_exits_nonzero_on_bad_data(tmp_path):
    r = subprocess.run([sys.executable, "-c", "import sys; from unictokens.cli import main; sys.exit(main())", "validate", str(tmp_path / "nothing")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "nothing there" in r.stdout


def test_frozen_head_reaches_the_run_record(backbone_dir, tmp_path):
    import json
    for choice, recorded in (("none", []), ("identifier", ["identifier"])):
        out = tmp_path / choice
        run(["train", "--concept", "bo", "--backbone", str(backbone_dir), "--stages", "1", "--epochs", "1", "--frozen-head", choice,
             "--out", str(out)])
        assert json.loads((out / "config.json").read_text())["stages"][0]["frozen_head"] == recorded


def test_mosaics_reach_the_run_and_the_preset_has_none(backbone_dir, tmp_path):
    import json
    for given, recorded in ((None, 0), ("4", 4)):  # None: the tiny preset's own (none: the held-out sweep kept the release's)
        out = tmp_path / str(given)
        run(["train", "--concept", "bo", "--backbone", str(backbone_dir), "--stages", "1", "--epochs", "1", "--out", str(out)]
            + ([] if given is None else ["--mosaics", given]))
        assert json.loads((out / "config.json").read_text())["stages"][0]["mosaics"] == recorded
        assert len(list((out / "mosaics" / "stage1").glob("*.png"))) == recorded
    with pytest.raises(SystemExit):
        run(["train", "--concept", "bo", "--mosaics", "-1"])


def _train_one_epoch(backbone_dir, out, *options) -> dict:
    "Stage 1 of <bo> for one epoch with `options`; the run record's stage-1 settings."
    import json
    run(["train", "--concept", "bo", "--backbone", str(backbone_dir), "--stages", "1", "--epochs", "1", "--out", str(out), *options])
    return json.loads((out / "config.json").read_text())["stages"][0]


@pytest.mark.parametrize("options, field, recorded", [
    ((), "kept", []),  # the tiny preset's own (the release's: nothing kept)
    (("--kept-rows", "shared"), "kept", ["shared"]),
    (("--lr-scale", "shared=0.1"), "lr_scale", {"shared": 0.1}),
    (("--shared-init", "info_words"), "inits", {"shared": "info_words"}),
    ((), "fixed_words", True),  # the tiny preset keeps the look-word rows (chosen on two held-out worlds)
    (("--shared-init", "codes", "--no-fixed-words"), "fixed_words", False),
    (("--shared-init", "codes", "--no-fixed-words"), "inits", None),  # the release's start, not the preset's info_words
    (("--gen-init", "fact_words"), "inits", {"shared": "info_words", "gen": "fact_words"})])
def test_recipe_options_reach_the_run_record(backbone_dir, tmp_path, options, field, recorded):
    assert _train_one_epoch(backbone_dir, tmp_path / "run", *options)[field] == recorded


@pytest.mark.parametrize("bad", [("--kept-rows", "gen"), ("--lr-scale", "shared=-1"), ("--shared-init", "words"), ("--gen-init", "words")])
def test_bad_recipe_options_are_refused(bad):
    with pytest.raises(SystemExit):
        run(["train", "--concept", "bo", *bad])


def test_shared_init_reaches_the_concept_file(backbone_dir, tmp_path):
    import json
    _train_one_epoch(backbone_dir, tmp_path / "words", "--shared-init", "info_words")
    made = json.loads((tmp_path / "words" / "stage1" / "concept.json").read_text())
    assert "look word rows" in made["initialisers"]["shared"] and made["look_rows"]["shared"] > 0  # what --fixed-words keeps


@pytest.mark.parametrize("options, message", [
    (("--shared-init", "codes"), "add --no-fixed-words"),  # the tiny preset keeps word rows that codes would not start
    (("--shared-init", "codes", "--fixed-words"), "add --shared-init info_words"),
    (("--preset", "paper", "--fixed-words"), "add --shared-init info_words")])
def test_fixed_words_without_the_words_is_refused(backbone_dir, tmp_path, options, message):
    from unictokens.cli import CLIError
    with pytest.raises(CLIError, match=message):
        run(["train", "--concept", "bo", "--backbone", str(backbone_dir), *options, "--out", str(tmp_path / "r")])
    assert not (tmp_path / "r").exists()  # refused before anything was written

"Robustness of the dataset reader: every malformed input is handled or refused with a message naming the file."
import json
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from unictokens.cli import run
from unictokens.data import (DataError, MAX_PIXELS, MMUCollator, T2ICollator, T2IDataset, MMUDataset, CodeCache,
                             UniCTokensData, load_image, make_example_dataset, safe_join)


@pytest.fixture
def root(tmp_path):
    return make_example_dataset(tmp_path / "ds")


def problems_of(root, concept=None):
    return [str(p) for p in UniCTokensData(root).validate(concept)]


def test_fixture_roundtrip(root):
    data = UniCTokensData(root)
    assert data.validate() == []
    s = data.derive_training_data("bo", 2)
    n_train, n_random, n_hard = 4, 4, 2
    answers = [it["conversations"][1]["value"] for it in s.mmu]
    assert answers.count("Yes.") == n_train and answers.count("No.") == n_random + n_hard
    assert all(it["conversations"][0]["value"].startswith("<image>\n") for it in s.mmu)
    assert [Path(t["image"]).parent.name for t in s.t2i] == ["bo"] * 4 + ["cropped"] * 2
    assert all(t["prompt"] == "A photo of <bo>." for t in s.t2i)
    t = data.derive_test_data("bo")
    assert {x["type"] for x in t.items} == {"rec", "vqa", "text_only"}


@pytest.mark.parametrize("text, expected", [
    ("", "expected JSON, got an empty file"),
    ('{"class": "dog", "info": ', "expected valid JSON"),
    ('[1, 2]', "top level: expected an object"),
    ('{"class": "", "info": "x"}', "class: expected a non-empty string"),
    ('{"class": "dog", "info": "x", "extra_info": [1]}', "extra_info: expected a list of non-empty strings"),
    ('{"class": "dog", "info": "x", "extra_info": "one fact"}', None),  # a single string is accepted
])
def test_info_json_variants(root, text, expected):
    (root / "concept/train/bo/info.json").write_text(text)
    probs = problems_of(root, "bo")
    if expected is None:
        assert probs == []
    else:
        assert any("concept/train/bo/info.json" in p and expected in p for p in probs), probs


def test_missing_files_are_named(root):
    (root / "concept/train/bo/conversations.json").unlink()
    (root / "concept/test/bo/vqa.json").write_text("{}")  # valid, empty
    (root / "black_512x512.png").unlink()
    probs = problems_of(root)
    assert any("conversations.json: file: expected a JSON file, got nothing (missing)" in p for p in probs)
    assert any("black_512x512.png" in p for p in probs)
    assert len(probs) == 2


def test_qa_files_with_wrong_shapes(root):
    (root / "concept/train/bo/conversations.json").write_text(json.dumps({"9.png": [{"query": "q", "answer": "a"}], "0.png": [{"q": 1}]}))
    (root / "concept/test/bo/text_only.json").write_text(json.dumps({"query": "q"}))
    probs = problems_of(root, "bo")
    assert any("key '9.png': expected the name of an image" in p for p in probs)
    assert any("['0.png'][0]" in p for p in probs)
    assert any("text_only.json" in p for p in probs)


def test_zero_images_for_a_concept(root):
    for p in (root / "concept/train/bo").glob("*.png"): p.unlink()
    (root / "concept/train/train_images.json").write_text(json.dumps({"mam": ["0.png"]}))
    assert any("training images: expected at least one image, got none" in p for p in problems_of(root, "bo"))


def test_listed_training_image_that_does_not_exist(root):
    (root / "concept/train/train_images.json").write_text(json.dumps({"bo": ["0.png", "77.png"]}))
    assert any("77.png (missing)" in p for p in problems_of(root, "bo"))


@pytest.mark.parametrize("mode, ext", [("L", "png"), ("LA", "png"), ("P", "png"), ("RGBA", "png"), ("CMYK", "jpg"),
                                       ("I;16", "png"), ("1", "png"), ("RGB", "webp"), ("RGB", "bmp")])
def test_image_modes_become_rgb(tmp_path, mode, ext):
    f = tmp_path / f"x.{ext}"
    Image.new(mode, (20, 12)).save(f)
    im = load_image(f)
    assert im.mode == "RGB" and im.size == (20, 12)


def test_truncated_and_huge_images_are_refused(tmp_path):
    Image.new("RGB", (64, 64), (9, 9, 9)).save(tmp_path / "ok.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "ok.png").read_bytes()[:60])
    with pytest.raises(DataError, match="cut.png: image: expected a readable image"):
        load_image(tmp_path / "cut.png")
    side = int(MAX_PIXELS ** 0.5) + 10
    Image.new("1", (side, side)).save(tmp_path / "huge.png")  # a 1-bit image is small on disk
    with pytest.raises(DataError, match=r"huge.png: image: expected at most 40,000,000 pixels"):
        load_image(tmp_path / "huge.png")
    with pytest.raises(DataError, match="missing"):
        load_image(tmp_path / "nope.png")


@pytest.mark.parametrize("name, ok", [("my dog", False), ("../etc", False), ("a/b", False), ("..", False),
                                      ("", False), ("фёдор", True), ("dog-2_x", True)])
def test_concept_names(tmp_path, name, ok):
    concepts = {name: ("dog", (200, 100, 0), "circle", "animal")} if ok else {"bo": ("dog", (200, 100, 0), "circle", "animal")}
    root = make_example_dataset(tmp_path / "ds", concepts=concepts)
    if not ok:
        (root / "concepts_list.json").write_text(json.dumps([name]))
    probs = problems_of(root)
    if ok:
        assert probs == []
        assert UniCTokensData(root).info(name).name == name
    else:
        assert probs and all("concepts_list.json" in p for p in probs), probs
        with pytest.raises(DataError):
            UniCTokensData(root).concept_dir(name)


def test_no_path_escapes_the_root(root):
    with pytest.raises(DataError, match="inside the dataset"):
        safe_join(root, "concept", "..", "..")
    outside = root.parent / "outside"; outside.mkdir()
    (root / "concept/train/evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DataError):
        safe_join(root, "concept", "train", "evil")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
                           lambda ch: st.lists(ch, max_size=3) | st.dictionaries(st.text(max_size=6), ch, max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values, which=st.sampled_from(["concept/train/bo/info.json", "concept/train/bo/conversations.json",
                                                "concept/test/bo/vqa.json", "concept/test/bo/t2i_conditions.json",
                                                "concept/train/bo/negative_example/score.json", "concepts_list.json",
                                                "concept/train/train_images.json"]))
def test_any_json_is_handled_or_refused_with_the_file_named(root, value, which):
    f = root / which
    old = f.read_text()
    try:
        f.write_text(json.dumps(value))
        for p in UniCTokensData(root).validate():  # never an unhandled exception
            assert str(p).startswith(str(root)) or str(p).startswith("--concept"), p
    finally:
        f.write_text(old)


def test_cli_validate_reports_all_and_exits_1(root, capsys):
    (root / "concept/train/bo/info.json").write_text("{")
    (root / "concept/test/mam/1.png").write_bytes(b"garbage")
    with pytest.raises(SystemExit) as e:
        run(["validate", str(root)])
    assert e.value.code == 1
    out = capsys.readouterr().out
    assert "info.json" in out and "1.png" in out and "2 problem(s)" in out


def test_batches_are_correctly_masked_and_deterministic(root, tok):
    from unictokens.magvit import MAGVITv2, MAGVITv2Config
    from unictokens.prompting import Prompter, word_tokenizer
    from unictokens.vocab import VocabLayout
    torch.manual_seed(0)
    vq = MAGVITv2(MAGVITv2Config.tiny()).eval()
    data = UniCTokensData(root)
    items = [{**x, "prompt": "a photo of the cat"} for x in data.derive_training_data("bo", 2).t2i]
    ds = T2IDataset(items, 64, random_crop=True, flip=True, seed=1)
    pr = Prompter(tok, VocabLayout(len(tok), vq.codebook_size, 0), max_text_len=12)
    cache = CodeCache(vq)
    a = T2ICollator(pr, cache, generator=torch.Generator().manual_seed(0))([ds[i] for i in range(3)])
    b = T2ICollator(pr, cache, generator=torch.Generator().manual_seed(0))([ds[i] for i in range(3)])
    assert all(torch.equal(a[k], b[k]) for k in a)  # same seed, same batch
    img = slice(14, 14 + 64)
    masked = a["input_ids"][:, img] == pr.layout.mask_id
    assert masked.any(1).all()
    assert (a["labels"][:, img][~masked] == -100).all() and (a["labels"][:, img][masked] >= pr.layout.image_offset).all()
    mmu = MMUDataset([{"image": str(p), "conversations": [{"from": "human", "value": "<image>\nwhat colour is it ?"},
                                                          {"from": "gpt", "value": "red"}]} for p in data.train_images("bo")[:2]], 64)
    m = MMUCollator(pr, cache)([mmu[0], mmu[1]])
    sup = m["labels"] != -100
    assert [pr.tokenizer.decode(m["input_ids"][i][sup[i]]) for i in range(2)] == ["red <|endoftext|>"] * 2

"The toy world: determinism, validity, coverage, hard negatives, and facts that pictures never show."
import hashlib, json
from pathlib import Path

import pytest

from unictokens.data import UniCTokensData
from unictokens.toyworld import (ACCESSORIES, ATTRIBUTES, COLOURS, VISIBLE, Scene, ground_truth, make_concepts,
                                 make_world, pretraining_stream, scene_labels, toy_tokenizer)
from unictokens.prompting import encode_text


def digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("w") / "world", seed=0)


def test_same_seed_same_bytes_other_seed_other_world(world, tmp_path):
    again = make_world(tmp_path / "again", seed=0)
    assert digest(again) == digest(world)
    other = make_world(tmp_path / "other", seed=1)
    assert UniCTokensData(other).validate() == []
    assert json.loads((other / "toyworld.json").read_text()) != json.loads((world / "toyworld.json").read_text())


def test_validation_passes_and_counts(world):
    data = UniCTokensData(world)
    assert data.validate() == []
    cats = data.concept_categories()
    assert len(cats) == 20 and sorted(cats.values()).count("person") == 10
    for c in cats:
        assert 10 <= len(data.train_images(c)) <= 15 and len(data.test_images(c)) == 5


def all_scenes(world):
    return [Scene(**s) for gt in world.rglob("ground_truth.json") for s in json.loads(gt.read_text()).values()]


def test_every_attribute_value_occurs(world):
    seen = {k: set() for k in ATTRIBUTES}
    for s in all_scenes(world):
        for k, v in scene_labels(s).items(): seen[k].add(v)
    stream = pretraining_stream(0)
    for _ in range(3000):
        s = next(stream).get("scene")
        if s:
            for k, v in scene_labels(s).items(): seen[k].add(v)
    for k, values in ATTRIBUTES.items():
        assert seen[k] == set(values), (k, set(values) - seen[k])


def test_every_accessory_in_every_colour_in_pretraining():
    stream, pairs = pretraining_stream(0), set()
    for _ in range(6000):
        s = next(stream)
        if s["kind"] == "t2i" and s["scene"].accessory != "none": pairs.add((s["scene"].accessory, s["scene"].accessory_colour))
    assert pairs == {(a, c) for a in ACCESSORIES[1:] for c in COLOURS}


def test_hard_negatives_differ_in_a_visible_attribute(world):
    data = UniCTokensData(world)
    for c in make_concepts(0):
        negs = data.negatives(c.name)
        assert negs
        for path, score in negs:
            s = ground_truth(path)
            assert s.cls == c.cls and (s.colour, s.pattern, s.mark) != (c.colour, c.pattern, c.mark)
            assert score == sum(getattr(s, k) == v for k, v in zip(VISIBLE, c.visible())) / 4


def test_extra_info_never_appears_in_training_pictures(world):
    data = UniCTokensData(world)
    for c in make_concepts(0):
        for path in data.train_images(c.name) + data.cropped_images(c.name):
            s = ground_truth(path)
            assert s.accessory == "none" and (s.cls, s.colour, s.pattern, s.mark) == c.visible()
        facts = " ".join(data.info(c.name).extra_info)
        assert all(f"{col} {kind}" in facts for kind, col in c.accessories)


def test_random_negatives_never_show_a_concept(world):
    visible = {c.visible() for c in make_concepts(0)}
    for s in (Scene(**v) for v in json.loads((world / "random_images" / "ground_truth.json").read_text()).values()):
        assert (s.cls, s.colour, s.pattern, s.mark) not in visible


def test_every_text_tokenizes(world):
    tok = toy_tokenizer()
    data = UniCTokensData(world)
    tok.add_tokens([f"<{c}>" for c in data.concepts()])
    for c in data.concepts():
        for it in data.derive_training_data(c, 2).mmu + data.derive_test_data(c).items:
            for turn in it["conversations"]: encode_text(tok, turn["value"].replace("<image>", ""))
    stream = pretraining_stream(5)
    for _ in range(2000):
        s = next(stream)
        for t in [s.get("caption"), s.get("text")] + [q + " " + a for q, a in s.get("conversation", [])]:
            if t: encode_text(tok, t)

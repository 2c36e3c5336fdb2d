"The toy world: determinism, validity, coverage, hard negatives, facts that pictures never show, test items that need the concept."
import hashlib, json, random, re
from pathlib import Path

import pytest

from unictokens.data import UniCTokensData, REC_QUESTIONS, list_images
from unictokens.toyworld import (ACCESSORIES, ATTRIBUTES, COLOURS, TEXT_ONLY_TEST_PHRASINGS, TRAIN_FACT_PHRASINGS, VISIBLE,
                                 Group, Scene, concept_info, describe, ground_truth, make_concepts, make_world,
                                 pretraining_stream, random_scene, render, scene_labels, subject_answer, test_phrasing_of,
                                 toy_tokenizer, visible_of)
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
    recs = [r for gt in world.rglob("ground_truth.json") for r in json.loads(gt.read_text()).values()]
    return [Scene(**s) for r in recs for s in r.get("subjects", [r])]


def test_every_attribute_value_occurs(world):
    seen = {k: set() for k in ATTRIBUTES}
    for s in all_scenes(world):
        for k, v in scene_labels(s).items(): seen[k].add(v)
    stream = pretraining_stream(0)
    for _ in range(3000):
        s = next(stream).get("scene")
        for one in ([] if s is None else getattr(s, "subjects", [s])):  # a several-subject picture counts each subject
            for k, v in scene_labels(one).items(): seen[k].add(v)
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


def test_single_scene_pixels_never_change():
    "The shipped backbone learnt these pixels: 200 random scenes hash to a literal."
    rng, h = random.Random("hash-check"), hashlib.sha256()
    for s in [random_scene(rng) for _ in range(200)]: h.update(render(s).tobytes())
    assert h.hexdigest() == "92588fad1490871f3e4ec02652e5dc2b376ad2f4f69a81dba74d3008a624081b"


def test_world_version_and_test_data_layout(world):
    assert json.loads((world / "toyworld.json").read_text())["version"] == 2
    data = UniCTokensData(world)
    for c in make_concepts(0):
        raw = json.loads((world / "test_data" / f"{c.name}.json").read_text())
        assert {x["type"] for x in raw} == {"rec", "vqa", "text_only"}
        assert all(not Path(x["image"]).is_absolute() and (world / x["image"]).is_file() for x in raw)
        rec = [x for x in raw if x["type"] == "rec"]
        assert {x["conversations"][0]["value"] for x in rec} == {"<image>\n" + REC_QUESTIONS[0].format(c=c.name)}
        for x in rec:  # the answer is "Yes." exactly when <c> is in the picture
            gt = ground_truth(world / x["image"])
            shown = c.visible() in [s.visible() for s in (gt.subjects if isinstance(gt, Group) else [gt])]
            assert x["conversations"][1]["value"] == ("Yes." if shown else "No."), x["image"]
        assert sum(x["conversations"][1]["value"] == "Yes." for x in rec) == 10 and len(rec) == 10 + 2 * 19 + 4 + 5
        assert [x["image"] for x in data.derive_test_data(c.name).items] == [str(world / x["image"]) for x in raw]


def test_grounded_vqa_answers_match_the_ground_truth(world):
    for c in make_concepts(0):
        te = world / "concept" / "test" / c.name
        for key, qas in json.loads((te / "vqa.json").read_text()).items():
            g = ground_truth(te / key)
            i = next(j for j, s in enumerate(g.subjects) if s.visible() == c.visible())
            assert 3 <= len(qas) <= 4 and all(x["answer"] == subject_answer(g, i, x["qtype"]) for x in qas)
            for x in qas:  # no question can be answered without finding <c>: some other subject answers otherwise
                assert any(subject_answer(g, j, x["qtype"]) != x["answer"] for j in range(len(g.subjects)) if j != i)


def test_visible_of_inverts_describe_on_other_seeds():
    for seed in (1, 2):
        for c in make_concepts(seed):
            assert visible_of(describe(c)) == dict(zip(VISIBLE, c.visible())) == visible_of(concept_info(c)["info"])
    with pytest.raises(ValueError, match="a red hat"): visible_of("a red hat")


def _texts(sample: dict) -> list:
    return [t for t in [sample.get("caption"), sample.get("text"), sample.get("system")] + [x for qa in sample.get("conversation", []) for x in qa] if t]


def test_text_only_test_phrasings_never_occur_in_training(tmp_path):
    "Pretraining (another seed than the notebook's) and every derived training item of a seed-1 world."
    assert not {t for ts in TRAIN_FACT_PHRASINGS.values() for t in ts} & set(TEXT_ONLY_TEST_PHRASINGS.values())
    stream = pretraining_stream(1)
    hits = [t for _ in range(5000) for t in _texts(next(stream)) if test_phrasing_of(t)]
    assert hits == []
    data = UniCTokensData(make_world(tmp_path / "w1", seed=1))
    for c in data.concepts():
        for stage in (1, 2, 3):
            sd = data.derive_training_data(c, stage)
            texts = [t["value"] for it in sd.mmu for t in it["conversations"]] + [x["prompt"] for x in sd.t2i]
            assert [t for t in texts if test_phrasing_of(t)] == [], (c, stage)
        assert {test_phrasing_of(x.question) for x in data.text_only(c)} == set(TEXT_ONLY_TEST_PHRASINGS)


def test_every_word_of_every_test_file_is_in_the_shipped_vocabulary(world):
    shipped = set(json.loads((Path(__import__("unictokens").__file__).parent / "assets/toy/vocabulary.json").read_text()))
    texts = []
    for f in list((world / "concept" / "test").rglob("*.json")) + list((world / "test_data").glob("*.json")):
        if f.name == "ground_truth.json": continue
        obj = json.loads(f.read_text())
        texts += [x for x in re.findall(r'"(?:query|answer|value)": "([^"]*)"', json.dumps(obj))]
        if f.name == "t2i_conditions.json": texts += obj
    assert len(texts) > 1000
    words = {w for t in texts for w in re.findall(r"<[^<>]+>|\w+|[^\w\s]", t.replace("\\n", " ")) if not w.startswith("<")}
    assert words - shipped == set()


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
        for t in [s.get("caption"), s.get("text"), s.get("system")] + [q + " " + a for q, a in s.get("conversation", [])]:
            if t: encode_text(tok, t)

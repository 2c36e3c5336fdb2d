"UnifyBench metrics against nltk's numbers, parsers under fuzzing, the toy judge on every toy concept, and the API judge under fault injection."
import json, random, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings, strategies as st

from unictokens import toyworld as tw
from unictokens.backbones import ToyJudge
from unictokens.judges import APIJudge, JudgeUnavailable
from unictokens.metrics import (JUDGE_SCORES, bootstrap_mean, char_bleu, knowledge_t2i_score, paired_differences, parse_judge_score,
                                parse_yes_no, recognition_scores, verdict_of)

# sentence_bleu([list(r) for r in refs], list(hyp), weights=(0.7, 0.3), smoothing_function=SmoothingFunction().method1)
# computed with nltk 3.10.4 (not a dependency of unictokens)
NLTK = [("red", ["Red."], 0.4381898289017293),
        ("abc", ["xbyc"], 0.21961514815086547),
        ("Blue.", ["A blue hat."], 0.20926693518829623),
        ("I like blue dresses", ["blue"], 0.19627685843801093),
        ("It lives in a castle.", ["In a castle."], 0.5489899159232686),
        ("red", ["Red.", "It is red."], 0.7165313105737893),
        ("a blue hat", ["A blue hat.", "Blue hat", "blue"], 0.8113244269262376),
        ("aaaa", ["aa", "aaa"], 0.7239615591167009),
        ("On the beach", ["On the beach.", "On the grass."], 0.9200444146293233),
        ("x", ["x"], 0.5011872336272724),  # one character: no bigram, so smoothing caps an exact answer at 0.1 ** 0.3
        ("ab", ["ba"], 0.5011872336272724)]


@pytest.mark.parametrize("hyp,refs,want", NLTK)
def test_char_bleu_matches_nltk(hyp, refs, want):
    assert char_bleu(hyp, refs) == pytest.approx(want, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20), st.lists(st.text(max_size=20), min_size=1, max_size=3))
def test_char_bleu_is_a_score(hyp, refs):
    s = char_bleu(hyp, refs)
    assert 0.0 <= s <= 1.0 + 1e-12
    if len(hyp) >= 2: assert char_bleu(hyp, hyp) == pytest.approx(1.0)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_parsers_never_raise(text):
    assert parse_judge_score(text) in (None, *JUDGE_SCORES)
    assert parse_yes_no(text) in (None, True, False)


def test_recognition_with_booleans():
    r = recognition_scores([True, None, False, False], [True, True, False, "No."])
    assert (r.pos_recall, r.neg_recall, r.weighted, r.n_unparsed) == (0.5, 1.0, 0.75, 1)


def test_knowledge_t2i_empty():
    k = knowledge_t2i_score({}, skip_first=True)
    assert (k.score, k.n_scored, k.n_unscored) == (None, 0, 0)


def test_toy_judge_is_strict_on_every_concept():
    "For all 20 concepts and both accessories: the concept with the right accessory 1, in the wrong colour 0.5, without it 0,"
    " and anyone else wearing the right accessory 0 (identity and knowledge both count, as the release's judge is told)."
    from unictokens.data import ConceptInfo
    rng, checked = random.Random(0), 0
    concepts = tw.make_concepts(0)
    for c in concepts:
        d = tw.concept_info(c)
        info = ConceptInfo(c.name, d["class"], d["info"], tuple(d["extra_info"]), d["conversation_type"])
        for kind, colour in c.accessories:
            other = next(x for x in tw.COLOURS if x != colour)
            stranger = next(x for x in concepts if x.visible() != c.visible())
            scenes = [c.scene(rng, (kind, colour)), c.scene(rng, (kind, other)), c.scene(rng), stranger.scene(rng, (kind, colour))]
            judge = ToyJudge(tw.RenderedJudge(scenes))
            cond = f"A photo of <{c.name}> wearing its {kind}."
            got = [judge.judge_image(tw.render(s), cond, info) for s in scenes]
            assert [v["score"] for v in got] == [1.0, 0.5, 0.0, 0.0]
            assert [v["identity"] for v in got] == [True, True, True, False]
            assert [v["fact"] for v in got] == [1.0, 0.5, 0.0, 1.0]
            checked += 1
    assert checked == 40


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefghij"), st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=1, max_size=3), min_size=1))
def test_bootstrap_interval_contains_the_mean(values):
    e = bootstrap_mean(values, n_boot=200)
    assert e.concepts == len(values) and 0 <= e.mean <= 1
    if e.low is not None: assert e.low - 1e-9 <= e.mean <= e.high + 1e-9 and 0 <= e.low and e.high <= 1


def test_verdicts_follow_the_paired_interval():
    ours = {c: [0.6 + 0.01 * i] for i, c in enumerate("abcdefghij")}
    assert verdict_of(bootstrap_mean(paired_differences(ours, {c: [v[0] - 0.05] for c, v in ours.items()}))) == "holds"
    assert verdict_of(bootstrap_mean(paired_differences(ours, {c: [v[0] + 0.05] for c, v in ours.items()}))) == "does not hold"
    noisy = {c: [v[0] + (0.1 if i % 2 else -0.1)] for i, (c, v) in enumerate(ours.items())}
    assert verdict_of(bootstrap_mean(paired_differences(ours, noisy))) == "undecided"


# ---- the API judge against a local fake server --------------------------------------------------------------------

class Fake(BaseHTTPRequestHandler):
    "Replies by a command word in the model's answer: ok, flaky (one 503 first), denied (401), notjson, slow."
    seen, flaky_done = [], set()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Fake.seen.append({"auth": self.headers.get("Authorization"), "body": body})
        text = body["messages"][-1]["content"]
        text = text if isinstance(text, str) else text[0]["text"]
        status, out = 200, json.dumps({"choices": [{"message": {"content": "0.5"}}]})
        if "flaky" in text and text not in Fake.flaky_done: Fake.flaky_done.add(text); status, out = 503, "busy"
        if "denied" in text: status, out = 401, "no"
        if "notjson" in text: out = "<html>"
        if "slow" in text: time.sleep(1)
        try:
            self.send_response(status); self.end_headers(); self.wfile.write(out.encode())
        except OSError: pass

    def log_message(self, *a): pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    Fake.seen.clear(); Fake.flaky_done.clear()
    yield f"http://127.0.0.1:{srv.server_port}/v1/"
    srv.shutdown(); srv.server_close()


@pytest.fixture
def judge(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-secret")
    return APIJudge(server, "judge-model", api_key_env="MY_JUDGE_KEY", timeout=0.3, retries=1, backoff=0.01, cache_dir=tmp_path)


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("MY_JUDGE_KEY", raising=False)
    with pytest.raises(JudgeUnavailable, match="MY_JUDGE_KEY"): APIJudge("http://127.0.0.1:9/v1", "m", api_key_env="MY_JUDGE_KEY")


def test_request_shape_and_secret(judge, tmp_path):
    assert judge.score_answer("q", "ok", "gold") == 0.5
    req = Fake.seen[-1]
    assert req["auth"] == "Bearer sk-secret"
    assert (req["body"]["model"], req["body"]["temperature"]) == ("judge-model", 0)
    assert "sk-secret" not in repr(judge)
    assert all("sk-secret" not in p.read_text() for p in tmp_path.iterdir())  # the key is never cached


def test_retry_then_success(judge):
    assert judge.score_answer("q", "flaky", "gold") == 0.5
    assert judge.n_requests == 2 and judge.failures == []


def test_errors_become_none_with_reasons(judge):
    assert judge.score_answer("q", "denied", "gold") is None  # 401: not retried
    assert judge.n_requests == 1
    assert judge.score_answer("q", "notjson", "gold") is None
    assert judge.score_answer("q", "slow", "gold") is None  # timed out twice (one retry)
    reasons = [f["reason"] for f in judge.failures]
    assert "HTTP Error 401" in reasons[0] and "JSONDecodeError" in reasons[1] and "timed out" in reasons[2]
    assert judge.n_requests == 1 + 1 + 2


def test_unreachable_server(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "k")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Fake); port = srv.server_port; srv.server_close()  # a closed port
    j = APIJudge(f"http://127.0.0.1:{port}/v1", "m", api_key_env="MY_JUDGE_KEY", retries=0, cache_dir=tmp_path)
    assert j.score_answer("q", "ok", "gold") is None and "URLError" in j.failures[0]["reason"]


def test_cache_is_per_model_and_survives_damage(judge, server, tmp_path, monkeypatch):
    assert judge.score_answer("q", "ok", "gold") == 0.5
    other = APIJudge(server, "another-model", api_key_env="MY_JUDGE_KEY", cache_dir=tmp_path)
    assert other.score_answer("q", "ok", "gold") == 0.5 and other.n_requests == 1  # another model: asked again
    again = APIJudge(server, "judge-model", api_key_env="MY_JUDGE_KEY", cache_dir=tmp_path)
    assert again.score_answer("q", "ok", "gold") == 0.5 and again.n_requests == 0  # a new judge object, same cache
    from unictokens.judges import answer_messages
    path = again.cache_path(answer_messages("q", "ok", "gold"))
    path.write_text("{truncated")
    assert again.score_answer("q", "ok", "gold") == 0.5 and again.n_requests == 1
    assert json.loads(path.read_text())["reply"] == "0.5"  # rewritten


def test_run_goes_on_when_the_api_judge_is_unreachable(tmp_path, monkeypatch):
    "An API judge that cannot be reached: BLEU is still scored, judge metrics are None, and the notes say why."
    from unictokens.backbones import load_backbone
    from unictokens.data import UniCTokensData
    from unictokens.bench import BenchConfig, System, evaluate_system
    monkeypatch.setenv("UNICTOKENS_JUDGE_KEY", "test-key")
    judge = APIJudge("http://127.0.0.1:9/v1", "judge-model", timeout=2, retries=0, cache_dir=tmp_path / "cache")
    toy, root = load_backbone("toy"), tw.make_world(tmp_path / "world", seed=0)
    r = evaluate_system(toy, UniCTokensData(root), "yas", System("no_concept", [], [], "class"), judge, None, None,
                        BenchConfig(n_images=1, steps=4, max_prompts=1))
    assert r["metrics"]["vqa_bleu"] is not None and r["metrics"]["vqa_judge"] is None
    assert r["metrics"]["knowledge_t2i"] is None
    assert any("judge" in n for n in r["notes"]), r["notes"]


def test_choice_items_are_scored_unknown_items_listed_and_faces_use_the_plain_prompt(tmp_path):
    "A choice item gets the multiple-choice metric, an item of an unknown type is named in the notes (never dropped"
    " silently), and face similarity is computed on the plain prompt's pictures even with no other generation prompt."
    from unictokens.backbones import load_backbone
    from unictokens.bench import BenchConfig, System, evaluate_system
    from unictokens.data import UniCTokensData, conversation_item
    toy, root = load_backbone("toy"), tw.make_world(tmp_path / "world", seed=0)
    data = UniCTokensData(root)
    person = next(c for c in data.concepts() if data.concept_categories()[c] == "person")
    path = root / "test_data" / f"{person}.json"
    items = json.loads(path.read_text())
    black = "black_512x512.png"
    items += [conversation_item(black, f"Is <{person}> a cat or a woman?", "woman", "choice"),  # toy words only
              conversation_item(black, f"Describe <{person}>.", "A person.", "caption")]
    path.write_text(json.dumps(items))
    seen = []
    class CountingFaces:
        def __call__(self, images):
            seen.append(len(images)); return toy.eval_kit.face_embedder(images)
    r = evaluate_system(toy, data, person, System("no_concept", [], [], "class"), toy.eval_kit.judge, None, CountingFaces(),
                        BenchConfig(n_images=2, steps=2, max_prompts=0))
    assert r["metrics"]["choice"] in (0.0, 1.0)
    assert any("not scored, of a type UnifyBench does not know: {'caption': 1}" in n for n in r["notes"]), r["notes"]
    assert r["prompts"] == [] and r["metrics"]["clip_i"] is None
    assert f"A photo of <{person}>." in r["pictures"] and len(seen) == 2 + len(data.train_images(person))  # plain prompt + training images

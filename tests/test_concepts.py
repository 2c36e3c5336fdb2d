"Concept files across processes, released checkpoints on a Show-o-512 vocabulary, and refusals that change nothing."
import json, subprocess, sys, textwrap
from pathlib import Path

import pytest
import torch

from unictokens.concepts import (ConceptTokens, attach_concepts, detach_concepts, expand_t2i,
                                 import_unictokens_checkpoint, word_embedding)
from unictokens.prompting import t2i_attention_mask, sample_t2i_mask
from unictokens.showo import ShowO, ShowOConfig, t2i_loss
from unictokens.vocab import VocabLayout

BO = Path(__file__).parent / "data" / "unictokens_bo_example"


def trained_concept(model, tok, steps=3):
    "A concept whose rows were moved by a few AdamW steps on the tiny model."
    bo = ConceptTokens.new("bo", "dog", model.config.hidden_size, shared=4, gen=2).for_backbone(model)
    bo.init_group("identifier", word_embedding(model, tok, "dog"), "mean of 'dog'", model)
    bo.init_group("shared", torch.randn(4, model.config.hidden_size), "random", model)
    model.requires_grad_(False)
    pr = attach_concepts(model, tok, [bo])
    params = bo.parameters_of(["identifier", "shared", "gen"])
    for p in params: p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=1e-2, weight_decay=1e-3)
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, model.config.codebook_size, (1, model.config.num_vq_tokens), generator=g)
    for _ in range(steps):
        ids, labels = pr.t2i([expand_t2i("a photo of <bo>", [bo])], codes, sample_t2i_mask(1, codes.shape[1], g))
        loss = t2i_loss(model(ids, t2i_attention_mask(ids, pr.layout)), labels, model.config.max_text_len + 1)
        opt.zero_grad(); loss.backward(); opt.step()
    detach_concepts(model)
    return bo


@pytest.fixture
def big_text_model(tok):
    cfg = ShowOConfig.tiny(text_size=len(tok), codebook_size=64, num_vq_tokens=16, max_text_len=40)
    torch.manual_seed(0)
    return ShowO(cfg).eval()


def test_fresh_process_gives_bit_identical_logits(tmp_path, tok, big_text_model):
    model = big_text_model
    bo = trained_concept(model, tok)
    model.save_pretrained(tmp_path / "base")
    bo.save(tmp_path / "bo")
    pr = attach_concepts(model, tok, [bo])
    ids = pr.t2i_gen([expand_t2i("a photo of <bo> on the beach", [bo])], model.config.num_vq_tokens)
    with torch.no_grad():
        ref = model(ids, t2i_attention_mask(ids, pr.layout))
    torch.save({"ids": ids, "ref": ref}, tmp_path / "ref.pt")
    script = textwrap.dedent(f"""
        import torch, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from conftest import WORDS
        from unictokens.prompting import word_tokenizer, t2i_attention_mask
        from unictokens.showo import ShowO
        from unictokens.concepts import ConceptTokens, attach_concepts
        model = ShowO.from_pretrained({str(tmp_path / 'base')!r})
        bo = ConceptTokens.load({str(tmp_path / 'bo')!r}, model)
        pr = attach_concepts(model, word_tokenizer(WORDS), [bo])
        d = torch.load({str(tmp_path / 'ref.pt')!r})
        with torch.no_grad(): out = model(d["ids"], t2i_attention_mask(d["ids"], pr.layout))
        print("IDENTICAL" if torch.equal(out, d["ref"]) else "DIFFERENT")
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "IDENTICAL" in res.stdout, res.stdout + res.stderr


def test_released_bo_lands_bit_exactly_on_a_showo_512_vocabulary():
    bo = import_unictokens_checkpoint(BO, "bo", epoch=15, class_word="dog")
    cfg = ShowOConfig.showo_512()
    with torch.device("meta"):
        model = ShowO(ShowOConfig(num_vq_tokens=1024, num_layers=1))  # the full vocabulary, one layer
    model.to_empty(device="cpu")
    base = model.config.layout
    with torch.no_grad():
        model.showo.model.embed_tokens.weight.zero_()
        model.showo.model.embed_tokens.weight[base.image_offset] = 7.0  # image code 0 of the base layout
        model.showo.lm_head.weight.zero_(); model.showo.lm_head.bias.zero_()
    bo.check_backbone(model)  # the release's backbone fingerprint is Show-o's
    model.attach_rows(bo.rows)
    L = model.layout
    assert L == VocabLayout.showo().with_concepts(25) and L.image_offset == 50330 and cfg.layout.vocab_size == 58498
    raw = {k: torch.load(BO / f"epoch_15_{k}.pt", map_location="cpu", weights_only=True)
           for k in ("embed", "lm_head_weight", "lm_head_bias")}
    ids = torch.tensor([list(L.concept_ids)])
    with torch.no_grad():
        assert torch.equal(model.embed(ids)[0], raw["embed"])
        assert (model.embed(torch.tensor([[L.code_to_id(torch.tensor(0))]])) == 7.0).all()  # image rows moved up by 25
        h = torch.randn(1, 1, 2048)
        logits = model.logits(h)[0, 0]
        assert torch.allclose(logits[L.concept_ids[0]:L.image_offset], raw["lm_head_weight"] @ h[0, 0] + raw["lm_head_bias"], atol=1e-5)


class Opaque:
    "A class weights_only loading must refuse to rebuild."


def test_release_import_refuses_what_is_not_a_plain_tensor(tmp_path):
    for k in ("embed", "lm_head_weight", "lm_head_bias"):
        (tmp_path / f"epoch_3_{k}.pt").write_bytes((BO / f"epoch_15_{k}.pt").read_bytes())
    torch.save({"not": "a tensor", "obj": object.__name__}, tmp_path / "epoch_3_lm_head_bias.pt")
    with pytest.raises(ValueError, match="holds a dict, expected a tensor"):
        import_unictokens_checkpoint(tmp_path, "bo", epoch=3)
    torch.save(Opaque(), tmp_path / "epoch_3_lm_head_bias.pt")  # arbitrary objects are never unpickled
    with pytest.raises(ValueError, match="not a plain tensor file"):
        import_unictokens_checkpoint(tmp_path, "bo", epoch=3)
    (tmp_path / "epoch_3_lm_head_bias.pt").write_bytes((BO / "epoch_15_lm_head_bias.pt").read_bytes())
    torch.save(torch.zeros(20, 2048), tmp_path / "epoch_3_embed.pt")
    with pytest.raises(ValueError, match=r"expected \[17, 25 or 33 rows"):
        import_unictokens_checkpoint(tmp_path, "bo", epoch=3)
    with pytest.raises(FileNotFoundError, match="epoch_9_embed.pt"):
        import_unictokens_checkpoint(tmp_path, "bo", epoch=9)


def test_latest_epoch_is_found():
    assert import_unictokens_checkpoint(BO, "bo").meta["initialisers"]["gen"].endswith("epoch_15")


@pytest.mark.parametrize("damage", ["truncate", "flip", "manifest"])
def test_damaged_concept_file_is_refused_and_nothing_attached(tmp_path, tok, big_text_model, damage):
    model = big_text_model
    bo = trained_concept(model, tok, steps=1)
    bo.save(tmp_path)
    f, m = tmp_path / "concept.safetensors", tmp_path / "concept.json"
    if damage == "truncate": f.write_bytes(f.read_bytes()[:-7])
    if damage == "flip":
        b = bytearray(f.read_bytes()); b[-3] ^= 0xFF; f.write_bytes(bytes(b))
    if damage == "manifest": m.write_text(m.read_text()[:40])
    before = model.layout
    with pytest.raises(ValueError):
        attach_concepts(model, tok, [ConceptTokens.load(tmp_path, model)])
    assert model.layout == before and len(model.concept_rows) == 0


def test_interrupted_save_keeps_the_previous_concept(tmp_path, tok, big_text_model, monkeypatch):
    model = big_text_model
    bo = trained_concept(model, tok, steps=1)
    bo.save(tmp_path / "bo")
    old = {k: v.clone() for k, v in bo.rows.state_dict().items()}
    import unictokens.concepts as C
    monkeypatch.setattr(C, "write_json", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with torch.no_grad():
        bo.rows.embed["shared"].add_(1.0)
    with pytest.raises(KeyboardInterrupt):
        bo.save(tmp_path / "bo")  # killed after the new tensors were written, before the manifest
    back = ConceptTokens.load(tmp_path / "bo")  # the previous concept, complete and intact
    assert all(torch.equal(back.rows.state_dict()[k], old[k]) for k in old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bo"]
    assert sorted(p.name for p in (tmp_path / "bo").iterdir()) == ["concept.json", "concept.safetensors"]


def test_save_refuses_to_replace_a_folder_with_other_files(tmp_path, tok, big_text_model):
    bo = trained_concept(big_text_model, tok, steps=1)
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="notes.txt"):
        bo.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"

"Show-o checkpoints in the released layout: strict loading, exact logits, clear errors."
import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from unictokens.prompting import mmu_attention_mask, t2i_attention_mask
from unictokens.showo import ShowO, ShowOConfig


def release_checkpoint(model, d):
    "Write `model` exactly as the release ships: config.json + ONE pytorch_model.safetensors, keys under `showo.`."
    model.save_pretrained(d)
    sd = load_file(str(d / "pytorch_model.safetensors"))
    assert all(k.startswith("showo.") for k in sd) and "showo.lm_head.bias" in sd
    assert sorted(p.name for p in d.iterdir()) == ["config.json", "pytorch_model.safetensors"]  # no temporaries left
    return d


def test_release_layout_roundtrip_reproduces_logits(tmp_path, tiny_model, prompter, tiny_cfg):
    d = release_checkpoint(tiny_model, tmp_path / "ckpt")
    cfg = json.loads((d / "config.json").read_text())
    for k, v in {"_class_name": "Showo", "llm_vocab_size": tiny_cfg.text_size, "w_clip_vit": False,
                 "vocab_size": tiny_cfg.layout.vocab_size, "mask_token_id": tiny_cfg.layout.mask_id}.items():
        assert cfg[k] == v
    loaded = ShowO.from_pretrained(d)
    ids = prompter.t2i_gen(["a red cat on the beach"], tiny_cfg.num_vq_tokens)
    with torch.no_grad():
        assert torch.equal(loaded(ids, t2i_attention_mask(ids, loaded.layout)),
                           tiny_model(ids, t2i_attention_mask(ids, tiny_model.layout)))
        codes = torch.randint(0, tiny_cfg.codebook_size, (1, tiny_cfg.num_vq_tokens))
        m = prompter.mmu_prefix(codes, "what colour is it ?")
        assert torch.equal(loaded(m, mmu_attention_mask(m, loaded.layout)), tiny_model(m, mmu_attention_mask(m, tiny_model.layout)))


def test_bf16_load_converts_while_reading(tmp_path, tiny_model):
    loaded = ShowO.from_pretrained(release_checkpoint(tiny_model, tmp_path / "c"), dtype=torch.bfloat16)
    assert {p.dtype for p in loaded.parameters()} == {torch.bfloat16}
    ids = torch.tensor([[loaded.layout.mmu_id, loaded.layout.soi_id, loaded.layout.eoi_id, 0, 3]])
    out = loaded(ids, mmu_attention_mask(ids, loaded.layout))
    assert out.dtype == torch.float32 and torch.isfinite(out).all()


def test_wrong_shapes_and_keys_are_all_listed(tmp_path, tiny_model):
    d = release_checkpoint(tiny_model, tmp_path / "c")
    sd = load_file(str(d / "pytorch_model.safetensors"))
    sd["showo.lm_head.bias"] = torch.zeros(7)
    del sd["showo.model.final_layernorm.weight"]
    sd["showo.extra"] = torch.zeros(1)
    save_file(sd, str(d / "pytorch_model.safetensors"))
    with pytest.raises(ValueError) as e:
        ShowO.from_pretrained(d)
    msg = str(e.value)
    assert "pytorch_model.safetensors does not fit Show-o with this config: 1 missing, 1 unexpected, 1 mis-shaped" in msg
    assert "missing (1):\n    showo.model.final_layernorm.weight" in msg
    assert "unexpected (1):\n    showo.extra" in msg
    assert f"showo.lm_head.bias expected ({tiny_model.layout.vocab_size},), got (7,)" in msg


def test_config_field_errors_name_the_file(tmp_path, tiny_model):
    d = release_checkpoint(tiny_model, tmp_path / "c")
    cfg = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**cfg, "mask_token_id": 3}))
    with pytest.raises(ValueError, match=r"config.json: mask_token_id=3"):
        ShowO.from_pretrained(d)
    (d / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ShowO.from_pretrained(d)
    (d / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json"):
        ShowO.from_pretrained(d)


def test_release_config_without_architecture_fields_means_phi_1_5():
    release = {"_class_name": "Showo", "codebook_size": 8192, "llm_model_path": "microsoft/phi-1_5",
               "llm_vocab_size": 50295, "mask_token_id": 58497, "num_vq_tokens": 1024, "vocab_size": 58498,
               "w_clip_vit": False, "load_from_showo": True}
    cfg = ShowOConfig.from_release_json(release)
    assert cfg == ShowOConfig.showo_512()
    with torch.device("meta"):
        m = ShowO(cfg)
    sd = m.state_dict()
    assert (len(sd), sum(v.numel() for v in sd.values())) == (437, 1_448_176_770)


def test_repo_id_offline_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match=r"hf download showlab/show-o-512x512 config.json pytorch_model.safetensors --local-dir DIR"):
        ShowO.from_pretrained("showlab/show-o-512x512", local_files_only=True)


def test_meta_build_allocates_nothing():
    with torch.device("meta"):
        m = ShowO(ShowOConfig.showo_256())
    assert all(p.is_meta for p in m.parameters())

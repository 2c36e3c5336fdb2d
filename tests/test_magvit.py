"""MAGVIT-v2 checkpoints: the released layout (written here by hand), fault injection on the loader, offline errors."""
import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings, strategies as st
from safetensors.torch import load_file, save_file

from unictokens.magvit import (MAGVITv2, MAGVITv2Config, lfq_codebook, lfq_codes, lfq_powers)

RELEASED_CONFIG = {"_class_name": "MAGVITv2", "_diffusers_version": "0.30.0"}
BUFFERS = ("quantize.embedding", "quantize.power_vals")


def write_released_layout(d: Path, state_dict: dict, config: dict = RELEASED_CONFIG) -> Path:
    "Write a checkpoint folder exactly as `showlab/magvitv2` ships it: config.json + pytorch_model.safetensors."
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(config))
    save_file({k: v.contiguous() for k, v in state_dict.items()}, d / "pytorch_model.safetensors", metadata={"format": "pt"})
    return d


def image(seed: int, size: int = 32, batch: int = 1) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.fixture(scope="module")
def showlab(tmp_path_factory):
    "The released architecture with seeded random weights, its state dict and a folder in the released layout."
    torch.manual_seed(0)
    model = MAGVITv2(MAGVITv2Config.showlab()).eval()
    sd = model.state_dict()
    d = write_released_layout(tmp_path_factory.mktemp("released"), sd)
    return model, sd, d


@pytest.fixture
def tiny_sd():
    torch.manual_seed(1)
    return MAGVITv2(MAGVITv2Config.tiny()).state_dict()


def test_released_layout_is_382_tensors(showlab):
    _, sd, d = showlab
    on_disk = load_file(d / "pytorch_model.safetensors")
    assert len(on_disk) == 382
    assert sum(t.numel() for t in on_disk.values()) == 95_493_513
    assert on_disk["quantize.power_vals"].dtype == torch.int64


def test_released_layout_loads_with_identical_codes(showlab):
    model, _, d = showlab
    loaded = MAGVITv2.from_pretrained(d)
    assert loaded.config == MAGVITv2Config.showlab()
    assert not any(t.is_meta for t in [*loaded.parameters(), *loaded.buffers()])
    x = image(0)
    codes = loaded.encode(x)
    assert codes.shape == (1, 4)
    assert torch.equal(codes, model.encode(x))
    with torch.no_grad():
        torch.testing.assert_close(loaded.decode(codes), model.decode(codes), rtol=0, atol=1e-5)


def test_released_layout_without_quantize_buffers(showlab, tmp_path):
    model, sd, _ = showlab
    d = write_released_layout(tmp_path, {k: v for k, v in sd.items() if k not in BUFFERS})
    loaded = MAGVITv2.from_pretrained(d)
    assert torch.equal(loaded.quantize.embedding, lfq_codebook(13))
    assert torch.equal(loaded.quantize.power_vals, lfq_powers(13))
    x = image(1)
    assert torch.equal(loaded.encode(x), model.encode(x))


def test_save_pretrained_round_trip_and_dtype(tmp_path, tiny_sd):
    model = MAGVITv2(MAGVITv2Config.tiny())
    model.load_state_dict(tiny_sd)
    model.save_pretrained(tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["config.json", "pytorch_model.safetensors"]
    cfg = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert cfg["bits"] == 10 and cfg["_class_name"] == "MAGVITv2"
    x = image(2, size=64, batch=2)
    assert torch.equal(MAGVITv2.from_pretrained(tmp_path / "ckpt").encode(x), model.encode(x))
    half = MAGVITv2.from_pretrained(str(tmp_path / "ckpt"), dtype=torch.bfloat16)
    assert half.encoder.conv_in.weight.dtype == torch.bfloat16 and half.quantize.power_vals.dtype == torch.int64
    assert half.encode(x).shape == (2, 64)


def test_missing_and_misshaped_keys_listed_in_one_error(tmp_path, tiny_sd):
    sd = dict(tiny_sd)
    del sd["decoder.conv_out.bias"]
    sd["encoder.conv_in.weight"] = torch.zeros(24, 3, 5, 5)
    sd["encoder.down.0.attn.0.q.weight"] = torch.zeros(1)
    d = write_released_layout(tmp_path, sd, MAGVITv2Config.tiny().to_dict())
    with pytest.raises(ValueError) as e:
        MAGVITv2.from_pretrained(d)
    msg = str(e.value)
    assert str(d / "pytorch_model.safetensors") in msg
    assert "1 missing, 1 unexpected, 1 mis-shaped" in msg
    assert "decoder.conv_out.bias" in msg and "encoder.down.0.attn.0.q.weight" in msg
    assert "encoder.conv_in.weight expected (24, 3, 3, 3), got (24, 3, 5, 5)" in msg


def test_many_missing_keys_are_counted_not_all_listed(tmp_path, tiny_sd):
    sd = {k: v for k, v in tiny_sd.items() if not k.startswith("decoder.")}
    n_missing = sum(k.startswith("decoder.") for k in tiny_sd)
    d = write_released_layout(tmp_path, sd, MAGVITv2Config.tiny().to_dict())
    with pytest.raises(ValueError, match=rf"(?s)missing \({n_missing}\):.*\.\.\. and {n_missing - 10} more"):
        MAGVITv2.from_pretrained(d)


def test_config_that_does_not_fit_the_weights(tmp_path, tiny_sd):
    d = write_released_layout(tmp_path, tiny_sd, RELEASED_CONFIG)  # tiny weights, released (showlab) config
    with pytest.raises(ValueError, match="mis-shaped"):
        MAGVITv2.from_pretrained(d)


@pytest.mark.parametrize("key", BUFFERS)
def test_quantize_buffers_that_disagree_are_refused(tmp_path, tiny_sd, key):
    sd = dict(tiny_sd)
    sd[key] = sd[key].flip(0)
    d = write_released_layout(tmp_path, sd, MAGVITv2Config.tiny().to_dict())
    with pytest.raises(ValueError, match=f"{key} differs from the LFQ codebook of 10 bits"):
        MAGVITv2.from_pretrained(d)


def test_unknown_config_key_names_file_and_key(tmp_path, tiny_sd):
    d = write_released_layout(tmp_path, tiny_sd, {**RELEASED_CONFIG, **MAGVITv2Config.tiny().to_dict(), "z_channels": 13})
    with pytest.raises(ValueError) as e:
        MAGVITv2.from_pretrained(d)
    assert str(d / "config.json") in str(e.value) and "'z_channels'" in str(e.value)


def test_invalid_config_value_names_file(tmp_path, tiny_sd):
    d = write_released_layout(tmp_path, tiny_sd, {**MAGVITv2Config.tiny().to_dict(), "norm_groups": 7})
    with pytest.raises(ValueError, match=r"config\.json: MAGVITv2Config: width ch\*ch_mult\[0\] = 24"):
        MAGVITv2.from_pretrained(d)


def test_folder_without_weights(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="pytorch_model.safetensors"):
        MAGVITv2.from_pretrained(tmp_path)


@pytest.mark.parametrize("local_files_only", [None, True])
def test_offline_repo_id_says_how_to_get_the_files(monkeypatch, tmp_path, local_files_only):
    import huggingface_hub.constants as hub_constants
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)  # the hub reads the variable at import time
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    repo = "unictokens-tests/no-such-magvit"
    with pytest.raises(OSError) as e:
        MAGVITv2.from_pretrained(repo, local_files_only=local_files_only)
    msg = str(e.value)
    assert repo in msg and "not a local folder" in msg
    assert f"hf download {repo} config.json pytorch_model.safetensors --local-dir DIR" in msg
    assert e.value.__cause__ is not None  # the hub's own error is kept


def test_batch_codes_equal_single_image_codes(tiny_sd):
    model = MAGVITv2(MAGVITv2Config.tiny())
    model.load_state_dict(tiny_sd)
    x = image(3, size=64, batch=3)
    batch = model.encode(x)
    assert torch.equal(batch, torch.cat([model.encode(x[i:i + 1]) for i in range(3)]))


@settings(max_examples=30, deadline=None)
@given(bits=st.integers(1, 16), data=st.data())
def test_lfq_code_and_codebook_are_inverse(bits, data):
    codes = torch.tensor(data.draw(st.lists(st.integers(0, 2 ** bits - 1), min_size=1, max_size=20)))
    rows = lfq_codebook(bits)[codes]  # (N, bits) of ±1
    assert torch.equal(lfq_codes(rows), codes)
    scale = torch.rand(len(codes), bits) + 0.01  # any positive magnitude keeps the signs
    assert torch.equal(lfq_codes(rows * scale), codes)

"Shared fixtures: a word tokenizer and tiny configs (no downloads)."
import pytest
import torch

from unictokens.prompting import Prompter, word_tokenizer
from unictokens.showo import ShowO, ShowOConfig

WORDS = "a photo of the cat dog on beach grass red blue green USER ASSISTANT : ? . what colour is it yes no".split()


@pytest.fixture
def tok():
    return word_tokenizer(WORDS)


@pytest.fixture
def tiny_cfg():
    return ShowOConfig.tiny(text_size=len(WORDS) + 2, codebook_size=64, num_vq_tokens=16, max_text_len=12)


@pytest.fixture
def tiny_model(tiny_cfg):
    torch.manual_seed(0)
    return ShowO(tiny_cfg).eval()


@pytest.fixture
def prompter(tok, tiny_cfg):
    return Prompter(tok, tiny_cfg.layout, max_text_len=tiny_cfg.max_text_len)

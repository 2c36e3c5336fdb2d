"Property tests of the sequence builders and omni-attention masks against the rules of SHOWO_SPEC section 3."
import pytest
import torch
from hypothesis import given, settings, strategies as st

from unictokens.prompting import mmu_attention_mask, t2i_attention_mask, t2i_sequences, t2i_text_block
from unictokens.vocab import VocabLayout

LAYOUT = VocabLayout(text_size=30, codebook_size=16, eot_id=0)


def t2i_rule(ids, layout):
    "Transcription of Show-o's rules (rm_pad_in_image=True), one cell at a time."
    L = len(ids)
    pad = [i == layout.pad_id for i in ids]
    soi, eoi = ids.index(layout.soi_id), ids.index(layout.eoi_id)
    out = torch.zeros(L, L, dtype=torch.bool)
    for r in range(L):
        for c in range(L):
            if soi <= r <= eoi:
                out[r, c] = not pad[c]
            elif pad[r]:
                out[r, c] = c <= r and pad[c]
            else:
                out[r, c] = c <= r and not pad[c]
    return out


texts = st.lists(st.integers(1, 29), max_size=14)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(texts, min_size=1, max_size=3), n=st.integers(1, 6), max_text_len=st.integers(3, 10))
def test_t2i_mask_matches_rule(texts, n, max_text_len):
    texts = [t[: max_text_len - 2] for t in texts]  # what fits the block (longer texts are refused, never cut)
    codes = torch.zeros(len(texts), n, dtype=torch.long)
    ids, labels = t2i_sequences(texts, codes, LAYOUT, max_text_len=max_text_len)
    assert ids.shape == (len(texts), max_text_len + 1 + n + 2)
    assert (ids[:, max_text_len + 1] == LAYOUT.soi_id).all() and (ids[:, -1] == LAYOUT.eoi_id).all()
    m = t2i_attention_mask(ids, LAYOUT)[:, 0] == 0
    for b in range(len(texts)):
        assert torch.equal(m[b], t2i_rule(ids[b].tolist(), LAYOUT))
    assert m.any(-1).all()  # no row fully blocked
    assert (labels[ids == LAYOUT.pad_id] == -100).all()


@settings(max_examples=60, deadline=None)
@given(text=texts, max_text_len=st.integers(3, 10))
def test_text_block_shape_and_ends(text, max_text_len):
    if len(text) > max_text_len - 2:  # too long: refused with the numbers, never cut
        with pytest.raises(ValueError, match=f"a t2i text of {len(text)} tokens does not fit the text block: it holds {max_text_len - 2}"):
            t2i_text_block(text, LAYOUT, max_text_len)
        return
    block = t2i_text_block(text, LAYOUT, max_text_len)
    assert len(block) == max_text_len + 1
    assert block[-1] == LAYOUT.eot_id
    core = [i for i in block if i != LAYOUT.pad_id]
    assert core[:2] == [LAYOUT.t2i_id, LAYOUT.eot_id]
    assert core[2:-1] == text  # nothing lost


@settings(max_examples=40, deadline=None)
@given(n_img=st.integers(1, 5), n_text=st.integers(0, 8), n_pad=st.integers(0, 4))
def test_mmu_mask_unpadded_is_causal_or_image(n_img, n_text, n_pad):
    L = LAYOUT
    row = [L.pad_id] * n_pad + [L.mmu_id, L.soi_id] + [L.image_offset] * n_img + [L.eoi_id] + [3] * n_text
    ids = torch.tensor([row])
    m = (mmu_attention_mask(ids, L)[0, 0] == 0)
    eoi = row.index(L.eoi_id)
    for r in range(len(row)):
        for c in range(len(row)):
            if r < n_pad:
                want = r == c  # pad rows see only themselves
            else:
                want = (c <= r or c <= eoi) and c >= n_pad  # Show-o's rule, pads invisible
            assert bool(m[r, c]) == want

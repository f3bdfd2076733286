"""The translator's network: attention masking, teacher forcing against step-by-step decoding."""

import dataclasses

import pytest
import torch

from seqlab.tasks.beam import beam_search, greedy_search
from seqlab.tasks.translate import (
    Attention,
    Seq2Seq,
    TranslateConfig,
    TranslateInputError,
    TranslationStep,
    _batch_first,
    decode,
)
from seqlab.tasks.translate_data import BOS_ID, EOS_ID, PAD_ID

SMALL = dict(embed_dim=8, hidden=6, decoder_hidden=12, dropout=0.0)
KINDS = [(a, c) for a in ("bahdanau", "dot", "general", "none") for c in ("gru", "lstm")]


def model_of(attention="general", cell="gru", seed=0, **kw):
    torch.manual_seed(seed)
    config = TranslateConfig(attention=attention, cell=cell, **{**SMALL, **kw})
    if attention == "dot":
        config = dataclasses.replace(config, decoder_hidden=2 * config.hidden)
    return Seq2Seq(20, 15, config).eval()


def padded_batch():
    src = torch.randint(4, 20, (3, 7))
    lengths = torch.tensor([7, 4, 2])
    for row, n in enumerate(lengths):
        src[row, n:] = PAD_ID
    tgt = torch.randint(4, 15, (3, 5))
    tgt[:, 0] = BOS_ID
    return src, lengths, tgt


def test_attention_gives_padding_no_weight():
    attention = Attention("bahdanau", query_dim=4, key_dim=6)
    memory = torch.randn(2, 5, 6)
    pad = torch.tensor([[False, False, True, True, True], [False] * 5])
    context, weights = attention(torch.randn(2, 3, 4), attention.prepare(memory), memory, pad)
    assert torch.all(weights[0, :, 2:] == 0)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3))
    assert context.shape == (2, 3, 6)


@pytest.mark.parametrize("attention, cell", KINDS)
def test_padding_does_not_change_a_sentence(attention, cell):
    model = model_of(attention, cell)
    src, lengths, tgt = padded_batch()
    with torch.no_grad():
        batched = model(src, lengths, tgt)
        alone = model(src[2:, :2], lengths[2:], tgt[2:])
    assert torch.allclose(batched[2], alone[0], atol=1e-5)


@pytest.mark.parametrize("attention, cell", KINDS)
def test_teacher_forcing_equals_step_by_step(attention, cell):
    model = model_of(attention, cell)
    src, lengths, tgt = padded_batch()
    with torch.no_grad():
        logits, weights = model(src, lengths, tgt, return_attention=True)
        state, context = model.encode(src, lengths)
        state, steps = _batch_first(state), []
        for t in range(tgt.shape[1]):
            log_probs, state = model.step(tgt[:, t], _batch_first(state), context)
            steps.append(log_probs)
    expected = torch.log_softmax(logits, -1)
    expected[..., [PAD_ID, BOS_ID]] = -torch.inf  # never emitted when decoding
    expected = torch.log_softmax(expected, -1)
    assert torch.allclose(torch.stack(steps, 1), expected, atol=1e-5)
    if attention != "none":
        assert torch.all(weights[2, :, 2:] == 0)


@pytest.mark.parametrize("attention", ["bahdanau", "general"])
def test_greedy_decoding_is_a_beam_of_one(attention):
    model = model_of(attention, seed=3)
    src, lengths, _ = padded_batch()
    with torch.no_grad():
        state, context = model.encode(src, lengths)

        def step(tokens, s, ctx):
            return model.step(tokens, _batch_first(s), ctx)

        options = dict(batch_size=3, bos=BOS_ID, eos=EOS_ID, max_len=12, context=context)
        greedy = greedy_search(step, _batch_first(state), **options)
        beam = beam_search(step, _batch_first(state), beam=1, **options)
    assert greedy.tokens == beam.tokens
    assert all(PAD_ID not in t and BOS_ID not in t for t in greedy.tokens)


def test_decoding_is_the_same_alone_and_in_a_batch():
    model = model_of("general", seed=5)
    src, lengths, _ = padded_batch()
    together = decode(model, src, lengths, beam=3)
    for row in range(3):
        n = int(lengths[row])
        assert (
            decode(model, src[row : row + 1, :n], lengths[row : row + 1], beam=3)[0]
            == (together[row])
        )


def test_the_loss_counts_target_tokens_only():
    model = model_of("none")
    src, lengths, tgt = padded_batch()
    tgt[0, 3:] = PAD_ID
    loss, items = TranslationStep(0.1)(model, (src, lengths, tgt, torch.arange(3)))
    assert int(items) == 4 * 3 - 2 and loss.dim() == 0
    evaluated = TranslationStep(0.0).evaluate(model, (src, lengths, tgt, torch.arange(3)))
    assert set(evaluated) == {"loss"}


def test_settings_that_cannot_work_are_named():
    with pytest.raises(TranslateInputError, match="decoder_hidden"):
        TranslateConfig(attention="dot", hidden=100, decoder_hidden=512)
    with pytest.raises(TranslateInputError, match="attention must be one of"):
        TranslateConfig(attention="luong")
    with pytest.raises(TranslateInputError, match="dropout"):
        TranslateConfig(dropout=1.0)


def test_seqlab_and_torch_backends_compute_the_same_function():
    model = model_of("general")
    twin = Seq2Seq(20, 15, dataclasses.replace(model.config, backend="torch")).eval()
    twin.load_state_dict(model.state_dict())
    src, lengths, tgt = padded_batch()
    with torch.no_grad():
        assert torch.allclose(model(src, lengths, tgt), twin(src, lengths, tgt), atol=1e-5)

"""Temperature, top-k, top-p and greedy choice on fixed distributions (seqlab.tasks.sampling)."""

import math

import pytest
import torch

from seqlab.tasks.sampling import SamplingError, probabilities, sample

P = torch.tensor([0.4, 0.3, 0.2, 0.1])
LOGITS = torch.log(P)


def test_plain_softmax_and_temperature():
    assert torch.allclose(probabilities(LOGITS), P)
    sharp = probabilities(LOGITS, temperature=0.5)  # p^2 renormalised
    assert torch.allclose(sharp, P**2 / (P**2).sum())
    flat = probabilities(LOGITS, temperature=1e6)
    assert torch.allclose(flat, torch.full((4,), 0.25), atol=1e-5)


def test_top_k_keeps_the_k_most_probable():
    assert torch.allclose(probabilities(LOGITS, top_k=2), torch.tensor([4 / 7, 3 / 7, 0, 0]))
    assert torch.allclose(probabilities(LOGITS, top_k=10), P)


@pytest.mark.parametrize(
    "top_p, kept",
    [
        (0.3, 1),  # the most probable token alone (0.4) already reaches 0.3
        (0.4, 1),  # exactly reached by the first token
        (0.5, 2),  # 0.4 < 0.5 <= 0.7
        (0.7, 2),
        (0.71, 3),
        (0.95, 4),
        (1.0, 4),
    ],
)
def test_top_p_keeps_the_smallest_nucleus(top_p, kept):
    probs = probabilities(LOGITS, top_p=top_p)
    expected = torch.zeros(4)
    expected[:kept] = P[:kept] / P[:kept].sum()
    assert torch.allclose(probs, expected, atol=1e-6)


def test_top_p_works_on_unsorted_rows_of_a_batch():
    logits = torch.log(torch.tensor([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]))
    probs = probabilities(logits, top_p=0.8)
    assert torch.allclose(probs[0], torch.tensor([0, 2 / 3, 1 / 3]))
    assert torch.allclose(probs[1], torch.tensor([5 / 8, 0, 3 / 8]))


def test_top_k_and_top_p_together():
    probs = probabilities(LOGITS, top_k=3, top_p=0.5)  # top 3: 4/9, 3/9, 2/9 -> nucleus of 2
    assert torch.allclose(probs, torch.tensor([4 / 7, 3 / 7, 0, 0]))


def test_temperature_zero_is_greedy():
    assert sample(LOGITS, temperature=0).item() == 0
    batch = torch.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 1.0]])
    assert sample(batch, temperature=0).tolist() == [1, 0]


def test_draws_follow_the_distribution_and_respect_the_cut():
    g = torch.Generator().manual_seed(0)
    draws = sample(LOGITS.expand(20_000, 4), top_k=2, generator=g)
    counts = torch.bincount(draws, minlength=4).float() / draws.numel()
    assert counts[2:].sum() == 0
    assert abs(counts[0] - 4 / 7) < 0.02


def test_same_seed_same_draws():
    x = torch.randn(50, 7)
    a = sample(x, 0.9, top_p=0.9, generator=torch.Generator().manual_seed(5))
    b = sample(x, 0.9, top_p=0.9, generator=torch.Generator().manual_seed(5))
    c = sample(x, 0.9, top_p=0.9, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize(
    "options, words",
    [
        ({"temperature": -0.5}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
    ],
)
def test_bad_options_are_named(options, words):
    with pytest.raises(SamplingError, match=words):
        sample(LOGITS, **options)


def test_nan_logits_are_refused_not_sampled():
    with pytest.raises(SamplingError, match="NaN"):
        sample(torch.tensor([0.0, math.nan, 1.0]))

"""Greedy and beam search over step functions (seqlab.tasks.beam)."""

import itertools
import math

import pytest
import torch

from seqlab.tasks.beam import BeamSearchError, beam_search, expand, greedy_search, reorder

EOS, BOS, A, B = 0, 1, 2, 3

# next-token probabilities given the last token: greedy takes `a` (0.6) and ends at
# 0.6 * 0.35 = 0.21; `b eos` is worth 0.4 * 0.9 = 0.36
TABLE = torch.tensor(
    [
        [1.00, 0.00, 0.00, 0.00],
        [0.00, 0.00, 0.60, 0.40],
        [0.35, 0.00, 0.35, 0.30],
        [0.90, 0.00, 0.05, 0.05],
    ]
).log()


def markov_step(tokens, state):
    return TABLE[tokens], state


def test_beam_beats_greedy_on_a_hand_checked_toy():
    greedy = greedy_search(markov_step, None, batch_size=1, bos=BOS, eos=EOS, max_len=3)
    assert greedy.tokens == [[A, EOS]]
    assert greedy.scores[0] == pytest.approx(math.log(0.21) / 2)
    beam = beam_search(
        markov_step, None, batch_size=1, bos=BOS, eos=EOS, beam=2, max_len=3, length_penalty=0
    )
    assert beam.tokens == [[B, EOS]]
    assert beam.scores[0] == pytest.approx(math.log(0.36))
    assert beam.ended == [True]
    assert beam.without_eos(EOS) == [[B]]
    assert beam.n_best[0][0] == ([B, EOS], beam.scores[0])
    assert len(beam.n_best[0]) == 2 and beam.n_best[0][1][1] < beam.scores[0]


class RandomDecoder:
    """A decoder whose next-token distribution depends on its whole history through its state."""

    def __init__(self, vocab=5, hidden=8, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.embed = torch.randn(vocab, hidden, generator=g)
        self.mix = torch.randn(hidden, hidden, generator=g) * 0.5
        self.out = torch.randn(hidden, vocab, generator=g) * 2
        self.hidden = hidden

    def initial(self, batch):
        return torch.randn(batch, self.hidden, generator=torch.Generator().manual_seed(1))

    def __call__(self, tokens, h):
        h = torch.tanh(h @ self.mix + self.embed[tokens])
        return torch.log_softmax(h @ self.out, -1), h


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_of_one_is_greedy(alpha):
    decoder = RandomDecoder()
    kwargs = dict(batch_size=6, bos=BOS, eos=EOS, max_len=7, length_penalty=alpha)
    greedy = greedy_search(decoder, decoder.initial(6), **kwargs)
    beam = beam_search(decoder, decoder.initial(6), beam=1, **kwargs)
    assert beam.tokens == greedy.tokens
    assert beam.ended == greedy.ended
    assert beam.scores == pytest.approx(greedy.scores)


def exhaustive_best(decoder, h, max_len, alpha):
    """Score every output up to max_len (ending in eos, or cut at max_len): the exact best."""
    best = (-math.inf, None)
    vocab = decoder.out.shape[1]
    for length in range(1, max_len + 1):
        for seq in itertools.product(range(vocab), repeat=length):
            if EOS in seq[:-1] or (length < max_len and seq[-1] != EOS):
                continue
            state, token, total = h, torch.tensor([BOS]), 0.0
            for s in seq:
                log_probs, state = decoder(token, state)
                total += float(log_probs[0, s])
                token = torch.tensor([s])
            best = max(best, (total / length**alpha, list(seq)))
    return best


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_wide_enough_beam_is_exact_and_reorders_the_state(alpha):
    # the decoder's state carries the whole history: a wrong reordering gives wrong scores
    decoder = RandomDecoder(vocab=4)
    h = decoder.initial(3)
    out = beam_search(
        decoder, h, batch_size=3, bos=BOS, eos=EOS, beam=64, max_len=3, length_penalty=alpha
    )
    for b in range(3):
        score, tokens = exhaustive_best(decoder, h[b : b + 1], 3, alpha)
        assert out.tokens[b] == tokens
        assert out.scores[b] == pytest.approx(score)


def test_batched_search_equals_one_sentence_at_a_time():
    decoder = RandomDecoder(vocab=6)
    h = decoder.initial(4)
    limits = torch.tensor([2, 5, 7, 3])
    batched = beam_search(decoder, h, batch_size=4, bos=BOS, eos=EOS, beam=3, max_len=limits)
    for b in range(4):
        alone = beam_search(
            decoder, h[b : b + 1], batch_size=1, bos=BOS, eos=EOS, beam=3, max_len=int(limits[b])
        )
        assert batched.tokens[b] == alone.tokens[0]
        assert [h for h, _ in batched.n_best[b]] == [h for h, _ in alone.n_best[0]]
        assert [s for _, s in batched.n_best[b]] == pytest.approx([s for _, s in alone.n_best[0]])
        assert len(batched.tokens[b]) <= limits[b]


def test_context_is_expanded_once_and_passed_to_the_step():
    seen = []

    def step(tokens, state, context):
        seen.append(context.shape)
        return torch.log_softmax(context + 0.0 * state, -1), state

    context = torch.log(torch.tensor([[0.1, 0.0, 0.9], [0.8, 0.0, 0.2]]) + 1e-9)
    state = torch.zeros(2, 3)
    out = beam_search(
        step, state, batch_size=2, bos=BOS, eos=EOS, beam=2, max_len=2, context=context
    )
    assert all(shape == (4, 3) for shape in seen)
    assert out.tokens[1] == [EOS]


def test_nested_states_are_expanded_and_reordered():
    state = {"h": (torch.tensor([1, 2]), None), "c": [torch.tensor([[5], [6]])]}
    wide = expand(state, 3)
    assert wide["h"][0].tolist() == [1, 1, 1, 2, 2, 2]
    assert reorder(wide, torch.tensor([5, 0, 0, 3, 3, 3]))["c"][0].flatten().tolist() == [
        6,
        5,
        5,
        6,
        6,
        6,
    ]
    with pytest.raises(BeamSearchError, match="tensors, None"):
        expand({"h": "text"}, 2)


def test_bad_step_outputs_and_settings_are_named():
    with pytest.raises(BeamSearchError, match="shape"):
        beam_search(lambda t, s: (torch.zeros(3), s), None, batch_size=1, bos=1, eos=0)
    with pytest.raises(BeamSearchError, match="NaN"):
        greedy_search(
            lambda t, s: (torch.full((1, 3), math.nan), s), None, batch_size=1, bos=1, eos=0
        )
    with pytest.raises(ValueError, match="beam=0"):
        beam_search(markov_step, None, batch_size=1, bos=1, eos=0, beam=0)
    with pytest.raises(ValueError, match="max_len"):
        beam_search(markov_step, None, batch_size=1, bos=1, eos=0, max_len=0)
    with pytest.raises(BeamSearchError, match="one limit per"):
        beam_search(markov_step, None, batch_size=2, bos=1, eos=0, max_len=torch.tensor([3]))


def test_max_len_cuts_open_hypotheses():
    never_ends = torch.tensor([[-50.0, 0.0, 0.0]]).log_softmax(-1)
    step = lambda tokens, s: (never_ends.expand(len(tokens), -1), s)  # noqa: E731
    out = beam_search(step, None, batch_size=1, bos=1, eos=0, beam=2, max_len=4)
    assert len(out.tokens[0]) == 4 and out.ended == [False]
    greedy = greedy_search(step, None, batch_size=1, bos=1, eos=0, max_len=4)
    assert len(greedy.tokens[0]) == 4 and greedy.ended == [False]

"""The hand-written steps of the PyTorch trainers equal autograd's gradient applied by SGD /
AdaGrad, on hand-made batches (with rows repeated, to check the averaging rule too)."""

import numpy as np
import pytest
import torch

from seqlab.embeddings.torch_trainers import Batch, TorchFastText, TorchGloVe, TorchWord2Vec

LR = 0.2
WORDS = [f"w{i}" for i in range(12)] + ["walking", "walked", "talking"]
SENTENCES = [WORDS, WORDS[::-1]]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def trainer(name, algo):
    settings = dict(vector_size=5, window=2, negative=2, min_count=1, device="cpu")
    if name == "fasttext":
        return TorchFastText(algo, minn=3, maxn=4, bucket=1000, **settings)
    return TorchWord2Vec(algo, **settings)


def hand_batch(vocab_size):
    """Two centres, one repeated word among them and among the targets and noise words; one
    noise word equal to its example's target (it must count neither in loss nor step)."""
    w = vocab_size - 1  # "talking": a word with n-grams
    centre = torch.tensor([3, w, 3])
    context = torch.tensor([[1, 2, 4, 5], [12, 13, 2, 0], [w, 9, 8, 13]])
    valid = torch.tensor(
        [[True, True, False, True], [True, True, True, False], [False, True, True, True]]
    )
    return centre, context, valid


def negatives_for(examples, targets, gen):
    negs = torch.randint(0, 15, (examples, 2), generator=gen)
    negs[0, 1] = targets[0]  # a noise word equal to the target
    return negs


def loss_of(h, targets, negs, syn1):
    """The negative-sampling loss in plain autograd terms."""
    real = (negs != targets[:, None]).double()
    s_pos = (h * syn1[targets]).sum(-1)
    s_neg = torch.einsum("pd,pkd->pk", h, syn1[negs])
    return (
        -torch.nn.functional.logsigmoid(s_pos).sum()
        - (torch.nn.functional.logsigmoid(-s_neg) * real).sum()
    )


@pytest.mark.parametrize("name", ["word2vec", "fasttext"])
@pytest.mark.parametrize("algo", ["skipgram", "cbow"])
def test_word2vec_step_is_autograd_sgd(name, algo):
    model = trainer(name, algo)
    model.build(SENTENCES)
    gen = torch.Generator().manual_seed(0)
    for tensor in model.weights.values():
        tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.5)
    centre, context, valid = hand_batch(len(WORDS))

    def rows_of(word):
        return torch.as_tensor(model.input_rows(int(word)), dtype=torch.long)

    syn0 = model.weights["syn0"].double().clone().requires_grad_()
    syn1 = model.weights["syn1neg"].double().clone().requires_grad_()

    def input_vector(words):  # the mean of each word's rows
        return torch.stack([syn0[rows_of(w)].mean(0) for w in words])

    if algo == "skipgram":
        b_idx, c_idx = valid.nonzero(as_tuple=True)
        v_leaf = input_vector(centre).detach().requires_grad_()
        targets = context[b_idx, c_idx]
        negs = negatives_for(len(targets), targets, gen)
        loss = loss_of(v_leaf[b_idx], targets, negs, syn1)
        loss.backward()
        words_and_grads = [(w, v_leaf.grad[b]) for b, w in enumerate(centre)]
    else:
        h_leaf = torch.stack(
            [input_vector(context[b][valid[b]]).mean(0) for b in range(len(centre))]
        )
        h_leaf = h_leaf.detach().requires_grad_()
        targets = centre
        negs = negatives_for(len(targets), targets, gen)
        loss = loss_of(h_leaf, targets, negs, syn1)
        loss.backward()
        # word2vec's CBOW: each context word takes the gradient of h whole
        words_and_grads = [
            (w, h_leaf.grad[b]) for b in range(len(centre)) for w in context[b][valid[b]]
        ]
    # fastText's rule: every row of a word (its own, its n-grams) takes the word's step whole;
    # a row met several times in the batch gets the mean of its steps
    steps, occurrences = [], []
    for word, grad in words_and_grads:
        word_rows = rows_of(word)
        steps += [-LR * grad] * len(word_rows)
        occurrences.append(word_rows)
    occurrences = torch.cat(occurrences)
    total = torch.zeros_like(syn0).index_add_(0, occurrences, torch.stack(steps))
    expected0 = syn0 + total / counts(occurrences, len(syn0))
    out_rows = torch.cat([targets, negs.reshape(-1)])
    expected1 = syn1 - LR * syn1.grad / counts(out_rows, len(syn1))

    batch = Batch(centre, context, valid, negs)
    reported, examples = model.step(batch, LR)
    assert examples == len(targets)
    assert float(reported) == pytest.approx(loss.item(), rel=1e-5)
    np.testing.assert_allclose(model.weights["syn0"], expected0.detach(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.weights["syn1neg"], expected1.detach(), rtol=1e-4, atol=1e-6)
    assert (expected0 - syn0).abs().max() > 0.01  # the step is large enough to check


def counts(rows, size):
    return torch.bincount(rows, minlength=size).clamp(min=1).double()[:, None]


def test_loss_only_step_changes_nothing():
    model = trainer("word2vec", "skipgram")
    model.build(SENTENCES)
    before = {k: v.clone() for k, v in model.weights.items()}
    centre, context, valid = hand_batch(len(WORDS))
    negs = torch.zeros((int(valid.sum()), 2), dtype=torch.long)
    model.step(Batch(centre, context, valid, negs), None)
    for name, tensor in model.weights.items():
        assert torch.equal(tensor, before[name])


def test_glove_step_is_autograd_adagrad():
    model = TorchGloVe(vector_size=4, window=2, min_count=1, device="cpu", learning_rate=0.3)
    gen = torch.Generator().manual_seed(1)
    V, d = 6, 4
    params = {
        "W": torch.randn(V, d, generator=gen),
        "C": torch.randn(V, d, generator=gen),
        "bw": torch.randn(V, generator=gen),
        "bc": torch.randn(V, generator=gen),
    }
    params |= {f"g{k}": 1 + torch.rand(v.shape, generator=gen) for k, v in list(params.items())}
    i = torch.tensor([0, 2, 3, 5])  # distinct rows: AdaGrad's sums then add per row
    j = torch.tensor([1, 2, 4, 0])
    log_x = torch.rand(4, generator=gen) * 3
    weight = torch.rand(4, generator=gen)

    leaves = {k: params[k].double().clone().requires_grad_() for k in ("W", "C", "bw", "bc")}
    diff = (
        (leaves["W"][i] * leaves["C"][j]).sum(1)
        + leaves["bw"][i]
        + leaves["bc"][j]
        - log_x.double()
    )
    loss = 0.5 * (weight.double() * diff**2).sum()
    loss.backward()
    expected = {}
    for k, leaf in leaves.items():
        step = (model.learning_rate * leaf.grad).clamp(-model.grad_clip, model.grad_clip)
        expected[k] = leaf.detach() - step / params[f"g{k}"].double().sqrt()
        expected[f"g{k}"] = params[f"g{k}"].double() + step**2

    reported = model.step(params, i, j, log_x, weight)
    assert float(reported) == pytest.approx(loss.item(), rel=1e-5)
    for k, value in expected.items():
        np.testing.assert_allclose(params[k], value, rtol=1e-5, atol=1e-6, err_msg=k)

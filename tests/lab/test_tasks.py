"""The synthetic tasks and their trivial baselines."""

import math

import torch
import torch.nn.functional as F

from seqlab.lab import tasks


def test_adding_problem_marks_one_value_in_each_half_and_sums_them():
    x, y = tasks.adding_problem(64, 20, torch.Generator().manual_seed(1))
    assert x.shape == (20, 64, 2) and y.shape == (64, 1)
    marks = x[:, :, 1]
    assert (marks.sum(0) == 2).all()
    assert (marks[:10].sum(0) == 1).all() and (marks[10:].sum(0) == 1).all()
    assert torch.allclose((x[:, :, 0] * marks).sum(0), y[:, 0])


def test_adding_baseline_is_the_mse_of_answering_one():
    _, y = tasks.adding_problem(200_000, 4, torch.Generator().manual_seed(2))
    mse = F.mse_loss(torch.ones_like(y), y).item()
    assert abs(mse - tasks.ADDING_BASELINE_MSE) < 0.003


def test_copy_memory_layout():
    T = 7
    x, y = tasks.copy_memory(5, T, torch.Generator().manual_seed(3))
    assert x.shape == y.shape == (T + 20, 5)
    assert ((x[:10] >= 1) & (x[:10] <= 8)).all()
    assert (x[T + 9] == tasks.COPY_DELIMITER).all()
    assert (x[10 : T + 9] == 0).all() and (x[T + 10 :] == 0).all()
    assert (y[: T + 10] == 0).all() and (y[-10:] == x[:10]).all()


def test_copy_baseline_is_the_cross_entropy_of_the_memoryless_strategy():
    T = 30
    _, y = tasks.copy_memory(64, T, torch.Generator().manual_seed(4))
    logits = torch.full((T + 20, 64, tasks.COPY_ALPHABET + 1), -1e9)
    logits[: T + 10, :, 0] = 0.0  # certain blank while waiting
    logits[T + 10 :, :, 1:] = 0.0  # uniform over the 8 symbols when recalling
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
    assert math.isclose(ce, tasks.copy_baseline_ce(T), rel_tol=1e-5)
    assert math.isclose(tasks.copy_baseline_ce(T), 10 * math.log(8) / (T + 20))


def test_first_token_labels_the_first_token():
    x, y = tasks.first_token(50, 9, classes=4, vocab=12, generator=torch.Generator().manual_seed(5))
    assert x.shape == (9, 50) and (x[0] == y).all() and (y < 4).all() and (x < 12).all()

"""Bad input gives an RNNInputError that names the argument and what was expected."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from seqlab.nn import GRU, LSTM, RNN, LSTMCell, RNNCell, RNNInputError


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m(torch.randn(3, 2, 4, 1)), "input must be a tensor"),
        (lambda m: m(torch.randn(3, 2, 7)), r"input must have shape \(\*, \*, 4\)"),
        (lambda m: m(torch.randn(3, 2, 4, dtype=torch.float64)), "dtype torch.float64"),
        (lambda m: m(torch.randn(3, 2, 4).to(torch.int64)), "dtype torch.int64"),
        (lambda m: m(torch.randn(3, 2, 4), lengths=torch.tensor([3, 4])), "lengths must be <="),
        (lambda m: m(torch.randn(3, 2, 4), lengths=torch.tensor([3, 0])), "lengths must be >= 1"),
        (lambda m: m(torch.randn(3, 2, 4), lengths=torch.tensor([3])), "one entry per sequence"),
        (lambda m: m(torch.randn(3, 2, 4), lengths=torch.tensor([3.0, 1.0])), "integer dtype"),
        (
            lambda m: m(torch.randn(3, 2, 4), torch.zeros(1, 2, 5)),
            r"hx must have shape \(1, 2, 6\)",
        ),
        (
            lambda m: m(torch.randn(3, 2, 4), torch.zeros(1, 2, 6, dtype=torch.float64)),
            "hx has dtype",
        ),
        (lambda m: m(torch.randn(0, 2, 4)), "input is empty"),
        (lambda m: m([[1.0]]), "got list"),
        (
            lambda m: m(pack_padded_sequence(torch.randn(3, 2, 4), [3, 2]), lengths=[3, 2]),
            "not both",
        ),
    ],
)
def test_layer_input_errors(call, message):
    with pytest.raises(RNNInputError, match=message):
        call(RNN(4, 6))


def test_lstm_hx_must_be_a_pair():
    lstm = LSTM(4, 6)
    with pytest.raises(RNNInputError, match=r"tuple \(h_0, c_0\)"):
        lstm(torch.randn(3, 2, 4), torch.zeros(1, 2, 6))
    with pytest.raises(RNNInputError, match=r"hx\[1\] \(c_0\) must have shape"):
        lstm(torch.randn(3, 2, 4), (torch.zeros(1, 2, 6), torch.zeros(2, 2, 6)))


def test_batch_first_lengths_error_mentions_the_fix():
    gru = GRU(4, 6, batch_first=True)
    with pytest.raises(RNNInputError, match="batch_first"):
        gru(torch.randn(2, 3, 4), lengths=torch.tensor([5, 3]))


def test_constructor_errors():
    with pytest.raises(RNNInputError, match="nonlinearity must be one of"):
        RNN(4, 6, nonlinearity="softsign")
    with pytest.raises(RNNInputError, match="hidden_size must be a positive int"):
        LSTM(4, 0)
    with pytest.raises(RNNInputError, match="dropout must be a probability"):
        GRU(4, 6, num_layers=2, dropout=1.5)
    with pytest.raises(RNNInputError, match="nonlinearity"):
        RNNCell(4, 6, nonlinearity="gelu")


def test_cell_errors():
    cell = LSTMCell(4, 6)
    with pytest.raises(RNNInputError, match=r"input must have shape \(\*, 4\)"):
        cell(torch.randn(2, 5))
    with pytest.raises(RNNInputError, match=r"hx\[0\] \(h\) must have shape \(2, 6\)"):
        cell(torch.randn(2, 4), (torch.zeros(3, 6), torch.zeros(2, 6)))


def test_rnn_input_error_is_a_value_error():
    assert issubclass(RNNInputError, ValueError)

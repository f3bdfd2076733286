"""`RNN`, `LSTM` and `GRU`: thin subclasses of `RNNBase` naming the cell and its BPTT functions.

Each layer direction runs one ``torch.autograd.Function`` with a hand-written backward pass:
the reference (``seqlab.nn.reference``, the equations as written) or the fast one
(``seqlab.nn.bptt_*``); ``impl`` chooses, see ``seqlab.nn.implementation``.
"""

from seqlab.nn.base import RNNBase, RNNInputError
from seqlab.nn.bptt_gru import GRULayerFunction
from seqlab.nn.bptt_lstm import LSTMLayerFunction
from seqlab.nn.bptt_rnn import NONLINEARITIES, RNNLayerFunction
from seqlab.nn.gates import GRU_GATES, LSTM_GATES, RNN_GATES
from seqlab.nn.inference import (
    gru_forward,
    gru_step,
    last_state,
    lstm_forward,
    lstm_step,
    prepare_gru,
    prepare_lstm,
    prepare_rnn_tanh,
    rnn_tanh_forward,
    rnn_tanh_step,
)
from seqlab.nn.reference import (
    ReferenceGRUFunction,
    ReferenceLSTMFunction,
    ReferenceRNNFunction,
)

_SHARED_DOC = """
    Parameters
    ----------
    input_size, hidden_size : int
        Features of x_t and of h_t.
    num_layers : int, default 1
        Stacked layers; layer k+1 reads the outputs of layer k.
    bias : bool, default True
        Use ``b_ih`` and ``b_hh``.
    batch_first : bool, default False
        Input and output are (B, T, F) instead of (T, B, F).
    dropout : float, default 0.0
        Dropout on the outputs of every layer but the last (training mode only).
    bidirectional : bool, default False
        Add a second direction per layer that reads the sequence backwards; outputs are
        concatenated to 2·hidden_size features.
    keep_state_grads : bool, default False
        Record ``∂L/∂h_k`` for every step during ``backward`` (see ``state_grads``).
    impl : {"auto", "fast", "reference"}, default "auto"
        Keyword only. "reference" runs ``seqlab.nn.reference`` (the equations above, step by
        step, with their hand-written backward); "fast" the optimised loops of
        ``seqlab.nn.bptt_*`` (numba + oneDNN on CPU float32, torch ops elsewhere); "auto" the
        reference for float64 and the fast path otherwise. Both give the same results; the
        attribute ``impl`` can be changed later and is not part of ``state_dict``.

    Forward
    -------
    ``forward(input, hx=None, lengths=None, return_gates=False, keep_state_grads=None)``

    - ``input``: (T, B, input_size), (B, T, input_size) if batch_first, unbatched
      (T, input_size), or a ``PackedSequence``.
    - ``lengths``: optional 1-D integer tensor (B,) of true lengths (1 … T) of a padded batch.
      Outputs at padded positions are zero; final states are taken at each sequence's last step.
    - ``hx``: initial state(s) (num_layers·num_directions, B, hidden_size); zeros if omitted.
    - ``return_gates``: also return a dict of per-step activations, each
      (num_layers·num_directions, T, B, hidden_size), time-major, zero at padded positions.
    - ``keep_state_grads``: overrides the constructor's flag for this call. After
      ``loss.backward()``, ``module.state_grads`` is the total derivative ∂L/∂h_k of the top
      layer's output for every step k, shaped like the (padded) output, taken from the same
      hand-written backward pass.

    Returns
    -------
    - ``output``: (T, B, D·hidden_size) (batch_first: (B, T, D·hidden_size)), the top layer's
      h_t for every t, both directions concatenated (D = 2 if bidirectional else 1); a
      ``PackedSequence`` if the input was one.
    - final state(s) (num_layers·D, B, hidden_size): ``h_n`` (the LSTM: ``(h_n, c_n)``).
    - with ``return_gates``, the dict described above.

    Raises `RNNInputError` (a ValueError) naming the argument for wrong shapes, dtypes, devices,
    lengths outside 1 … T, or an unknown ``impl``.
"""


class RNN(RNNBase):
    __doc__ = (
        """Elman RNN: ``h_t = f(W_hh h_{t-1} + W_ih x_t + b_hh + b_ih)``, f = tanh | relu | sigmoid.

    For each layer and direction, with the lecture's ``W_xh = weight_ih`` and
    ``b_h = bias_ih + bias_hh``::

        h_t = f(W_xh x_t + W_hh h_{t-1} + b_h)          # x_t: (B, I), h_t: (B, H)
        backward:  δ_t = ∂L/∂h_t * f'(a_t),  ∂L/∂W_hh = Σ_t δ_t h_{t-1}ᵀ,  ∂L/∂h_{t-1} = W_hhᵀ δ_t

    This is exactly ``seqlab.nn.reference.ReferenceRNNFunction``, the step-by-step loop with its
    hand-written backward: read it to see the computation. By default (``impl="auto"``) float32
    runs the fast loops of ``seqlab.nn.bptt_rnn`` instead, which give the same results.

    Same constructor, parameters and returns as ``torch.nn.RNN`` (``(output, h_n)``), plus
    ``nonlinearity="sigmoid"``, which torch.nn lacks.

    Examples
    --------
    >>> import torch
    >>> rnn = RNN(3, 5, nonlinearity="sigmoid")
    >>> output, h_n = rnn(torch.randn(7, 2, 3), lengths=torch.tensor([7, 4]))
    >>> output.shape, h_n.shape, bool(output[4:, 1].eq(0).all())
    (torch.Size([7, 2, 5]), torch.Size([1, 2, 5]), True)
    >>> rnn.impl = "reference"  # the same function, step by step as the equations read
    >>> reference_output, _ = rnn(torch.randn(7, 2, 3))
    """
        + _SHARED_DOC
    )

    gate_layout = RNN_GATES

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        keep_state_grads=False,
        device=None,
        dtype=None,
        *,
        impl="auto",
    ):
        if nonlinearity not in NONLINEARITIES:
            raise RNNInputError(
                f"nonlinearity must be one of {', '.join(NONLINEARITIES)}; got {nonlinearity!r}"
            )
        self.nonlinearity = nonlinearity
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            keep_state_grads,
            device,
            dtype,
            impl=impl,
        )

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"

    def _run_direction(
        self, x, states, weights, batch_sizes, reverse, on_state_grads, slot, gates_wanted
    ):
        if self.nonlinearity == "tanh" and self.runs_without_grad():
            prepared = self.prepared_weights.get(slot, weights, prepare_rnn_tanh)
            if len(batch_sizes) == 1:  # one step, as when decoding
                h_n = rnn_tanh_step(x[0], states[0], prepared)
                return h_n.unsqueeze(0), (h_n,), {}
            y, steps = rnn_tanh_forward(x, *states, prepared, batch_sizes, reverse)
            return y, (last_state(y, states[0], steps),), {}
        function = ReferenceRNNFunction if self.uses_reference() else RNNLayerFunction
        y, h_n = function.apply(
            x, *states, *weights, self.nonlinearity, batch_sizes, reverse, on_state_grads
        )
        return y, (h_n,), {}


class LSTM(RNNBase):
    __doc__ = (
        """Long short-term memory, torch.nn's gate order i, f, g (= C~), o.

    For each layer and direction, with x_t (B, I), h_t and C_t (B, H)::

        i_t = σ(W_ii x_t + W_hi h_{t-1} + b_i)          input gate
        f_t = σ(W_if x_t + W_hf h_{t-1} + b_f)          forget gate
        g_t = tanh(W_ig x_t + W_hg h_{t-1} + b_g)       candidate cell C~_t
        o_t = σ(W_io x_t + W_ho h_{t-1} + b_o)          output gate
        C_t = f_t * C_{t-1} + i_t * g_t
        h_t = o_t * tanh(C_t)

    which is the lecture's ``f_t = σ(W_f·[h_{t-1}, x_t] + b_f)`` with ``W_f = [W_hf, W_if]``.
    ``weight_ih`` stacks ``W_ii, W_if, W_ig, W_io`` (4H, I) in that order
    (``seqlab.nn.LSTM_GATES``), ``weight_hh`` likewise (4H, H); ``b = bias_ih + bias_hh``.

    This is exactly ``seqlab.nn.reference.ReferenceLSTMFunction``, the step-by-step loop with
    its hand-written backward (``∂L/∂C_{t-1} = ∂L/∂C_t * f_t``, ``∂L/∂W_hh = Σ_t δ_t h_{t-1}ᵀ``):
    read it to see the computation. By default (``impl="auto"``) float32 runs the fast loops of
    ``seqlab.nn.bptt_lstm`` instead, which give the same results.

    Same constructor, parameters and returns as ``torch.nn.LSTM`` (``(output, (h_n, c_n))``,
    no ``proj_size``). ``return_gates`` yields "i", "f", "g", "o" and the cell states "c".

    Examples
    --------
    >>> import torch
    >>> lstm = LSTM(3, 5, batch_first=True)
    >>> output, (h_n, c_n), gates = lstm(torch.randn(2, 7, 3), return_gates=True)
    >>> sorted(gates), gates["f"].shape
    (['c', 'f', 'g', 'i', 'o'], torch.Size([1, 7, 2, 5]))
    >>> output.shape, c_n.shape
    (torch.Size([2, 7, 5]), torch.Size([1, 2, 5]))

    The reference and the fast path compute the same function:

    >>> x = torch.randn(2, 7, 3)
    >>> reference = LSTM(3, 5, batch_first=True, impl="reference")
    >>> reference.load_state_dict(lstm.state_dict())
    <All keys matched successfully>
    >>> reference
    LSTM(3, 5, batch_first=True, impl='reference')
    >>> torch.allclose(reference(x)[0], lstm(x)[0], atol=1e-6)
    True
    """
        + _SHARED_DOC
    )

    gate_layout = LSTM_GATES
    gate_names = (*LSTM_GATES.names, "c")
    state_count = 2

    def _run_direction(
        self, x, states, weights, batch_sizes, reverse, on_state_grads, slot, gates_wanted
    ):
        if self.runs_without_grad():
            prepared = self.prepared_weights.get(slot, weights, prepare_lstm)
            if len(batch_sizes) == 1:  # one step, as when decoding
                h_n, c_n, gates = lstm_step(x[0], *states, prepared)

                def named():
                    return {**LSTM_GATES.named(gates[None], dim=2), "c": c_n[None]}

                return h_n[None], (h_n, c_n), named
            y, final, cells, gates = lstm_forward(
                x, *states, prepared, batch_sizes, reverse, keep_gates=gates_wanted
            )
            return y, final, lambda: {**LSTM_GATES.named(gates, dim=2), "c": cells}
        function = ReferenceLSTMFunction if self.uses_reference() else LSTMLayerFunction
        y, h_n, c_n, gates, cells = function.apply(
            x, *states, *weights, batch_sizes, reverse, on_state_grads
        )
        return y, (h_n, c_n), {**LSTM_GATES.named(gates, dim=2), "c": cells}


class GRU(RNNBase):
    __doc__ = (
        """Gated recurrent unit, torch.nn's equations and gate order r, z, n.

    For each layer and direction, with x_t (B, I) and h_t (B, H)::

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))   candidate state
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    ``weight_ih`` stacks ``W_ir, W_iz, W_in`` (3H, I) in that order (``seqlab.nn.GRU_GATES``),
    ``weight_hh`` likewise (3H, H).

    This is exactly ``seqlab.nn.reference.ReferenceGRUFunction``, the step-by-step loop with its
    hand-written backward (``∂L/∂h_{t-1}`` gets ``∂L/∂h_t * z_t`` straight through): read it to
    see the computation. By default (``impl="auto"``) float32 runs the fast loops of
    ``seqlab.nn.bptt_gru`` instead, which give the same results.

    Same constructor, parameters and returns as ``torch.nn.GRU`` (``(output, h_n)``).
    ``return_gates`` yields "r", "z", "n".

    Examples
    --------
    >>> import torch
    >>> gru = GRU(3, 5, num_layers=2, bidirectional=True)
    >>> output, h_n = gru(torch.randn(7, 2, 3))
    >>> output.shape, h_n.shape
    (torch.Size([7, 2, 10]), torch.Size([4, 2, 5]))
    """
        + _SHARED_DOC
    )

    gate_layout = GRU_GATES
    gate_names = GRU_GATES.names

    def _run_direction(
        self, x, states, weights, batch_sizes, reverse, on_state_grads, slot, gates_wanted
    ):
        if self.runs_without_grad():
            prepared = self.prepared_weights.get(slot, weights, prepare_gru)
            if len(batch_sizes) == 1:  # one step, as when decoding
                h_n, gates = gru_step(x[0], *states, prepared)
                return h_n[None], (h_n,), lambda: GRU_GATES.named(gates[None], dim=2)
            y, gates, steps = gru_forward(x, *states, prepared, batch_sizes, reverse)
            return y, (last_state(y, states[0], steps),), lambda: GRU_GATES.named(gates, dim=2)
        function = ReferenceGRUFunction if self.uses_reference() else GRULayerFunction
        y, h_n, gates = function.apply(x, *states, *weights, batch_sizes, reverse, on_state_grads)
        return y, (h_n,), GRU_GATES.named(gates, dim=2)

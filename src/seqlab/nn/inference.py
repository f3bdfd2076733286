"""Forward passes without autograd: ``torch.no_grad``, ``torch.inference_mode`` and decoding.

When no gradient can be asked for, the layers and cells on CPU float32 skip their autograd
Functions: nothing is saved for backward, and the step kernels write only what the outputs need
(the LSTM keeps no ``tanh(C_t)``, the GRU no ``m_t = W_hn h_{t-1} + b_hn``). The computation is
the fast path's (``seqlab.nn.bptt_*``): the same rearranged weights, the same products and the
same gate arithmetic, so the results equal the training forward pass's.

Sampling and beam search call a cell, or a layer on one time step, once per token. What the
fast path prepares from the parameters — the weights with doubled tanh rows, the summed biases,
oneDNN's packed copies — is therefore kept per module in a `PreparedCache`, keyed on each
parameter's version counter and storage: an optimiser step, ``load_state_dict`` or ``.to()``
changes the key and the next call prepares again; a loop of calls with unchanged weights
prepares once.

Examples
--------
>>> import torch
>>> from seqlab.nn import LSTMCell
>>> cell = LSTMCell(3, 4)
>>> x, state = torch.randn(6, 2, 3), None
>>> with torch.inference_mode():
...     for x_t in x:  # one call per token: the weights are prepared once
...         state = cell(x_t, state)
>>> state[0].shape
torch.Size([2, 4])
"""

from collections.abc import Callable, Sequence

import numpy as np
import torch

from seqlab.nn import bptt_gru, bptt_lstm, bptt_rnn, native
from seqlab.nn.bptt_common import (
    ONEDNN_MIN_FLOPS,
    SEQUENCE_LOOP_MAX_ROWS,
    array,
    final_state,
    fused_forward,
    like_fused,
    loop_scratch,
    product,
    schedule,
    sequence_loops,
)
from seqlab.nn.implementation import runs_reference

# products kept per prepared weight: one per number of rows seen (batch sizes, T·B); beyond
# this many the cache starts again, so varying sequence lengths do not grow it without bound
_MAX_PRODUCTS = 8


def runs_without_grad(impl: str, like: torch.Tensor) -> bool:
    """Whether a module with `impl` and parameters like `like` takes the no-autograd path now."""
    return not torch.is_grad_enabled() and like_fused(like) and not runs_reference(impl, like)


class PreparedWeights:
    """One layer direction's weights as the fast path multiplies by them, with packed products.

    `w_ih` (G·H, I) and `bias` (G·H,) make the input projection, `w_hh` (G·H, H) the recurrent
    product; `b_hn` is the GRU's n rows of ``b_hh`` (None for the other cells).
    """

    def __init__(self, w_ih, w_hh, bias, b_hn=None):
        self.w_ih, self.w_hh, self.bias, self.b_hn = w_ih, w_hh, bias, b_hn
        self._products: dict[tuple[str, int], Callable] = {}
        self._w_hh_t: np.ndarray | None = None
        self._step_scratch: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._packed: torch.Tensor | None = None
        self._packed_ih: torch.Tensor | None = None

    def packed(self, compiled) -> torch.Tensor:
        """``W_hh`` packed by panels for the C++ loops (``seqlab.nn.native``), kept."""
        if self._packed is None:
            gates = self.w_hh.shape[0] // self.w_hh.shape[1]
            self._packed = compiled.pack_forward(self.w_hh, gates)
        return self._packed

    def packed_ih(self, compiled) -> torch.Tensor:
        """``W_ih`` packed likewise, for the input projections inside the C++ loops, kept."""
        if self._packed_ih is None:
            gates = self.w_hh.shape[0] // self.w_hh.shape[1]
            self._packed_ih = compiled.pack_forward(self.w_ih, gates)
        return self._packed_ih

    def step_scratch(self, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Scratch and coordinates of one step of `rows` rows for the compiled loops, kept."""
        found = self._step_scratch.get(rows)
        if found is None:
            steps = schedule([rows], reverse=False)
            found = self._step_scratch[rows] = loop_scratch(rows, self.w_hh.shape[0], steps)
        return found

    @property
    def w_hh_t(self) -> np.ndarray:
        """``W_hhᵀ`` (H, G·H), contiguous, for the loops of ``seqlab.nn.sequence_loops``."""
        if self._w_hh_t is None:
            self._w_hh_t = self.w_hh.t().contiguous().numpy()
        return self._w_hh_t

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """``x W_ihᵀ + b`` for x (M, I): the input projections of M (step, row) pairs."""
        return self._product("ih", self.w_ih, self.bias, x.shape[0])(x.contiguous())

    def recurrent(self, rows: int) -> Callable:
        """``h ↦ h W_hhᵀ`` for h of up to `rows` rows (a ``bptt_common.step_product``)."""
        return self._product("hh", self.w_hh, None, rows)

    def _product(self, name, weight, bias, rows):
        key = (name, rows)
        found = self._products.get(key)
        if found is None:
            if len(self._products) >= _MAX_PRODUCTS:
                self._products.clear()
            found = self._products[key] = product(weight, bias, rows, ONEDNN_MIN_FLOPS)
        return found


class PreparedCache:
    """`PreparedWeights` per layer direction (a slot) of one module, valid while its weights are.

    The key of a slot is each parameter's ``_version`` (bumped by every in-place change: an
    optimiser step, ``load_state_dict``, ``nn.init``) and ``data_ptr`` (changed by ``.to()``
    and by assigning a new parameter), and whether oneDNN is enabled. Parameters created inside
    ``torch.inference_mode()`` have no version counter: they are prepared at every call.
    """

    def __init__(self):
        self._slots: dict = {}

    def get(self, slot, weights: Sequence, prepare: Callable[..., PreparedWeights]):
        try:
            versions = [None if w is None else (w._version, w.data_ptr()) for w in weights]
        except RuntimeError:  # parameters made under inference_mode have no version counter,
            versions = None  # so a change could not be seen: prepare them at every call
        key = (torch.backends.mkldnn.enabled, versions)
        entry = self._slots.get(slot)
        if entry is not None and entry[0] == key and versions is not None:
            return entry[1]
        with torch.no_grad():
            prepared = prepare(*(None if w is None else w.detach() for w in weights))
        if versions is not None:
            self._slots[slot] = (key, prepared)
        return prepared

    def clear(self) -> None:
        """Forget every slot (the next call prepares again)."""
        self._slots.clear()

    def __getstate__(self) -> dict:
        # pickling or deep-copying a module carries no prepared weights: they hold oneDNN
        # tensors and closures, and the copy's parameters live elsewhere anyway
        return {"_slots": {}}


def prepare_lstm(w_ih, w_hh, b_ih, b_hh) -> PreparedWeights:
    w_ih2, w_hh2, bias2 = bptt_lstm.prepare_weights(w_ih, w_hh, b_ih, b_hh)
    return PreparedWeights(w_ih2, w_hh2, bias2)


def prepare_gru(w_ih, w_hh, b_ih, b_hh) -> PreparedWeights:
    w_ih2, bias, b_hn = bptt_gru.prepare_weights(w_ih, w_hh, b_ih, b_hh)
    return PreparedWeights(w_ih2, w_hh.contiguous(), bias, b_hn.contiguous())


def prepare_rnn_tanh(w_ih, w_hh, b_ih, b_hh) -> PreparedWeights:
    w_ih2, w_hh2, bias2 = bptt_rnn.prepare_weights(w_ih, w_hh, b_ih, b_hh, "tanh")
    return PreparedWeights(w_ih2, w_hh2, bias2)


def last_state(states: torch.Tensor, init: torch.Tensor, steps) -> torch.Tensor:
    """The state after each row's true last step (B, H): a view of `states` when one step holds
    them all (the layer stacks the final states into new tensors anyway), else a copy."""
    last = steps[-1]
    if last.active == init.shape[0]:
        return states[last.t]
    return final_state(states, init, steps)


def lstm_forward(x, h0, c0, prepared: PreparedWeights, batch_sizes, reverse, keep_gates=True):
    """One LSTM layer direction without autograd: ``(y, (h_n, c_n), cells, gates)``.

    `x` (T, B, I) length-sorted and time-major, `h0`/`c0` (B, H). `y` and `cells` (T, B, H)
    hold h_t and C_t, `gates` (T, B, 4H) the activated i, f, g, o, and `h_n`, `c_n` (B, H) each
    row's state after its last step. Without `keep_gates` the C++ loops write no gates (four
    times the output's size in memory traffic; `gates` is None) and, where every row's last
    step is the same one, keep the cell states of two steps only (`cells` is None too).
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    steps = schedule(batch_sizes, reverse)
    new = x.new_zeros if batch_sizes[-1] < B else x.new_empty  # padded positions read zero
    y = new(T, B, H)
    compiled = native.loops()
    if compiled is not None:  # all steps, input projections included, in one C++ call
        last = steps[-1]
        two_slots = not keep_gates and last.active == B and T > 2
        cells = x.new_empty(2, B, H) if two_slots else new(T, B, H)  # step t: slot t % 2
        gates = new(T, B, 4 * H) if keep_gates else None
        h0, c0 = h0.contiguous(), c0.contiguous()
        compiled.lstm_forward(
            gates, prepared.packed(compiled), cells, None, y, h0, c0, steps.coordinates,
            x.contiguous(), prepared.packed_ih(compiled), prepared.bias,
        )  # fmt: skip
        if two_slots:
            return y, (y[last.t], cells[last.t % 2]), None, None
        return y, (last_state(y, h0, steps), last_state(cells, c0, steps)), cells, gates
    from seqlab.nn.fused_steps import lstm_inference_step  # the numba path, only where it runs

    cells = new(T, B, H)
    gates = prepared.project(x.reshape(T * B, -1)).view(T, B, 4 * H)
    if B <= SEQUENCE_LOOP_MAX_ROWS:
        sequence_loops().lstm_sequence(
            gates.numpy(), prepared.w_hh_t, cells.numpy(), y.numpy(), array(h0), array(c0),
            *loop_scratch(B, 4 * H, steps),
        )  # fmt: skip
    else:
        after = cells.numpy(), y.numpy(), array(c0)
        recurrent = prepared.recurrent(B)
        fused_forward(lstm_inference_step, recurrent, y, h0, steps, (gates.numpy(),), after)
    return y, (last_state(y, h0, steps), last_state(cells, c0, steps)), cells, gates


def gru_forward(x, h0, prepared: PreparedWeights, batch_sizes, reverse):
    """One GRU layer direction without autograd: ``(y, gates, steps)`` (see `lstm_forward`)."""
    T, B, _ = x.shape
    H = h0.shape[1]
    steps = schedule(batch_sizes, reverse)
    new = x.new_zeros if batch_sizes[-1] < B else x.new_empty  # padded positions read zero
    y = new(T, B, H)
    compiled = native.loops()
    if compiled is not None:  # all steps, input projections included, in one C++ call
        gates = new(T, B, 3 * H)
        compiled.gru_forward(
            gates, prepared.packed(compiled), prepared.b_hn, None, y, h0.contiguous(),
            steps.coordinates, x.contiguous(), prepared.packed_ih(compiled), prepared.bias,
        )  # fmt: skip
        return y, gates, steps
    from seqlab.nn.fused_steps import gru_inference_step  # the numba path, only where it runs

    gates = prepared.project(x.reshape(T * B, -1)).view(T, B, 3 * H)
    if B <= SEQUENCE_LOOP_MAX_ROWS:
        sequence_loops().gru_sequence(
            gates.numpy(), prepared.w_hh_t, prepared.b_hn.numpy(), y.numpy(), array(h0),
            *loop_scratch(B, 3 * H, steps),
        )  # fmt: skip
        return y, gates, steps
    after = array(prepared.b_hn, ndim=1), y.numpy(), array(h0)
    fused_forward(gru_inference_step, prepared.recurrent(B), y, h0, steps, (gates.numpy(),), after)
    return y, gates, steps


def rnn_tanh_forward(x, h0, prepared: PreparedWeights, batch_sizes, reverse):
    """One tanh RNN layer direction without autograd: ``(y, steps)`` (see `lstm_forward`)."""
    T, B, _ = x.shape
    steps = schedule(batch_sizes, reverse)
    compiled = native.loops()
    if compiled is not None:  # all steps, input projections included, in one C++ call
        y = x.new_empty(T, B, h0.shape[1])  # rows past each step's end get zeros there
        compiled.rnn_tanh_forward(
            y, prepared.packed(compiled), h0.contiguous(), steps.coordinates, x.contiguous(),
            prepared.packed_ih(compiled), prepared.bias,
        )  # fmt: skip
        return y, steps
    from seqlab.nn.fused_steps import rnn_tanh_forward_step  # the numba path, only where it runs

    y = prepared.project(x.reshape(T * B, -1)).view(T, B, -1)  # step t turns y[t] into h_t
    if B <= SEQUENCE_LOOP_MAX_ROWS:
        loop = sequence_loops().rnn_tanh_sequence
        loop(y.numpy(), prepared.w_hh_t, array(h0), *loop_scratch(B, y.shape[2], steps))
        return y, steps
    fused_forward(rnn_tanh_forward_step, prepared.recurrent(B), y, h0, steps, (y.numpy(),), ())
    return y, steps


def lstm_step(x, h, c, prepared: PreparedWeights):
    """One LSTM step without autograd: ``(h', c', gates)``; x (B, I), h' and c' (B, H), the
    activated gates i, f, g, o (B, 4H).

    What a sampling loop calls once per token: two products and one kernel call, nothing else.
    """
    B, H = h.shape
    compiled = native.loops()
    if compiled is not None:  # projection, recurrent product and gates in one C++ call
        packed_ih, packed_hh = prepared.packed_ih(compiled), prepared.packed(compiled)
        return compiled.lstm_step(x, h, c, packed_ih, prepared.bias, packed_hh)
    from seqlab.nn.fused_steps import lstm_inference_step  # the numba path, only where it runs

    gates = prepared.project(x)
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # the recurrent product inside the compiled loop
        h_new, c_new = x.new_empty(1, B, H), x.new_empty(1, B, H)
        sequence_loops().lstm_sequence(
            gates.view(1, B, 4 * H).numpy(), prepared.w_hh_t, c_new.numpy(), h_new.numpy(),
            array(h), array(c), *prepared.step_scratch(B),
        )  # fmt: skip
        return h_new[0], c_new[0], gates
    rec = prepared.recurrent(B)(h)
    h_new, c_new = x.new_empty(1, B, H), x.new_empty(1, B, H)
    lstm_inference_step(
        gates.view(1, B, 4 * H).numpy(),
        rec.numpy(),
        c_new.numpy(),
        h_new.numpy(),
        array(c),
        0,
        -1,
        0,
        B,
    )
    return h_new[0], c_new[0], gates


def gru_step(x, h, prepared: PreparedWeights):
    """One GRU step without autograd: ``(h', gates)``, gates r, z, n (B, 3H) (see `lstm_step`)."""
    B, H = h.shape
    compiled = native.loops()
    if compiled is not None:  # projection, recurrent product and gates in one C++ call
        packed_ih, packed_hh = prepared.packed_ih(compiled), prepared.packed(compiled)
        return compiled.gru_step(x, h, packed_ih, prepared.bias, packed_hh, prepared.b_hn)
    from seqlab.nn.fused_steps import gru_inference_step  # the numba path, only where it runs

    gates = prepared.project(x)
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # the recurrent product inside the compiled loop
        h_new = x.new_empty(1, B, H)
        sequence_loops().gru_sequence(
            gates.view(1, B, 3 * H).numpy(), prepared.w_hh_t, prepared.b_hn.numpy(),
            h_new.numpy(), array(h), *prepared.step_scratch(B),
        )  # fmt: skip
        return h_new[0], gates
    rec = prepared.recurrent(B)(h)
    h_new = x.new_empty(1, B, H)
    gru_inference_step(
        gates.view(1, B, 3 * H).numpy(),
        rec.numpy(),
        prepared.b_hn.numpy(),
        h_new.numpy(),
        array(h),
        0,
        -1,
        0,
        B,
    )
    return h_new[0], gates


def rnn_tanh_step(x, h, prepared: PreparedWeights):
    """One tanh RNN step without autograd: h' (B, H); x (B, I) (see `lstm_step`)."""
    B = h.shape[0]
    compiled = native.loops()
    if compiled is not None:  # projection, recurrent product and tanh in one C++ call
        packed_ih, packed_hh = prepared.packed_ih(compiled), prepared.packed(compiled)
        return compiled.rnn_tanh_step(x, h, packed_ih, prepared.bias, packed_hh)
    from seqlab.nn.fused_steps import rnn_tanh_forward_step  # the numba path, only where it runs

    y = prepared.project(x)  # 2(W_ih x + b), turned into h' in place
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # the recurrent product inside the compiled loop
        loop = sequence_loops().rnn_tanh_sequence
        loop(y.view(1, B, -1).numpy(), prepared.w_hh_t, array(h), *prepared.step_scratch(B))
        return y
    rec = prepared.recurrent(B)(h)
    rnn_tanh_forward_step(y.view(1, B, -1).numpy(), rec.numpy(), 0, -1, 0, B)
    return y

r"""The reference implementation: each recurrent layer written exactly as its equations read.

One ``torch.autograd.Function`` per cell — `ReferenceRNNFunction`, `ReferenceLSTMFunction`,
`ReferenceGRUFunction` — whose ``forward`` walks the time axis one step at a time and whose
``backward`` (written by hand, not by autograd) walks it back, undoing one step at a time. Read
each ``backward`` next to its ``forward``: every line of the backward differentiates one line of
the forward. There is no optimisation here: ``torch.sigmoid`` and ``torch.tanh``, one gate per
line, new tensors instead of in-place updates, and every weight gradient accumulated as the sum
the lecture writes, ``∂L/∂W_hh = Σ_t δ_t h_{t-1}ᵀ``.

This is the path that float64 takes (``gradcheck``), and any layer built with
``impl="reference"`` or run inside ``seqlab.nn.reference_mode()``. The fast paths in
``seqlab.nn.bptt_*`` compute the same function with the same signature and are tested against
this one.

Conventions shared by the three functions:

- ``x`` is time-major (T, B, I) and sorted by length, longest first, so that at step t the
  sequences still running are the first ``batch_sizes[t]`` rows (the layout of a
  ``PackedSequence``). All other rows are padding at step t: their output is zero.
- The state ``h`` (B, H) of every sequence is carried from step to step. A step updates the
  running rows only; the other rows keep their state: a sequence that has ended keeps its last
  state (which is therefore ``h_n``), and in the reverse direction (``reverse=True``: t = T-1 … 0)
  a sequence that has not started yet still holds ``h_0`` when it joins.
- Backward carries ``δh = ∂L/∂h`` of that state the same way, from the last visited step to the
  first; rows that did not take a step pass their ``δh`` through unchanged. At step t,
  ``δh_t = ∂L/∂y_t + δh`` is the *total* derivative of the loss with respect to h_t: through the
  output y_t = h_t, and through every later step.

>>> import torch
>>> T, B, I, H = 5, 2, 3, 4
>>> x, h0, c0 = torch.randn(T, B, I), torch.zeros(B, H), torch.zeros(B, H)
>>> w_ih, w_hh = torch.randn(4 * H, I), torch.randn(4 * H, H)
>>> y, h_n, c_n, gates, cells = ReferenceLSTMFunction.apply(
...     x, h0, c0, w_ih, w_hh, None, None, [B] * T, False, None
... )
>>> y.shape, bool(torch.equal(y[-1], h_n))
(torch.Size([5, 2, 4]), True)
"""

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from seqlab.nn.gates import GRU_GATES, LSTM_GATES

#: The activation of the Elman RNN, and the step back through it: δ = ∂L/∂a = ∂L/∂h · f'(a),
#: written with h = f(a), which the forward pass keeps. relu's f'(a) is 1 where a > 0, else 0;
#: it is a selection, as in torch, so that a NaN in ∂L/∂h where h <= 0 gives 0, not 0·NaN.
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}
BACKWARD = {
    "tanh": lambda h, dh: dh * (1 - h**2),
    "relu": lambda h, dh: torch.where(h <= 0, 0, dh),
    "sigmoid": lambda h, dh: dh * h * (1 - h),
}


def time_steps(T: int, reverse: bool) -> range:
    """The time steps in the order a direction visits them."""
    return range(T - 1, -1, -1) if reverse else range(T)


def stack_padded(rows: list[torch.Tensor], B: int) -> torch.Tensor:
    """Per-step tensors (rows_t, K), in time order, stacked to (T, B, K) with zero padding rows."""
    return torch.stack([F.pad(r, (0, 0, 0, B - r.shape[0])) for r in rows])


def bias_or_zeros(b: torch.Tensor | None, weight: torch.Tensor) -> torch.Tensor:
    """`b`, or zeros of the right size for a layer built with ``bias=False``."""
    return weight.new_zeros(weight.shape[0]) if b is None else b


class Step:
    """What the backward pass needs from one forward step: its position, inputs and activations.

    ``t`` the time step, ``running`` the rows that took it, ``x`` and ``h_prev`` their inputs;
    the keywords name the step's activations (``s.f`` is the forget gate of step ``s.t``).
    """

    def __init__(self, t: int, running: int, x, h_prev, **activations: torch.Tensor):
        self.t, self.running, self.x, self.h_prev = t, running, x, h_prev
        self.__dict__.update(activations)


class ReferenceRNNFunction(torch.autograd.Function):
    r"""Elman RNN, one layer, one direction: ``h_t = f(W_xh x_t + W_hh h_{t-1} + b_h)``.

    The lecture's ``W_xh`` is torch.nn's ``weight_ih`` and ``b_h = b_ih + b_hh``; f is tanh,
    relu or σ. Same signature as ``bptt_rnn.RNNLayerFunction``: inputs ``x`` (T, B, I), ``h0``
    (B, H), ``w_ih`` (H, I), ``w_hh`` (H, H), ``b_ih``/``b_hh`` (H,) or None, ``nonlinearity``,
    ``batch_sizes``, ``reverse``, ``on_state_grads``; outputs ``y`` (T, B, H) and ``h_n`` (B, H).
    """

    @staticmethod
    def forward(
        ctx, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, batch_sizes, reverse, on_state_grads
    ):
        T, B, _ = x.shape
        W_xh, W_hh = w_ih, w_hh
        b_h = bias_or_zeros(b_ih, w_ih) + bias_or_zeros(b_hh, w_hh)
        f = ACTIVATIONS[nonlinearity]
        h = h0  # (B, H): the state of every sequence
        outputs, tape = [None] * T, []
        for t in time_steps(T, reverse):
            running = batch_sizes[t]  # rows [:running] take step t, the others are padding
            x_t, h_prev = x[t, :running], h[:running]
            h_t = f(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
            tape.append(Step(t, running, x_t, h_prev, h=h_t))
            outputs[t] = h_t
            h = torch.cat((h_t, h[running:]))  # the other rows keep their state
        ctx.save_for_backward(w_ih, w_hh)
        ctx.tape, ctx.nonlinearity, ctx.on_state_grads = tape, nonlinearity, on_state_grads
        ctx.has_bias = b_ih is not None
        return stack_padded(outputs, B), h

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n):
        W_xh, W_hh = ctx.saved_tensors
        T, B, _ = dy.shape
        through_f = BACKWARD[ctx.nonlinearity]
        dW_xh, dW_hh = torch.zeros_like(W_xh), torch.zeros_like(W_hh)
        db_h = W_hh.new_zeros(W_hh.shape[0])
        dx, state_grads = [None] * T, [None] * T
        dh = dh_n  # ∂L/∂h of the carried state, (B, H)
        for s in reversed(ctx.tape):
            dh_t = dh[: s.running] + dy[s.t, : s.running]  # total derivative ∂L/∂h_t
            delta_t = through_f(s.h, dh_t)  # δ_t = ∂L/∂a_t = ∂L/∂h_t · f'(a_t)
            dW_xh = dW_xh + delta_t.T @ s.x  # ∂L/∂W_xh = Σ_t δ_t x_tᵀ
            dW_hh = dW_hh + delta_t.T @ s.h_prev  # ∂L/∂W_hh = Σ_t δ_t h_{t-1}ᵀ
            db_h = db_h + delta_t.sum(0)  # ∂L/∂b_h = Σ_t δ_t
            dx[s.t] = delta_t @ W_xh  # ∂L/∂x_t = W_xhᵀ δ_t
            dh = torch.cat((delta_t @ W_hh, dh[s.running :]))  # ∂L/∂h_{t-1} = W_hhᵀ δ_t
            state_grads[s.t] = dh_t
        if ctx.on_state_grads is not None:
            ctx.on_state_grads(stack_padded(state_grads, B))
        # b_ih and b_hh enter as one sum b_h: both get ∂L/∂b_h (each its own tensor)
        db_ih, db_hh = (db_h, db_h.clone()) if ctx.has_bias else (None, None)
        return stack_padded(dx, B), dh, dW_xh, dW_hh, db_ih, db_hh, None, None, None, None


class ReferenceLSTMFunction(torch.autograd.Function):
    r"""LSTM, one layer, one direction, torch.nn's gate order i, f, g (= C~), o.

    Same signature as ``bptt_lstm.LSTMLayerFunction``: inputs ``x`` (T, B, I), ``h0``/``c0``
    (B, H), ``w_ih`` (4H, I), ``w_hh`` (4H, H), ``b_ih``/``b_hh`` (4H,) or None,
    ``batch_sizes``, ``reverse``, ``on_state_grads``; outputs ``y`` (T, B, H), ``h_n``, ``c_n``
    (B, H) and, not differentiable, the gates i, f, g, o (T, B, 4H) and cell states (T, B, H).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, on_state_grads):
        T, B, _ = x.shape
        W_ii, W_if, W_ig, W_io = LSTM_GATES.split(w_ih)  # one (H, I) block per gate
        W_hi, W_hf, W_hg, W_ho = LSTM_GATES.split(w_hh)  # one (H, H) block per gate
        b = bias_or_zeros(b_ih, w_ih) + bias_or_zeros(b_hh, w_hh)
        b_i, b_f, b_g, b_o = LSTM_GATES.split(b)
        h, c = h0, c0  # (B, H): hidden and cell state of every sequence
        outputs, gates, cells, tape = [None] * T, [None] * T, [None] * T, []
        for t in time_steps(T, reverse):
            running = batch_sizes[t]  # rows [:running] take step t, the others are padding
            x_t, h_prev, c_prev = x[t, :running], h[:running], c[:running]
            i = torch.sigmoid(x_t @ W_ii.T + h_prev @ W_hi.T + b_i)  # input gate
            f = torch.sigmoid(x_t @ W_if.T + h_prev @ W_hf.T + b_f)  # forget gate
            g = torch.tanh(x_t @ W_ig.T + h_prev @ W_hg.T + b_g)  # candidate cell C~_t
            o = torch.sigmoid(x_t @ W_io.T + h_prev @ W_ho.T + b_o)  # output gate
            c_t = f * c_prev + i * g  # C_t = f_t * C_{t-1} + i_t * C~_t
            tanh_c = torch.tanh(c_t)
            h_t = o * tanh_c  # h_t = o_t * tanh(C_t)
            tape.append(
                Step(t, running, x_t, h_prev, c_prev=c_prev, i=i, f=f, g=g, o=o, tanh_c=tanh_c)
            )
            outputs[t], gates[t], cells[t] = h_t, LSTM_GATES.join(i=i, f=f, g=g, o=o, dim=1), c_t
            h = torch.cat((h_t, h[running:]))  # the other rows keep their state
            c = torch.cat((c_t, c[running:]))
        gates, cells = stack_padded(gates, B), stack_padded(cells, B)
        ctx.save_for_backward(w_ih, w_hh)
        ctx.tape, ctx.on_state_grads, ctx.has_bias = tape, on_state_grads, b_ih is not None
        ctx.mark_non_differentiable(gates, cells)
        return stack_padded(outputs, B), h, c, gates, cells

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n, dc_n, _d_gates, _d_cells):
        w_ih, w_hh = ctx.saved_tensors
        T, B, _ = dy.shape
        dW_ih, dW_hh = torch.zeros_like(w_ih), torch.zeros_like(w_hh)
        db = w_hh.new_zeros(w_hh.shape[0])
        dx, state_grads = [None] * T, [None] * T
        dh, dc = dh_n, dc_n  # ∂L/∂h and ∂L/∂C of the carried state, (B, H)
        for s in reversed(ctx.tape):
            dh_t = dh[: s.running] + dy[s.t, : s.running]  # total derivative ∂L/∂h_t
            # h_t = o_t * tanh(C_t)
            do = dh_t * s.tanh_c
            dc_t = dc[: s.running] + dh_t * s.o * (1 - s.tanh_c**2)  # ∂L/∂C_t: via C_{t+1} and h_t
            # C_t = f_t * C_{t-1} + i_t * C~_t
            df = dc_t * s.c_prev
            di = dc_t * s.g
            dg = dc_t * s.i
            # through the activations to the pre-activations: σ' = σ(1-σ), tanh' = 1 - tanh²
            delta_t = LSTM_GATES.join(
                i=di * s.i * (1 - s.i),
                f=df * s.f * (1 - s.f),
                g=dg * (1 - s.g**2),
                o=do * s.o * (1 - s.o),
                dim=1,
            )  # δ_t (running, 4H), in the rows of the stacked weights
            dW_ih = dW_ih + delta_t.T @ s.x  # ∂L/∂W_ih = Σ_t δ_t x_tᵀ
            dW_hh = dW_hh + delta_t.T @ s.h_prev  # ∂L/∂W_hh = Σ_t δ_t h_{t-1}ᵀ
            db = db + delta_t.sum(0)  # ∂L/∂b = Σ_t δ_t
            dx[s.t] = delta_t @ w_ih  # ∂L/∂x_t = W_ihᵀ δ_t
            dh = torch.cat((delta_t @ w_hh, dh[s.running :]))  # ∂L/∂h_{t-1} = W_hhᵀ δ_t
            dc = torch.cat((dc_t * s.f, dc[s.running :]))  # ∂L/∂C_{t-1} = ∂L/∂C_t * f_t
            state_grads[s.t] = dh_t
        if ctx.on_state_grads is not None:
            ctx.on_state_grads(stack_padded(state_grads, B))
        # b_ih and b_hh enter as one sum: both get ∂L/∂b (each its own tensor)
        db_ih, db_hh = (db, db.clone()) if ctx.has_bias else (None, None)
        return stack_padded(dx, B), dh, dc, dW_ih, dW_hh, db_ih, db_hh, None, None, None


class ReferenceGRUFunction(torch.autograd.Function):
    r"""GRU, one layer, one direction, torch.nn's equations and gate order r, z, n.

    Same signature as ``bptt_gru.GRULayerFunction``: inputs ``x`` (T, B, I), ``h0`` (B, H),
    ``w_ih`` (3H, I), ``w_hh`` (3H, H), ``b_ih``/``b_hh`` (3H,) or None, ``batch_sizes``,
    ``reverse``, ``on_state_grads``; outputs ``y`` (T, B, H), ``h_n`` (B, H) and, not
    differentiable, the gates r, z, n (T, B, 3H).
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, on_state_grads):
        T, B, _ = x.shape
        W_ir, W_iz, W_in = GRU_GATES.split(w_ih)  # one (H, I) block per gate
        W_hr, W_hz, W_hn = GRU_GATES.split(w_hh)  # one (H, H) block per gate
        b_ir, b_iz, b_in = GRU_GATES.split(bias_or_zeros(b_ih, w_ih))
        b_hr, b_hz, b_hn = GRU_GATES.split(bias_or_zeros(b_hh, w_hh))
        h = h0  # (B, H): the state of every sequence
        outputs, gates, tape = [None] * T, [None] * T, []
        for t in time_steps(T, reverse):
            running = batch_sizes[t]  # rows [:running] take step t, the others are padding
            x_t, h_prev = x[t, :running], h[:running]
            r = torch.sigmoid(x_t @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)  # reset gate
            z = torch.sigmoid(x_t @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz)  # update gate
            m = h_prev @ W_hn.T + b_hn  # the part of the candidate that r scales
            n = torch.tanh(x_t @ W_in.T + b_in + r * m)  # candidate state
            h_t = (1 - z) * n + z * h_prev
            tape.append(Step(t, running, x_t, h_prev, r=r, z=z, m=m, n=n))
            outputs[t], gates[t] = h_t, GRU_GATES.join(r=r, z=z, n=n, dim=1)
            h = torch.cat((h_t, h[running:]))  # the other rows keep their state
        gates = stack_padded(gates, B)
        ctx.save_for_backward(w_ih, w_hh)
        ctx.tape, ctx.on_state_grads, ctx.has_bias = tape, on_state_grads, b_ih is not None
        ctx.mark_non_differentiable(gates)
        return stack_padded(outputs, B), h, gates

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n, _d_gates):
        w_ih, w_hh = ctx.saved_tensors
        T, B, _ = dy.shape
        dW_ih, dW_hh = torch.zeros_like(w_ih), torch.zeros_like(w_hh)
        db_ih, db_hh = w_ih.new_zeros(w_ih.shape[0]), w_hh.new_zeros(w_hh.shape[0])
        dx, state_grads = [None] * T, [None] * T
        dh = dh_n  # ∂L/∂h of the carried state, (B, H)
        for s in reversed(ctx.tape):
            dh_t = dh[: s.running] + dy[s.t, : s.running]  # total derivative ∂L/∂h_t
            # h_t = (1 - z_t) * n_t + z_t * h_{t-1}
            dn = dh_t * (1 - s.z)
            dz = dh_t * (s.h_prev - s.n)
            # n_t = tanh(W_in x_t + b_in + r_t * m_t), m_t = W_hn h_{t-1} + b_hn
            dn_pre = dn * (1 - s.n**2)  # through tanh
            dr = dn_pre * s.m
            dm = dn_pre * s.r
            # r_t and z_t: through σ
            dr_pre = dr * s.r * (1 - s.r)
            dz_pre = dz * s.z * (1 - s.z)
            # δ of W_ih x_t + b_ih and of W_hh h_{t-1} + b_hh: they differ in the n rows only
            delta_i = GRU_GATES.join(r=dr_pre, z=dz_pre, n=dn_pre, dim=1)
            delta_h = GRU_GATES.join(r=dr_pre, z=dz_pre, n=dm, dim=1)
            dW_ih = dW_ih + delta_i.T @ s.x  # ∂L/∂W_ih = Σ_t δi_t x_tᵀ
            dW_hh = dW_hh + delta_h.T @ s.h_prev  # ∂L/∂W_hh = Σ_t δh_t h_{t-1}ᵀ
            db_ih = db_ih + delta_i.sum(0)
            db_hh = db_hh + delta_h.sum(0)
            dx[s.t] = delta_i @ w_ih  # ∂L/∂x_t = W_ihᵀ δi_t
            # ∂L/∂h_{t-1}: straight through z_t (the GRU's additive path), and through W_hh
            dh = torch.cat((dh_t * s.z + delta_h @ w_hh, dh[s.running :]))
            state_grads[s.t] = dh_t
        if ctx.on_state_grads is not None:
            ctx.on_state_grads(stack_padded(state_grads, B))
        if not ctx.has_bias:
            db_ih = db_hh = None
        return stack_padded(dx, B), dh, dW_ih, dW_hh, db_ih, db_hh, None, None, None

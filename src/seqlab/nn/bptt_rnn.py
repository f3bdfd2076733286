r"""One Elman RNN layer, one direction: the fast forward pass and its hand-written backward (BPTT).

The same function as ``seqlab.nn.reference.ReferenceRNNFunction`` (read that one first), with
the performance tricks the reference leaves out: all input projections in one product before
the loop, ``tanh(a) = 2σ(2a) − 1`` on weights scaled by 2, preallocated buffers written in
place, and two loops — torch ops (``_forward_steps``/``_backward_steps``: CUDA, relu and σ, and
CPU dtypes other than float32) or per step one product and one numba kernel
(``_forward_fused``/``_backward_fused``: tanh on CPU float32).

Forward, per step, with ``f`` = tanh, relu or the logistic sigmoid σ::

    h_t = f(W_hh h_{t-1} + W_ih x_t + b_hh + b_ih)

(the lecture's ``W_xh`` is torch.nn's ``W_ih``; ``b_h = b_ih + b_hh``).

Backward walks ``t = T … 1`` carrying ``δh``. With ``δh_t = ∂L/∂h_t`` the total derivative
(the output's own gradient plus what flows back from step t+1)::

    δ_t = δh_t * f'(a_t)            (tanh: 1 - h_t²;  σ: h_t(1 - h_t);  relu: [h_t > 0])
    δh  ← W_hhᵀ δ_t                  (= δh_t ∂h_t/∂h_{t-1})

so ``∂h_t/∂h_k = Π_{j=k}^{t-1} ∂h_{j+1}/∂h_j = Π_j W_hhᵀ diag f'(a_{j+1})``: a product of
t-k Jacobians, which vanishes (σ: f' ≤ 1/4) or explodes with the spectrum of W_hh. After the
sweep: ``∂L/∂W_hh = Σ_t δ_t h_{t-1}ᵀ``, ``∂L/∂W_ih = Σ_t δ_t x_tᵀ``, ``∂L/∂b = Σ_t δ_t``, each
one matrix product over the stacked time axis.
"""

import torch
from torch.autograd.function import once_differentiable

from seqlab.nn import native
from seqlab.nn.bptt_common import (
    SEQUENCE_LOOP_MAX_ROWS,
    array,
    carried_grad,
    final_state,
    fused_backward,
    fused_forward,
    fused_kernels,
    linear,
    loop_scratch,
    own_copy,
    previous_rows,
    recurrent_weight_grad,
    schedule,
    sequence_loops,
    step_product,
    total_derivative,
)

NONLINEARITIES = ("tanh", "relu", "sigmoid")


class RNNLayerFunction(torch.autograd.Function):
    """Autograd function of one RNN layer direction over a length-sorted, time-major batch.

    Inputs: ``x`` (T, B, I), ``h0`` (B, H), ``w_ih`` (H, I), ``w_hh`` (H, H), ``b_ih``/``b_hh``
    (H,) or None, ``nonlinearity``, ``batch_sizes`` (running rows per step), ``reverse``,
    ``on_state_grads`` (called with ∂L/∂h_t (T, B, H) during backward, or None).
    Outputs: ``y`` (T, B, H) and ``h_n`` (B, H).
    """

    @staticmethod
    def forward(
        ctx, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, batch_sizes, reverse, on_state_grads
    ):
        T, B, _ = x.shape
        steps = schedule(batch_sizes, reverse)
        w_ih2, w_hh2, bias = prepare_weights(w_ih, w_hh, b_ih, b_hh, nonlinearity)
        compiled = native.loops_for(x) if nonlinearity == "tanh" else None
        if compiled is not None:  # all steps, input projections included, in one C++ call
            y = x.new_empty(T, B, w_hh.shape[1])  # rows past each step's end get zeros there
            compiled.rnn_tanh_forward(
                y, compiled.pack_forward(w_hh2, 1), h0.contiguous(), steps.coordinates,
                x.contiguous(), compiled.pack_forward(w_ih2, 1), bias,
            )  # fmt: skip
        else:
            # y (T, B, H) starts as every W_ih x_t + b at once; step t turns y[t] into h_t in place
            y = linear(x.reshape(T * B, -1), w_ih2, bias).view(T, B, -1)
            fused = fused_kernels(x) if nonlinearity == "tanh" else None
            if fused is not None:  # the same loop: W_hh h_{t-1} by oneDNN, tanh in one pass
                _forward_fused(fused, y, h0, w_hh2, steps)
            else:
                _forward_steps(y, h0, w_hh2, _ACTIVATIONS[nonlinearity], steps)
        h_n = final_state(y, h0, steps)
        ctx.save_for_backward(x, h0, w_ih, w_hh, y)
        ctx.steps, ctx.ragged, ctx.nonlinearity = steps, batch_sizes[-1] < B, nonlinearity
        ctx.on_state_grads, ctx.has_bias = on_state_grads, b_ih is not None
        ctx.set_materialize_grads(False)
        return y, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n):
        x, h0, w_ih, w_hh, y = ctx.saved_tensors
        T, B, H = y.shape
        tanh = ctx.nonlinearity == "tanh"
        compiled = native.loops_for(y) if tanh else None
        if compiled is not None and dy is not None and not dy.is_contiguous() and not ctx.ragged:
            # the C++ sweep reads dy contiguous: it writes δ_t over that copy, row by row after
            # reading it, which saves a (T, B, H) buffer (dy of a summed loss is an expanded view)
            d_pre = dy = dy.contiguous()
        else:
            d_pre = y.new_zeros(T, B, H) if ctx.ragged else torch.empty_like(y)  # δ_t
        dh = carried_grad(dh_n, h0)  # carried δh
        state_grads = y.new_zeros(T, B, H) if ctx.on_state_grads is not None else None
        fused = fused_kernels(y) if tanh and compiled is None else None
        if compiled is not None:  # the whole sweep in one C++ call
            _backward_native(compiled, dy, dh, y, d_pre, state_grads, w_hh, ctx.steps)
        elif fused is not None:  # the same sweep: δ_t in one pass per step
            _backward_fused(fused, dy, dh, y, d_pre, state_grads, w_hh, ctx.steps)
        else:
            _backward_steps(dy, dh, y, d_pre, state_grads, w_hh, ctx.nonlinearity, ctx.steps)
        if state_grads is not None:
            ctx.on_state_grads(state_grads)
        flat = d_pre.view(T * B, H)
        need = ctx.needs_input_grad
        dx = torch.mm(flat, w_ih).view(T, B, -1) if need[0] else None
        dw_ih = torch.mm(flat.t(), x.reshape(T * B, -1)) if need[2] else None
        dw_hh = recurrent_weight_grad(d_pre, y, h0, ctx.steps) if need[3] else None
        db = flat.sum(0) if ctx.has_bias and (need[4] or need[5]) else None
        return dx, dh, dw_ih, dw_hh, db, own_copy(db), None, None, None, None


def prepare_weights(w_ih, w_hh, b_ih, b_hh, nonlinearity):
    """(w_ih2, w_hh2, bias2): the weights and summed bias the products take, scaled by 2 for tanh.

    tanh(a) = 2σ(2a) − 1 (torch's CPU tanh is several times slower than σ): the products take
    weights scaled by 2, then σ and an affine map (or the numba kernel's tanh(a/2)).
    """
    scale = 2.0 if nonlinearity == "tanh" else 1.0
    bias = None if b_ih is None else (b_ih + b_hh) * scale
    return w_ih * scale, w_hh * scale, bias


def _forward_steps(y, h0, w_hh, activate, steps):
    """The forward loop in torch ops: ``y[t] ← f(y[t] + W_hh h_{t-1})`` in place (not fused)."""
    B = y.shape[1]
    w_hh_t = w_hh.t()
    for s in steps:
        h_t = y[s.t, : s.active]
        h_t.addmm_(previous_rows(y, h0, s), w_hh_t)
        activate(h_t)
        if s.active < B:
            y[s.t, s.active :] = 0  # the sequence has ended: output zero


def _backward_steps(dy, dh, y, d_pre, state_grads, w_hh, nonlinearity, steps):
    """The backward sweep in torch ops, in place (whatever the fused kernels do not cover)."""
    ones = torch.ones_like(dh)
    for s in reversed(steps):
        n = s.active
        dh_t = dh[:n]
        total_derivative(dh_t, dy, state_grads, s)  # ∂L/∂h_t
        d, h = d_pre[s.t, :n], y[s.t, :n]
        # f'(a_t) written with the output h_t = f(a_t)
        if nonlinearity == "tanh":
            torch.addcmul(ones[:n], h, h, value=-1, out=d).mul_(dh_t)  # δh_t (1 - h²)
        elif nonlinearity == "sigmoid":
            torch.addcmul(h, h, h, value=-1, out=d).mul_(dh_t)  # δh_t h(1 - h)
        else:  # as torch's relu: 0 where h ≤ 0 even if δh_t is NaN, else δh_t (also at h = NaN)
            d.copy_(dh_t).masked_fill_(h <= 0, 0)
        torch.mm(d, w_hh, out=dh_t)  # δh_{t-1} = W_hhᵀ δ_t


def _forward_fused(kernels, y, h0, w_hh2, steps):
    """The tanh forward loop on CPU float32: per step one product and one numba kernel."""
    B, H = h0.shape
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # all steps in one compiled loop
        w_t = array(w_hh2.t().contiguous(), ndim=2)
        loop = sequence_loops().rnn_tanh_sequence
        loop(y.numpy(), w_t, array(h0), *loop_scratch(B, H, steps))
        return
    recurrent = step_product(w_hh2, B)
    fused_forward(kernels.rnn_tanh_forward_step, recurrent, y, h0, steps, (y.numpy(),), ())


def _backward_native(compiled, dy, dh, y, d_pre, state_grads, w_hh, steps):
    """The tanh backward sweep on CPU float32 in one call of the C++ loops (seqlab.nn.native)."""
    carried, coords = torch.empty_like(dh), steps.coordinates
    rows = compiled.rnn_tanh_backward(
        dh, native.optional(dy), y, d_pre, state_grads, native.backward_weights(w_hh),
        carried, coords,
    )  # fmt: skip
    dh[:rows] = carried[:rows]  # δh_{t-1} = δ_t W_hh


def _backward_fused(kernels, dy, dh, y, d_pre, state_grads, w_hh, steps):
    """The tanh backward sweep on CPU float32: per step one numba kernel and one product."""
    B, H = dh.shape
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # all steps in one compiled loop
        carried, coords = loop_scratch(B, H, steps)
        rows = sequence_loops().rnn_tanh_backward_sequence(
            dh.numpy(), array(dy), y.numpy(), d_pre.numpy(), array(state_grads),
            array(w_hh.contiguous(), ndim=2), carried, coords,
        )  # fmt: skip
        dh[:rows] = torch.from_numpy(carried[:rows])  # δh_{t-1} = δ_t W_hh
        return
    after = array(dy), y.numpy(), d_pre.numpy(), array(state_grads)
    kernel = kernels.rnn_tanh_backward_step
    carried = fused_backward(kernel, w_hh, d_pre, steps, (dh.numpy(),), after)
    dh[: carried.shape[0]] = carried  # δh_{t-1} = δ_t W_hh


def _tanh_from_doubled_(a2: torch.Tensor) -> torch.Tensor:
    """tanh(a) in place from 2a, as 2σ(2a) − 1."""
    return a2.sigmoid_().mul_(2).sub_(1)


_ACTIVATIONS = {"tanh": _tanh_from_doubled_, "relu": torch.relu_, "sigmoid": torch.sigmoid_}

r"""One LSTM layer, one direction: the fast forward pass and its hand-written backward (BPTT).

The same function as ``seqlab.nn.reference.ReferenceLSTMFunction`` (read that one first), with
the performance tricks the reference leaves out: all input projections in one product before
the loop, ``tanh(a) = 2σ(2a) − 1`` on weight rows doubled once, preallocated buffers written in
place, and two loops — torch ops (``_forward_steps``/``_backward_steps``: CUDA, and CPU dtypes
other than float32) or per step one product and one numba kernel (``_forward_fused``/
``_backward_fused``: CPU float32).

Forward, per step (torch.nn's gate order i, f, g, o; ``g`` is the lecture's ``C~``)::

    [i_t, f_t, g_t, o_t] = [σ, σ, tanh, σ](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    C_t = f_t * C_{t-1} + i_t * g_t
    h_t = o_t * tanh(C_t)

which is the lecture's ``f_t = σ(W_f·[h_{t-1}, x_t] + b_f)`` … with ``W_f = [W_hf, W_if]``.

Backward walks ``t = T … 1`` carrying ``δh`` and ``δC``. With ``δh_t = ∂L/∂y_t + δh`` (the
total derivative: the output's own gradient plus what flows back from step t+1)::

    δo_t = δh_t * tanh(C_t) * o_t(1-o_t)
    δC_t = δC + δh_t * o_t * (1 - tanh²(C_t))
    δi_t = δC_t * g_t * i_t(1-i_t)      δf_t = δC_t * C_{t-1} * f_t(1-f_t)
    δg_t = δC_t * i_t * (1-g_t²)
    δC  ← δC_t * f_t                    δh ← W_hhᵀ δ_t      (δ_t = [δi, δf, δg, δo])

so ``∂L/∂h_k = Σ_t ∂L/∂y_t · Π_{j=k}^{t-1} ∂h_{j+1}/∂h_j`` is accumulated one factor per step;
the additive path ``δC ← δC_t * f_t`` is why the LSTM's gradient does not vanish as fast as the
plain RNN's. After the sweep the weight gradients are single matrix products over all steps:
``∂L/∂W_ih = Σ_t δ_t x_tᵀ``, ``∂L/∂W_hh = Σ_t δ_t h_{t-1}ᵀ``, ``∂L/∂b = Σ_t δ_t``.
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
from seqlab.nn.gates import LSTM_GATES


class LSTMLayerFunction(torch.autograd.Function):
    """Autograd function of one LSTM layer direction over a length-sorted, time-major batch.

    Inputs: ``x`` (T, B, I), ``h0``/``c0`` (B, H), ``w_ih`` (4H, I), ``w_hh`` (4H, H),
    ``b_ih``/``b_hh`` (4H,) or None, ``batch_sizes`` (running rows per step), ``reverse``,
    ``on_state_grads`` (called with ∂L/∂h_t (T, B, H) during backward, or None).
    Outputs: ``y`` (T, B, H), ``h_n``, ``c_n`` (B, H) and, not differentiable, the activated
    gates (T, B, 4H) and cell states (T, B, H).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, on_state_grads):
        T, B, _ = x.shape
        H = w_hh.shape[1]
        steps = schedule(batch_sizes, reverse)
        ragged = batch_sizes[-1] < B
        new = x.new_zeros if ragged else x.new_empty  # padded positions must read zero
        # tanh(a) = 2σ(2a) − 1: with the g rows of the weights doubled, one σ over all four
        # gates gives i, f, o and σ(2a_g) (torch's CPU tanh is several times slower than σ)
        y, c, tanh_c = new(T, B, H), new(T, B, H), new(T, B, H)  # tanh(C_t) kept for backward
        compiled = native.loops_for(x)
        if compiled is not None:  # all steps, input projections included, in one C++ call
            gates, g = new(T, B, 4 * H), LSTM_GATES.index("g")
            packed_hh = compiled.pack_forward(w_hh, 4, g)
            packed_ih = compiled.pack_forward(w_ih, 4, g)
            compiled.lstm_forward(
                gates, packed_hh, c, tanh_c, y, h0.contiguous(), c0.contiguous(),
                steps.coordinates, x.contiguous(), packed_ih, doubled_bias(b_ih, b_hh),
            )  # fmt: skip
        else:
            w_ih2, w_hh2, bias2 = prepare_weights(w_ih, w_hh, b_ih, b_hh)
            # gates (T, B, 4H): every input projection W_ih x_t + b at once, then += W_hh h_{t-1}
            gates = linear(x.reshape(T * B, -1), w_ih2, bias2).view(T, B, 4 * H)
            fused = fused_kernels(x)
            if fused is not None:  # the same loop: W_hh h_{t-1} by oneDNN, the rest in one pass
                _forward_fused(fused, gates, y, c, tanh_c, h0, c0, w_hh2, steps)
            else:
                _forward_steps(gates, y, c, tanh_c, h0, c0, w_hh2, steps)
        h_n, c_n = final_state(y, h0, steps), final_state(c, c0, steps)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, y, gates, c, tanh_c)
        ctx.steps, ctx.ragged = steps, ragged
        ctx.on_state_grads, ctx.has_bias = on_state_grads, b_ih is not None
        ctx.mark_non_differentiable(gates, c)
        ctx.set_materialize_grads(False)
        return y, h_n, c_n, gates, c

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n, dc_n, _dgates, _dc):
        x, h0, c0, w_ih, w_hh, y, gates, c, tanh_c = ctx.saved_tensors
        T, B, H = y.shape
        steps = ctx.steps
        compiled = native.loops_for(y)
        # δ of the pre-activations (T, B, 4H); zero where a sequence has ended. The C++ sweep
        # reads a block of rows at once: rows a multiple of 4 KiB apart would share one L1 set
        width = native.padded_width(4 * H) if compiled is not None else 4 * H
        d_rows = (gates.new_zeros if ctx.ragged else gates.new_empty)(T, B, width)
        d_pre = d_rows[..., : 4 * H]
        dh = carried_grad(dh_n, h0)  # carried δh
        dc = carried_grad(dc_n, c0)  # carried δC
        state_grads = y.new_zeros(T, B, H) if ctx.on_state_grads is not None else None
        fused = fused_kernels(y) if compiled is None else None
        if compiled is not None:  # the whole sweep in one C++ call
            _backward_native(
                compiled, dy, dh, dc, gates, tanh_c, c, c0, d_rows, state_grads, w_hh, steps
            )
        elif fused is not None:  # the same sweep: the elementwise block in one pass per step
            _backward_fused(
                fused, dy, dh, dc, gates, tanh_c, c, c0, d_pre, state_grads, w_hh, steps
            )
        else:
            _backward_steps(dy, dh, dc, gates, tanh_c, c, c0, d_pre, state_grads, w_hh, steps)
        if state_grads is not None:
            ctx.on_state_grads(state_grads)
        return _parameter_grads(ctx, d_pre, x, h0, w_ih, w_hh, y, dh, dc)


def _forward_steps(gates, y, c, tanh_c, h0, c0, w_hh2, steps):
    """The forward loop in torch ops on preallocated buffers (CUDA; CPU dtypes but float32)."""
    w_hh2_t = w_hh2.t()
    for s in steps:
        n = s.active
        a = gates[s.t, :n]  # (n, 4H)
        a.addmm_(previous_rows(y, h0, s), w_hh2_t)
        a.sigmoid_()
        i, f, g, o = LSTM_GATES.split(a, dim=1)
        g.mul_(2).sub_(1)  # g = C~ = tanh(a_g)
        c_t = c[s.t, :n]
        torch.mul(f, previous_rows(c, c0, s), out=c_t)
        c_t.addcmul_(i, g)  # C_t = f*C_{t-1} + i*C~
        tc = tanh_c[s.t, :n]
        torch.mul(c_t, 2, out=tc)
        tc.sigmoid_().mul_(2).sub_(1)  # tanh(C_t)
        torch.mul(o, tc, out=y[s.t, :n])  # h_t = o * tanh(C_t)


def _backward_steps(dy, dh, dc, gates, tanh_c, c, c0, d_pre, state_grads, w_hh, steps):
    """The backward sweep in torch ops, in place on preallocated buffers (CUDA; CPU but float32)."""
    B, H = dh.shape
    ones, scratch = dh.new_ones(B, H), dh.new_empty(B, H)
    slopes = gates.new_empty(B, 4 * H)  # σ'(a) = s(1-s) per gate, tanh'(a) = 1-g² for g
    for s in reversed(steps):
        n = s.active
        dh_t, dc_t, q = dh[:n], dc[:n], scratch[:n]
        total_derivative(dh_t, dy, state_grads, s)  # ∂L/∂h_t
        act = gates[s.t, :n]
        d_t = d_pre[s.t, :n]
        i, f, g, o = LSTM_GATES.split(act, dim=1)
        tc = tanh_c[s.t, :n]
        di, df, dg, do = LSTM_GATES.split(d_t, dim=1)
        # δC_t = δC + δh_t * o * (1 - tanh²C_t), without temporaries
        torch.mul(dh_t, o, out=q)
        dc_t.add_(q)
        q.mul_(tc)
        dc_t.addcmul_(q, tc, value=-1)
        torch.mul(dh_t, tc, out=do)  # ∂L/∂o_t
        torch.mul(dc_t, g, out=di)  # ∂L/∂i_t
        torch.mul(dc_t, previous_rows(c, c0, s), out=df)  # ∂L/∂f_t
        torch.mul(dc_t, i, out=dg)  # ∂L/∂g_t
        slope = slopes[:n]
        torch.addcmul(act, act, act, value=-1, out=slope)
        torch.addcmul(ones[:n], g, g, value=-1, out=slope[:, LSTM_GATES.rows("g", H)])
        d_t.mul_(slope)  # δ_t = [δi, δf, δg, δo] of the pre-activations
        dc_t.mul_(f)  # δC_{t-1}
        torch.mm(d_t, w_hh, out=dh_t)  # δh_{t-1} = W_hhᵀ δ_t


def _forward_fused(kernels, gates, y, c, tanh_c, h0, c0, w_hh2, steps):
    """The forward loop on CPU float32: per step one product and one numba kernel."""
    B, H = h0.shape
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # all steps in one compiled loop
        w_t = array(w_hh2.t().contiguous(), ndim=2)
        sequence_loops().lstm_forward_sequence(
            gates.numpy(), w_t, c.numpy(), tanh_c.numpy(), y.numpy(), array(h0), array(c0),
            *loop_scratch(B, 4 * H, steps),
        )  # fmt: skip
        return
    after = c.numpy(), tanh_c.numpy(), y.numpy(), array(c0)
    recurrent = step_product(w_hh2, y.shape[1])
    fused_forward(kernels.lstm_forward_step, recurrent, y, h0, steps, (gates.numpy(),), after)


def _backward_native(compiled, dy, dh, dc, gates, tanh_c, c, c0, d_pre, state_grads, w_hh, steps):
    """The backward sweep on CPU float32 in one call of the C++ loops (``seqlab.nn.native``)."""
    carried, coords = torch.empty_like(dh), steps.coordinates
    rows = compiled.lstm_backward(
        dh, dc, native.optional(dy), gates, tanh_c, c, c0.contiguous(), d_pre,
        state_grads, native.backward_weights(w_hh), carried, coords,
    )  # fmt: skip
    dh[:rows] = carried[:rows]  # δh_{t-1} = δ_t W_hh


def _backward_fused(kernels, dy, dh, dc, gates, tanh_c, c, c0, d_pre, state_grads, w_hh, steps):
    """The backward sweep on CPU float32: per step one numba kernel and one product."""
    B, H = dh.shape
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # all steps in one compiled loop
        carried, coords = loop_scratch(B, H, steps)
        rows = sequence_loops().lstm_backward_sequence(
            dh.numpy(), dc.numpy(), array(dy), gates.numpy(), tanh_c.numpy(), c.numpy(),
            array(c0), d_pre.numpy(), array(state_grads), array(w_hh.contiguous(), ndim=2),
            carried, coords,
        )  # fmt: skip
        dh[:rows] = torch.from_numpy(carried[:rows])  # δh_{t-1} = δ_t W_hh
        return
    before = dh.numpy(), dc.numpy()
    after = array(dy), gates.numpy(), tanh_c.numpy(), c.numpy(), array(c0), d_pre.numpy()
    kernel = kernels.lstm_backward_step
    carried = fused_backward(kernel, w_hh, d_pre, steps, before, (*after, array(state_grads)))
    dh[: carried.shape[0]] = carried  # δh_{t-1} = δ_t W_hh


def prepare_weights(w_ih, w_hh, b_ih, b_hh):
    """(w_ih2, w_hh2, bias2): copies of the weights with the g gate's rows doubled, and the summed
    bias likewise (None without bias), for ``tanh(a) = 2σ(2a) − 1`` in one σ over all gates."""
    g_rows = LSTM_GATES.rows("g", w_hh.shape[1])
    w_ih2, w_hh2 = w_ih.clone(), w_hh.clone()
    w_ih2[g_rows] *= 2
    w_hh2[g_rows] *= 2
    return w_ih2, w_hh2, doubled_bias(b_ih, b_hh)


def doubled_bias(b_ih, b_hh):
    """``b_ih + b_hh`` with the g gate's rows doubled, or None without bias."""
    if b_ih is None:
        return None
    bias2 = b_ih + b_hh
    bias2[LSTM_GATES.rows("g", bias2.shape[0] // 4)] *= 2
    return bias2


def _parameter_grads(ctx, d_pre, x, h0, w_ih, w_hh, y, dh, dc):
    """Gradients of every input of the function after the sweep, each one matrix product."""
    T, B, G = d_pre.shape
    flat = d_pre.view(T * B, G)
    need = ctx.needs_input_grad
    dx = torch.mm(flat, w_ih).view(T, B, -1) if need[0] else None
    dw_ih = torch.mm(flat.t(), x.reshape(T * B, -1)) if need[3] else None
    dw_hh = recurrent_weight_grad(d_pre, y, h0, ctx.steps) if need[4] else None
    db = flat.sum(0) if ctx.has_bias and (need[5] or need[6]) else None
    return dx, dh, dc, dw_ih, dw_hh, db, own_copy(db), None, None, None

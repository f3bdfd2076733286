r"""One GRU layer, one direction: the fast forward pass and its hand-written backward (BPTT).

The same function as ``seqlab.nn.reference.ReferenceGRUFunction`` (read that one first), with
the performance tricks the reference leaves out: all input projections in one product before
the loop, ``tanh(a) = 2σ(2a) − 1`` on the n rows doubled once, preallocated buffers written in
place, and two loops — torch ops (``_forward_steps``/``_backward_steps``: CUDA, and CPU dtypes
other than float32) or per step one product and one numba kernel (``_forward_fused``/
``_backward_fused``: CPU float32).

Forward, per step (torch.nn's equations and gate order r, z, n)::

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Backward walks ``t = T … 1`` carrying ``δh``. With ``δh_t = ∂L/∂h_t`` the total derivative and
``m_t = W_hn h_{t-1} + b_hn``::

    δn̂_t = δh_t * (1 - z_t) * (1 - n_t²)            (δ of n's pre-activation)
    δẑ_t = δh_t * (h_{t-1} - n_t) * z_t(1 - z_t)
    δr̂_t = δn̂_t * m_t * r_t(1 - r_t)
    δm_t = δn̂_t * r_t
    δh  ← δh_t * z_t + W_hhᵀ [δr̂_t, δẑ_t, δm_t]

The term ``δh_t * z_t`` is the GRU's additive path (``∂h_t/∂h_{t-1}`` contains ``diag z_t``).
After the sweep: ``∂L/∂W_hh = Σ_t [δr̂, δẑ, δm]_t h_{t-1}ᵀ`` and
``∂L/∂W_ih = Σ_t [δr̂, δẑ, δn̂]_t x_tᵀ``, each one matrix product over the stacked time axis.
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
    previous_rows,
    recurrent_weight_grad,
    schedule,
    sequence_loops,
    step_product,
    total_derivative,
)
from seqlab.nn.gates import GRU_GATES


class GRULayerFunction(torch.autograd.Function):
    """Autograd function of one GRU layer direction over a length-sorted, time-major batch.

    Inputs: ``x`` (T, B, I), ``h0`` (B, H), ``w_ih`` (3H, I), ``w_hh`` (3H, H),
    ``b_ih``/``b_hh`` (3H,) or None, ``batch_sizes`` (running rows per step), ``reverse``,
    ``on_state_grads`` (called with ∂L/∂h_t (T, B, H) during backward, or None).
    Outputs: ``y`` (T, B, H), ``h_n`` (B, H) and, not differentiable, the activated gates
    r, z, n (T, B, 3H).
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, on_state_grads):
        T, B, I = x.shape
        H = w_hh.shape[1]
        steps = schedule(batch_sizes, reverse)
        ragged = batch_sizes[-1] < B
        w_ih2, bias, b_hn = prepare_weights(w_ih, w_hh, b_ih, b_hh)
        new = x.new_zeros if ragged else x.new_empty  # padded positions must read zero
        y = new(T, B, H)
        m = torch.empty_like(y)  # m_t = W_hn h_{t-1} + b_hn, kept for the backward pass
        compiled = native.loops_for(x)
        if compiled is not None:  # all steps, input projections included, in one C++ call
            gates = new(T, B, 3 * H)
            compiled.gru_forward(
                gates, compiled.pack_forward(w_hh, 3), b_hn.contiguous(), m, y, h0.contiguous(),
                steps.coordinates, x.contiguous(), compiled.pack_forward(w_ih2, 3), bias,
            )  # fmt: skip
        else:
            gates = linear(x.reshape(T * B, I), w_ih2, bias).view(T, B, 3 * H)
            fused = fused_kernels(x)
            if fused is not None:  # the same loop: W_hh h_{t-1} by oneDNN, the rest in one pass
                _forward_fused(fused, gates, y, m, h0, w_hh, b_hn, steps)
            else:
                _forward_steps(gates, y, m, h0, w_hh, b_hn, steps)
        h_n = final_state(y, h0, steps)
        ctx.save_for_backward(x, h0, w_ih, w_hh, y, gates, m)
        ctx.steps, ctx.ragged, ctx.on_state_grads = steps, ragged, on_state_grads
        ctx.has_bias = b_ih is not None
        ctx.mark_non_differentiable(gates)
        ctx.set_materialize_grads(False)
        return y, h_n, gates

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n, _dgates):
        x, h0, w_ih, w_hh, y, gates, m = ctx.saved_tensors
        T, B, H = y.shape
        steps = ctx.steps
        new = y.new_zeros if ctx.ragged else y.new_empty
        d_rec = new(T, B, 3 * H)  # [δr̂, δẑ, δm]: δ of W_hh h_{t-1} + b_hh
        d_cand = new(T, B, H)  # δn̂: δ of n's pre-activation
        dh = carried_grad(dh_n, h0)  # carried δh
        state_grads = y.new_zeros(T, B, H) if ctx.on_state_grads is not None else None
        compiled = native.loops_for(y)
        fused = fused_kernels(y) if compiled is None else None
        if compiled is not None:  # the whole sweep in one C++ call
            _backward_native(
                compiled, dy, dh, gates, m, y, h0, d_rec, d_cand, state_grads, w_hh, steps
            )
        elif fused is not None:  # the same sweep: the elementwise block in one pass per step
            _backward_fused(fused, dy, dh, gates, m, y, h0, d_rec, d_cand, state_grads, w_hh, steps)
        else:
            _backward_steps(dy, dh, gates, m, y, h0, d_rec, d_cand, state_grads, w_hh, steps)
        if state_grads is not None:
            ctx.on_state_grads(state_grads)
        return _parameter_grads(ctx, d_rec, d_cand, x, h0, w_ih, w_hh, y, dh)


def prepare_weights(w_ih, w_hh, b_ih, b_hh):
    """(w_ih2, bias, b_hn): the input weights and bias the input projection takes, and b_hn.

    tanh(a) = 2σ(2a) − 1 (torch's CPU tanh is several times slower than σ): the n rows of the
    input projection are doubled, so n_t = 2σ(2W_in x_t + 2b_in + 2 r_t*m_t) − 1; the r and z
    rows carry both biases. `b_hn` (H,) is the n rows of b_hh (zeros without bias).
    """
    H = w_hh.shape[1]
    rz, n_rows = GRU_GATES.rows("r", H, through="z"), GRU_GATES.rows("n", H)
    w_ih2 = w_ih.clone()
    w_ih2[n_rows] *= 2
    if b_ih is None:
        return w_ih2, None, w_hh.new_zeros(H)
    bias = b_ih.clone()
    bias[rz] += b_hh[rz]
    bias[n_rows] *= 2
    return w_ih2, bias, b_hh[n_rows]


def _forward_steps(gates, y, m, h0, w_hh, b_hn, steps):
    """The forward loop in torch ops on preallocated buffers (CUDA; CPU dtypes but float32)."""
    H = y.shape[2]
    rz, n_rows = GRU_GATES.rows("r", H, through="z"), GRU_GATES.rows("n", H)
    recurrent = y.new_empty(y.shape[1], 3 * H)  # W_hh h_{t-1}, reused every step
    w_hh_t = w_hh.t()
    for s in steps:
        n = s.active
        h_prev = previous_rows(y, h0, s)
        g = gates[s.t, :n]
        gh = recurrent[:n]
        torch.mm(h_prev, w_hh_t, out=gh)
        g[:, rz].add_(gh[:, rz]).sigmoid_()
        r, z, cand = GRU_GATES.split(g, dim=1)
        m_t = m[s.t, :n]
        torch.add(gh[:, n_rows], b_hn, out=m_t)
        cand.addcmul_(r, m_t, value=2).sigmoid_().mul_(2).sub_(1)  # n_t
        h_t = y[s.t, :n]
        torch.sub(h_prev, cand, out=h_t)
        h_t.mul_(z).add_(cand)  # h_t = n_t + z_t * (h_{t-1} - n_t)


def _backward_steps(dy, dh, gates, m, y, h0, d_rec, d_cand, state_grads, w_hh, steps):
    """The backward sweep in torch ops, in place on preallocated buffers (CUDA; CPU but float32)."""
    B, H = dh.shape
    ones, through_z = dh.new_ones(B, H), dh.new_empty(B, H)
    slopes = dh.new_empty(B, 3 * H)  # s(1-s) for r, z; 1-n² for n
    for s in reversed(steps):
        n = s.active
        dh_t, q = dh[:n], through_z[:n]
        total_derivative(dh_t, dy, state_grads, s)  # ∂L/∂h_t
        act = gates[s.t, :n]
        d_t = d_rec[s.t, :n]
        dn = d_cand[s.t, :n]
        r, z, cand = GRU_GATES.split(act, dim=1)
        dr, dz, dm = GRU_GATES.split(d_t, dim=1)
        slope = slopes[:n]
        torch.addcmul(act, act, act, value=-1, out=slope)
        slope_r, slope_z, slope_n = GRU_GATES.split(slope, dim=1)
        torch.addcmul(ones[:n], cand, cand, value=-1, out=slope_n)
        torch.mul(dh_t, z, out=q)  # δh_t z_t: the path straight to h_{t-1}
        torch.sub(dh_t, q, out=dn)
        dn.mul_(slope_n)  # δn̂ = δh_t (1-z_t)(1-n_t²)
        torch.sub(previous_rows(y, h0, s), cand, out=dz)
        dz.mul_(dh_t).mul_(slope_z)  # δẑ
        torch.mul(dn, m[s.t, :n], out=dr)
        dr.mul_(slope_r)  # δr̂
        torch.mul(dn, r, out=dm)  # δm
        torch.addmm(q, d_t, w_hh, out=dh_t)  # δh_{t-1} = δh_t z_t + W_hhᵀ [δr̂, δẑ, δm]


def _forward_fused(kernels, gates, y, m, h0, w_hh, b_hn, steps):
    """The forward loop on CPU float32: per step one product and one numba kernel."""
    B, H = h0.shape
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # all steps in one compiled loop
        w_t = array(w_hh.t().contiguous(), ndim=2)
        sequence_loops().gru_forward_sequence(
            gates.numpy(), w_t, array(b_hn.contiguous(), ndim=1), m.numpy(), y.numpy(),
            array(h0), *loop_scratch(B, 3 * H, steps),
        )  # fmt: skip
        return
    after = array(b_hn), m.numpy(), y.numpy(), array(h0)
    recurrent = step_product(w_hh, y.shape[1])
    fused_forward(kernels.gru_forward_step, recurrent, y, h0, steps, (gates.numpy(),), after)


def _backward_native(compiled, dy, dh, gates, m, y, h0, d_rec, d_cand, state_grads, w_hh, steps):
    """The backward sweep on CPU float32 in one call of the C++ loops (``seqlab.nn.native``)."""
    through_z = torch.empty_like(dh)  # δh_t z_t: the path straight to h_{t-1}
    carried, coords = torch.empty_like(dh), steps.coordinates
    rows = compiled.gru_backward(
        dh, through_z, native.optional(dy), gates, m, y, h0.contiguous(), d_rec, d_cand,
        state_grads, native.backward_weights(w_hh), carried, coords,
    )  # fmt: skip
    torch.add(through_z[:rows], carried[:rows], out=dh[:rows])


def _backward_fused(kernels, dy, dh, gates, m, y, h0, d_rec, d_cand, state_grads, w_hh, steps):
    """The backward sweep on CPU float32: per step one numba kernel and one product."""
    through_z = torch.empty_like(dh)  # δh_t z_t: the path straight to h_{t-1}
    B, H = dh.shape
    if B <= SEQUENCE_LOOP_MAX_ROWS:  # all steps in one compiled loop
        carried, coords = loop_scratch(B, H, steps)
        rows = sequence_loops().gru_backward_sequence(
            dh.numpy(), through_z.numpy(), array(dy), gates.numpy(), m.numpy(), y.numpy(),
            array(h0), d_rec.numpy(), d_cand.numpy(), array(state_grads),
            array(w_hh.contiguous(), ndim=2), carried, coords,
        )  # fmt: skip
        torch.add(through_z[:rows], torch.from_numpy(carried[:rows]), out=dh[:rows])
        return
    after = (through_z.numpy(), array(dy), gates.numpy(), m.numpy(), y.numpy(), array(h0))
    after += (d_rec.numpy(), d_cand.numpy(), array(state_grads))
    carried = fused_backward(kernels.gru_backward_step, w_hh, d_rec, steps, (dh.numpy(),), after)
    rows = carried.shape[0]
    torch.add(through_z[:rows], carried, out=dh[:rows])  # δh_{t-1} = δh_t z_t + δ_t W_hh


def _parameter_grads(ctx, d_rec, d_cand, x, h0, w_ih, w_hh, y, dh):
    """Gradients of every input after the sweep; δ of the r, z rows is shared by W_ih and W_hh."""
    T, B, H = d_cand.shape
    rz_rows, n_rows = GRU_GATES.rows("r", H, through="z"), GRU_GATES.rows("n", H)
    rec = d_rec.view(T * B, 3 * H)
    cand = d_cand.view(T * B, H)
    rz = rec[:, rz_rows]
    need = ctx.needs_input_grad
    dx = None
    if need[0]:
        dx = torch.mm(rz, w_ih[rz_rows]).addmm_(cand, w_ih[n_rows]).view(T, B, -1)
    dw_ih = None
    if need[2]:
        flat_x = x.reshape(T * B, -1)
        dw_ih = torch.cat((torch.mm(rz.t(), flat_x), torch.mm(cand.t(), flat_x)))
    dw_hh = recurrent_weight_grad(d_rec, y, h0, ctx.steps) if need[3] else None
    db_ih = db_hh = None
    if ctx.has_bias:
        db_hh = rec.sum(0)
        db_ih = torch.cat((db_hh[rz_rows], cand.sum(0)))  # in GRU_GATES order: r, z, then n
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh, None, None, None

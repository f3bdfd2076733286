r"""One GRU layer, one direction: forward pass and hand-written BPTT.

Forward, per step (torch.nn's equations and gate order r, z, n)::

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

All input projections ``W_i· x_t`` are one matrix product before the time loop.

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

from seqlab.nn.bptt_common import (
    final_state,
    fused_kernels,
    previous_rows,
    recurrent_weight_grad,
    schedule,
    step_product,
)


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
        # tanh(a) = 2σ(2a) − 1 (torch's CPU tanh is several times slower than σ): the n rows of
        # the input projection are doubled, so n_t = 2σ(2W_in x_t + 2b_in + 2 r_t*m_t) − 1
        w_ih2 = w_ih.clone()
        w_ih2[2 * H :] *= 2
        flat = x.reshape(T * B, I)
        if b_ih is None:
            gates = torch.mm(flat, w_ih2.t()).view(T, B, 3 * H)
            b_hn = None
        else:
            bias = b_ih.clone()
            bias[: 2 * H] += b_hh[: 2 * H]
            bias[2 * H :] *= 2
            gates = torch.addmm(bias, flat, w_ih2.t()).view(T, B, 3 * H)
            b_hn = b_hh[2 * H :]
        y = x.new_zeros(T, B, H) if ragged else x.new_empty(T, B, H)
        m = torch.empty_like(y)  # m_t = W_hn h_{t-1} + b_hn, kept for the backward pass
        recurrent = x.new_empty(B, 3 * H)  # W_hh h_{t-1}, reused every step
        w_hh_t = w_hh.t()
        fused = fused_kernels(x)
        if fused is not None:
            b_hn_np = (x.new_zeros(H) if b_hn is None else b_hn.detach()).numpy()
            product = step_product(w_hh, B)
        for s in steps:
            n = s.active
            h_prev = previous_rows(y, h0, s)
            g = gates[s.t, :n]
            if fused is not None:  # W_hh h_{t-1} by oneDNN, then the block below in one pass
                gh = product(h_prev.detach())
                fused.gru_forward_step(
                    g.numpy(),
                    gh.numpy(),
                    b_hn_np,
                    h_prev.detach().numpy(),
                    m[s.t, :n].numpy(),
                    y[s.t, :n].numpy(),
                )
                continue
            gh = recurrent[:n]
            torch.mm(h_prev, w_hh_t, out=gh)
            rz = g[:, : 2 * H]
            rz.add_(gh[:, : 2 * H]).sigmoid_()
            r, z, cand = g.split(H, dim=1)
            m_t = m[s.t, :n]
            if b_hn is None:
                m_t.copy_(gh[:, 2 * H :])
            else:
                torch.add(gh[:, 2 * H :], b_hn, out=m_t)
            cand.addcmul_(r, m_t, value=2).sigmoid_().mul_(2).sub_(1)  # n_t
            h_t = y[s.t, :n]
            torch.sub(h_prev, cand, out=h_t)
            h_t.mul_(z).add_(cand)  # h_t = n_t + z_t * (h_{t-1} - n_t)
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
        new = y.new_zeros if ctx.ragged else y.new_empty
        d_rec = new(T, B, 3 * H)  # [δr̂, δẑ, δm]: δ of W_hh h_{t-1} + b_hh
        d_cand = new(T, B, H)  # δn̂: δ of n's pre-activation
        dh = dh_n.clone() if dh_n is not None else h0.new_zeros(B, H)  # carried δh
        state_grads = y.new_zeros(T, B, H) if ctx.on_state_grads is not None else None
        ones, through_z = y.new_ones(B, H), y.new_empty(B, H)
        slopes = y.new_empty(B, 3 * H)  # s(1-s) for r, z; 1-n² for n
        fused = fused_kernels(y)
        if fused is not None:
            back = step_product(w_hh.t(), B)  # δ_t ↦ δ_t W_hh
        for s in reversed(ctx.steps):
            n = s.active
            dh_t, q = dh[:n], through_z[:n]
            if dy is not None:
                dh_t += dy[s.t, :n]  # total derivative ∂L/∂h_t
            if state_grads is not None:
                state_grads[s.t, :n] = dh_t
            act = gates[s.t, :n]
            d_t = d_rec[s.t, :n]
            dn = d_cand[s.t, :n]
            if fused is not None:  # the elementwise block below in one pass
                fused.gru_backward_step(
                    dh_t.numpy(),
                    act.numpy(),
                    m[s.t, :n].numpy(),
                    previous_rows(y, h0, s).detach().numpy(),
                    d_t.numpy(),
                    dn.numpy(),
                    q.numpy(),
                )
                torch.add(q, back(d_t), out=dh_t)
                continue
            r, z, cand = act.split(H, dim=1)
            dr, dz, dm = d_t.split(H, dim=1)
            slope = slopes[:n]
            torch.addcmul(act, act, act, value=-1, out=slope)
            slope_r, slope_z, slope_n = slope.split(H, dim=1)
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
        if state_grads is not None:
            ctx.on_state_grads(state_grads)
        return _parameter_grads(ctx, d_rec, d_cand, x, h0, w_ih, w_hh, y, dh)


def _parameter_grads(ctx, d_rec, d_cand, x, h0, w_ih, w_hh, y, dh):
    """Gradients of every input after the sweep; δ of the r, z rows is shared by W_ih and W_hh."""
    T, B, H = d_cand.shape
    rec = d_rec.view(T * B, 3 * H)
    cand = d_cand.view(T * B, H)
    rz = rec[:, : 2 * H]
    need = ctx.needs_input_grad
    dx = None
    if need[0]:
        dx = torch.mm(rz, w_ih[: 2 * H]).addmm_(cand, w_ih[2 * H :]).view(T, B, -1)
    dw_ih = None
    if need[2]:
        flat_x = x.reshape(T * B, -1)
        dw_ih = torch.cat((torch.mm(rz.t(), flat_x), torch.mm(cand.t(), flat_x)))
    dw_hh = recurrent_weight_grad(d_rec, y, h0, ctx.steps) if need[3] else None
    db_ih = db_hh = None
    if ctx.has_bias:
        db_hh = rec.sum(0)
        db_ih = torch.cat((db_hh[: 2 * H], cand.sum(0)))
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh, None, None, None

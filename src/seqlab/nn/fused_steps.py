r"""Fused per-step gate arithmetic for float32 CPU tensors: one pass over memory per step.

The recurrent matrix product of a step stays a torch (oneDNN) call; everything elementwise around
it — the gate nonlinearities, the cell update, the output, and in the backward sweep the total
derivative ``δh_t``, the δ of every gate and the stored ``∂L/∂h_t`` — is one numba loop here
instead of about ten torch ops, each of which would read and write the whole (B, 4H) block and
pay torch's dispatch cost.

So that a step costs two calls and no per-step slicing, the kernels take the whole-sequence
buffers (T, B, ·) as numpy views of the very tensors the BPTT functions keep (no copies), with
the step's coordinates ``t``, ``prev``, ``k``, ``n`` of ``bptt_common.Step``: rows ``[:n]`` take
step ``t``; rows ``[:k]`` continue from step ``prev``, rows ``[k:n]`` start from the initial
state. In the backward sweep ``carried`` (m, H) is ``δ W_hh`` of the step processed just
before; it becomes ``δh`` of its m rows at the start of the next kernel (one copy fewer).
Empty arrays stand for "no ``dy``" and "no ``state_grads``".
Gate pre-activations arrive with their tanh rows doubled (see ``bptt_lstm``), so every gate is
``t = tanh(a/2)``: ``σ(a') = (1 + t)/2`` for i, f, o and ``tanh(a_g) = t`` for g.

tanh is Eigen's rational approximation (absolute error < 3e-7 in float32), because numba
without Intel SVML calls libm's scalar ``tanhf``/``expf`` and cannot vectorise the loop.
The kernels are float32 only; other dtypes take the reference or the torch-op loops.

NaN and ±inf propagate as in torch.nn: a NaN anywhere stays NaN, ``tanh(±inf) = ±1`` and
``σ(±inf)`` is 1 or 0, and ``0 · inf`` in a derivative is NaN. So the kernels are compiled with
`FASTMATH`, a set of fast-math flags without LLVM's "no NaNs" and "no infs" assumptions, and
`_tanh`'s clamp lets NaN through.
"""

import numpy as np
from numba import njit

_F = np.float32
_HALF = _F(0.5)
# Eigen's clamp: the approximation gives exactly ±1 there, so σ = (1 + t)/2 of a saturated gate
# (±inf included) is exactly 1 or 0 and a derivative 1 - t² or σ(1 - σ) exactly 0, as in torch
# (where 0 · inf downstream is NaN)
_CLAMP = _F(7.99881172180175781)

#: Fast-math flags that keep the loops vectorised (reassociation, contraction into FMAs,
#: reciprocals) but not "nnan"/"ninf": with those LLVM may assume that no NaN or inf occurs and
#: fold them into finite numbers, which would hide a diverging model.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _tanh(x):
    """tanh(x) in float32: Eigen's odd rational approximation of degree 13/6; NaN stays NaN."""
    # selects, not min/max (numba's min/max branch on NaN, which stops vectorisation), written
    # so that NaN compares false and keeps its value: ±inf become ±_CLAMP, i.e. tanh = ±1
    y = _CLAMP if x > _CLAMP else x
    y = -_CLAMP if y < -_CLAMP else y
    x2 = y * y
    p = _F(-2.76076847742355e-16)
    p = p * x2 + _F(2.00018790482477e-13)
    p = p * x2 + _F(-8.60467152213735e-11)
    p = p * x2 + _F(5.12229709037114e-08)
    p = p * x2 + _F(1.48572235717979e-05)
    p = p * x2 + _F(6.37261928875436e-04)
    p = p * x2 + _F(4.89352455891786e-03)
    q = _F(1.19825839466702e-06)
    q = q * x2 + _F(1.18534705686654e-04)
    q = q * x2 + _F(2.26843463243900e-03)
    q = q * x2 + _F(4.89352518554385e-03)
    return y * p / q


# error_model="numpy": no ZeroDivisionError check on the division in _tanh, which would stop
# LLVM from vectorising. Loops run over 1-D row views so that LLVM sees unit-stride streams.
_kernel = njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")


@njit(inline="always")
def _take_carried(dh, carried):
    """``δh ← carried`` for the rows the previously processed step ran."""
    for b in range(carried.shape[0]):
        dh[b, :] = carried[b]


@njit(inline="always")
def _total_derivative(dh, dy, state_grads, t, b):
    """``δh_t = δh + ∂L/∂y_t`` for row b, stored in `state_grads` when that is asked for."""
    dhb = dh[b]
    if dy.shape[0] > 0:
        dhb += dy[t, b]
    if state_grads.shape[0] > 0:
        state_grads[t, b, :] = dhb
    return dhb


@_kernel
def lstm_forward_step(gates, rec, c, tanh_c, y, c0, t, prev, k, n):
    """One LSTM step; `gates` (T, B, 4H), `c`, `tanh_c`, `y` (T, B, H), `c0` (B, H) float32.

    ``gates[t]`` holds the input projections with doubled g rows and is overwritten with
    i, f, g=C~, o. `rec` (n, 4H): W_hh h_{t-1} (doubled g rows). Writes C_t, tanh(C_t) and
    h_t = o * tanh(C_t) into row t of `c`, `tanh_c`, `y`.
    """
    H = gates.shape[2] // 4
    for b in range(n):
        cp = c[prev, b] if b < k else c0[b]
        a, r = gates[t, b], rec[b]
        ai, af, ag, ao = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        ri, rf, rg, ro = r[:H], r[H : 2 * H], r[2 * H : 3 * H], r[3 * H :]
        cb, tb, hb = c[t, b], tanh_c[t, b], y[t, b]
        for j in range(H):
            i = _HALF + _HALF * _tanh(_HALF * (ai[j] + ri[j]))
            f = _HALF + _HALF * _tanh(_HALF * (af[j] + rf[j]))
            g = _tanh(_HALF * (ag[j] + rg[j]))
            o = _HALF + _HALF * _tanh(_HALF * (ao[j] + ro[j]))
            ct = f * cp[j] + i * g
            tc = _tanh(ct)
            ai[j], af[j], ag[j], ao[j] = i, f, g, o
            cb[j], tb[j], hb[j] = ct, tc, o * tc


@_kernel
def lstm_inference_step(gates, rec, c, y, c0, t, prev, k, n):
    """`lstm_forward_step` without what only the backward pass reads (``tanh(C_t)``)."""
    H = gates.shape[2] // 4
    for b in range(n):
        cp = c[prev, b] if b < k else c0[b]
        a, r = gates[t, b], rec[b]
        ai, af, ag, ao = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        ri, rf, rg, ro = r[:H], r[H : 2 * H], r[2 * H : 3 * H], r[3 * H :]
        cb, hb = c[t, b], y[t, b]
        for j in range(H):
            i = _HALF + _HALF * _tanh(_HALF * (ai[j] + ri[j]))
            f = _HALF + _HALF * _tanh(_HALF * (af[j] + rf[j]))
            g = _tanh(_HALF * (ag[j] + rg[j]))
            o = _HALF + _HALF * _tanh(_HALF * (ao[j] + ro[j]))
            ct = f * cp[j] + i * g
            ai[j], af[j], ag[j], ao[j] = i, f, g, o
            cb[j], hb[j] = ct, o * _tanh(ct)


@_kernel
def lstm_backward_step(
    dh, dc, carried, dy, gates, tanh_c, c, c0, d_pre, state_grads, t, prev, k, n
):
    """δ of one LSTM step before ``δh_{t-1} = δ_t W_hh``.

    `dh`, `dc` (B, H): carried δh and δC; `dc` is overwritten with δC_{t-1}. `gates` (T, B, 4H):
    i, f, g, o. `tanh_c`, `c` (T, B, H); `c0` (B, H). Writes ``d_pre[t]`` (T, B, 4H) = δ of the
    pre-activations [δi, δf, δg, δo].
    """
    H = dh.shape[1]
    one = _F(1)
    _take_carried(dh, carried)
    for b in range(n):
        dhb = _total_derivative(dh, dy, state_grads, t, b)
        cp = c[prev, b] if b < k else c0[b]
        a, d = gates[t, b], d_pre[t, b]
        ai, af, ag, ao = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        di, df, dg, do = d[:H], d[H : 2 * H], d[2 * H : 3 * H], d[3 * H :]
        dcb, tb = dc[b], tanh_c[t, b]
        for j in range(H):
            i, f, g, o, tc, dht = ai[j], af[j], ag[j], ao[j], tb[j], dhb[j]
            dct = dcb[j] + dht * o * (one - tc * tc)
            di[j] = dct * g * i * (one - i)
            df[j] = dct * cp[j] * f * (one - f)
            dg[j] = dct * i * (one - g * g)
            do[j] = dht * tc * o * (one - o)
            dcb[j] = dct * f


@_kernel
def gru_forward_step(gates, rec, b_hn, m, y, h0, t, prev, k, n):
    """One GRU step after ``rec = W_hh h_{t-1}`` (n, 3H); `gates` (T, B, 3H), `m`, `y` (T, B, H).

    ``gates[t]`` holds the input projections with doubled n rows (r, z rows carry both biases)
    and is overwritten with r, z, n. `b_hn` (H,): the n rows of b_hh (zeros without bias).
    Writes ``m[t]`` = W_hn h_{t-1} + b_hn and ``y[t]`` = n + z * (h_{t-1} - n).
    """
    H = gates.shape[2] // 3
    for b in range(n):
        hp = y[prev, b] if b < k else h0[b]
        a, r = gates[t, b], rec[b]
        ar, az, an = a[:H], a[H : 2 * H], a[2 * H :]
        rr, rz, rn = r[:H], r[H : 2 * H], r[2 * H :]
        mb, hb = m[t, b], y[t, b]
        for j in range(H):
            rj = _HALF + _HALF * _tanh(_HALF * (ar[j] + rr[j]))
            z = _HALF + _HALF * _tanh(_HALF * (az[j] + rz[j]))
            mj = rn[j] + b_hn[j]
            cand = _tanh(_HALF * an[j] + rj * mj)
            ar[j], az[j], an[j] = rj, z, cand
            mb[j], hb[j] = mj, cand + z * (hp[j] - cand)


@_kernel
def gru_inference_step(gates, rec, b_hn, y, h0, t, prev, k, n):
    """`gru_forward_step` without what only the backward pass reads (``m_t``)."""
    H = gates.shape[2] // 3
    for b in range(n):
        hp = y[prev, b] if b < k else h0[b]
        a, r = gates[t, b], rec[b]
        ar, az, an = a[:H], a[H : 2 * H], a[2 * H :]
        rr, rz, rn = r[:H], r[H : 2 * H], r[2 * H :]
        hb = y[t, b]
        for j in range(H):
            rj = _HALF + _HALF * _tanh(_HALF * (ar[j] + rr[j]))
            z = _HALF + _HALF * _tanh(_HALF * (az[j] + rz[j]))
            cand = _tanh(_HALF * an[j] + rj * (rn[j] + b_hn[j]))
            ar[j], az[j], an[j] = rj, z, cand
            hb[j] = cand + z * (hp[j] - cand)


@_kernel
def gru_backward_step(
    dh, carried, through_z, dy, gates, m, y, h0, d_rec, d_cand, state_grads, t, prev, k, n
):
    """δ of one GRU step before ``δh_{t-1} = δh_t z + δ_t W_hh``.

    `dh` (B, H): carried δh; `carried` (m, H) = δ W_hh of the step processed before, to which
    that step's ``through_z`` (B, H) = δh z is added. `gates` (T, B, 3H): r, z, n. `m`, `y`
    (T, B, H); `h0` (B, H). Writes ``d_rec[t]`` (T, B, 3H) = [δr̂, δẑ, δm], ``d_cand[t]``
    (T, B, H) = δn̂ and ``through_z[:n]`` = δh_t z.
    """
    H = dh.shape[1]
    one = _F(1)
    for b in range(carried.shape[0]):
        dh[b, :] = through_z[b] + carried[b]
    for b in range(n):
        dhb = _total_derivative(dh, dy, state_grads, t, b)
        hp = y[prev, b] if b < k else h0[b]
        a, d = gates[t, b], d_rec[t, b]
        ar, az, an = a[:H], a[H : 2 * H], a[2 * H :]
        dr, dz, dm = d[:H], d[H : 2 * H], d[2 * H :]
        mb, dnb, qb = m[t, b], d_cand[t, b], through_z[b]
        for j in range(H):
            r, z, cand, dht = ar[j], az[j], an[j], dhb[j]
            dn = (dht - dht * z) * (one - cand * cand)
            qb[j] = dht * z
            dnb[j] = dn
            dz[j] = (hp[j] - cand) * dht * z * (one - z)
            dr[j] = dn * mb[j] * r * (one - r)
            dm[j] = dn * r


@_kernel
def rnn_tanh_forward_step(y, rec, t, prev, k, n):
    """``y[t] ← tanh((y[t] + rec)/2)`` for rows [:n], zero for the rest; `y` (T, B, H).

    ``y[t]`` holds 2(W_ih x_t + b) and `rec` (n, H) 2 W_hh h_{t-1} (see bptt_rnn). Rows past n
    have ended: their output is zero. (`prev`, `k`: unused, the step needs no h_{t-1}.)
    """
    for b in range(n):
        yb, rb = y[t, b], rec[b]
        for j in range(yb.shape[0]):
            yb[j] = _tanh(_HALF * (yb[j] + rb[j]))
    for b in range(n, y.shape[1]):
        y[t, b, :] = 0


@_kernel
def rnn_tanh_backward_step(dh, carried, dy, y, d_pre, state_grads, t, prev, k, n):
    """``d_pre[t] = δh_t * (1 - h_t²)`` for rows [:n]: δ of the tanh pre-activation.

    (`prev`, `k`: unused, the δ needs only h_t.)
    """
    one = _F(1)
    _take_carried(dh, carried)
    for b in range(n):
        dhb = _total_derivative(dh, dy, state_grads, t, b)
        hb, db = y[t, b], d_pre[t, b]
        for j in range(hb.shape[0]):
            db[j] = dhb[j] * (one - hb[j] * hb[j])

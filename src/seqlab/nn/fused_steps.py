r"""Fused per-step gate arithmetic for float32 CPU tensors: one pass over memory per step.

The recurrent matrix product of a step stays a torch (BLAS) call; everything elementwise that
follows it — the gate nonlinearities, the cell update, the output, and in the backward sweep
the δ of every gate — is one numba loop here instead of about ten torch ops, each of which
would read and write the whole (B, 4H) block and pay torch's dispatch cost.

The kernels work in place on numpy views of the very tensors the torch path uses (no copies),
so the BPTT functions call them as a drop-in replacement for their elementwise block.
Gate pre-activations arrive with their tanh rows doubled (see ``bptt_lstm``), so every gate is
``t = tanh(a/2)``: ``σ(a') = (1 + t)/2`` for i, f, o and ``tanh(a_g) = t`` for g.

tanh is Eigen's rational approximation (absolute error < 3e-7 in float32), because numba
without Intel SVML calls libm's scalar ``tanhf``/``expf`` and cannot vectorise the loop.
The kernels are float32 only; float64 (gradcheck) keeps the torch path.
"""

import numpy as np
from numba import njit

_F = np.float32
_HALF = _F(0.5)
_CLAMP = _F(7.90531110763549805)  # tanh(±7.905…) rounds to ±1 in float32


@njit(inline="always", fastmath=True, error_model="numpy")
def _tanh(x):
    """tanh(x) in float32: Eigen's odd rational approximation of degree 13/6."""
    # selects, not min/max: numba's min/max branch on NaN, which stops vectorisation
    x = x if x < _CLAMP else _CLAMP
    x = x if x > -_CLAMP else -_CLAMP
    x2 = x * x
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
    return x * p / q


# error_model="numpy": no ZeroDivisionError check on the division in _tanh, which would stop
# LLVM from vectorising. Loops run over 1-D row views so that LLVM sees unit-stride streams.
_kernel = njit(nogil=True, cache=True, fastmath=True, error_model="numpy")


@_kernel
def lstm_forward_step(a, rec, c_prev, c, tanh_c, h):
    """One LSTM step; all arrays (n, ·) float32, rows contiguous.

    `a` (n, 4H): input projections with doubled g rows, overwritten with i, f, g=C~, o.
    `rec` (n, 4H): W_hh h_{t-1} (doubled g rows). `c_prev` (n, H): C_{t-1}. Writes `c` = C_t,
    `tanh_c` = tanh(C_t), `h` = o * tanh(C_t).
    """
    n, G = a.shape
    H = G // 4
    for b in range(n):
        ai, af, ag, ao = a[b, :H], a[b, H : 2 * H], a[b, 2 * H : 3 * H], a[b, 3 * H :]
        ri, rf, rg, ro = rec[b, :H], rec[b, H : 2 * H], rec[b, 2 * H : 3 * H], rec[b, 3 * H :]
        cp, cb, tb, hb = c_prev[b], c[b], tanh_c[b], h[b]
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
def lstm_backward_step(dh, dc, act, tanh_c, c_prev, d):
    """δ of one LSTM step before ``δh_{t-1} = δ_t W_hh``; arrays (n, ·) float32.

    `dh` (n, H): total ∂L/∂h_t. `dc` (n, H): carried δC, overwritten with δC_{t-1}.
    `act` (n, 4H): i, f, g, o. `tanh_c`, `c_prev` (n, H). Writes `d` (n, 4H) = δ of the
    pre-activations [δi, δf, δg, δo].
    """
    n, G = act.shape
    H = G // 4
    one = _F(1)
    for b in range(n):
        ai, af, ag, ao = act[b, :H], act[b, H : 2 * H], act[b, 2 * H : 3 * H], act[b, 3 * H :]
        di, df, dg, do = d[b, :H], d[b, H : 2 * H], d[b, 2 * H : 3 * H], d[b, 3 * H :]
        dhb, dcb, tb, cp = dh[b], dc[b], tanh_c[b], c_prev[b]
        for j in range(H):
            i, f, g, o, tc, dht = ai[j], af[j], ag[j], ao[j], tb[j], dhb[j]
            dct = dcb[j] + dht * o * (one - tc * tc)
            di[j] = dct * g * i * (one - i)
            df[j] = dct * cp[j] * f * (one - f)
            dg[j] = dct * i * (one - g * g)
            do[j] = dht * tc * o * (one - o)
            dcb[j] = dct * f


@_kernel
def gru_forward_step(a, rec, b_hn, h_prev, m, h):
    """One GRU step after ``rec = W_hh h_{t-1}``; arrays (n, ·) float32, rows contiguous.

    `a` (n, 3H): input projections with doubled n rows (r, z rows carry both biases),
    overwritten with r, z, n. `rec` (n, 3H): W_hh h_{t-1}. `b_hn` (H,): the n rows of b_hh
    (zeros without bias). `h_prev` (n, H). Writes `m` = W_hn h_{t-1} + b_hn and
    `h` = n + z * (h_{t-1} - n).
    """
    n, G = a.shape
    H = G // 3
    for b in range(n):
        ar, az, an = a[b, :H], a[b, H : 2 * H], a[b, 2 * H :]
        rr, rz, rn = rec[b, :H], rec[b, H : 2 * H], rec[b, 2 * H :]
        hp, mb, hb = h_prev[b], m[b], h[b]
        for j in range(H):
            r = _HALF + _HALF * _tanh(_HALF * (ar[j] + rr[j]))
            z = _HALF + _HALF * _tanh(_HALF * (az[j] + rz[j]))
            mj = rn[j] + b_hn[j]
            c = _tanh(_HALF * an[j] + r * mj)
            ar[j], az[j], an[j] = r, z, c
            mb[j], hb[j] = mj, c + z * (hp[j] - c)


@_kernel
def gru_backward_step(dh, act, m, h_prev, d, d_cand, through_z):
    """δ of one GRU step before ``δh_{t-1} = δh_t z + δ_t W_hh``; arrays (n, ·) float32.

    `dh` (n, H): total ∂L/∂h_t. `act` (n, 3H): r, z, n. `m`, `h_prev` (n, H). Writes `d`
    (n, 3H) = [δr̂, δẑ, δm], `d_cand` (n, H) = δn̂ and `through_z` (n, H) = δh_t z.
    """
    n, G = act.shape
    H = G // 3
    one = _F(1)
    for b in range(n):
        ar, az, an = act[b, :H], act[b, H : 2 * H], act[b, 2 * H :]
        dr, dz, dm = d[b, :H], d[b, H : 2 * H], d[b, 2 * H :]
        dhb, mb, hp, dnb, qb = dh[b], m[b], h_prev[b], d_cand[b], through_z[b]
        for j in range(H):
            r, z, c, dht = ar[j], az[j], an[j], dhb[j]
            dn = (dht - dht * z) * (one - c * c)
            qb[j] = dht * z
            dnb[j] = dn
            dz[j] = (hp[j] - c) * dht * z * (one - z)
            dr[j] = dn * mb[j] * r * (one - r)
            dm[j] = dn * r


@_kernel
def tanh_from_doubled(a):
    """``a ← tanh(a/2)`` in place on an (n, H) float32 array: the RNN's tanh step (see bptt_rnn)."""
    for b in range(a.shape[0]):
        row = a[b]
        for j in range(row.shape[0]):
            row[j] = _tanh(_HALF * row[j])


@_kernel
def tanh_backward_step(dh, h, d):
    """``d = δh * (1 - h²)`` on (n, H) float32 arrays: δ of the RNN's tanh pre-activation."""
    one = _F(1)
    for b in range(h.shape[0]):
        dhb, hb, db = dh[b], h[b], d[b]
        for j in range(hb.shape[0]):
            db[j] = dhb[j] * (one - hb[j] * hb[j])

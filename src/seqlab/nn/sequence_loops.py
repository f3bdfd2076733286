r"""Whole-sequence loops for a batch of one row: no Python between time steps.

At B = 1 a step's recurrent product is a matrix-vector product of a few microseconds, and the
per-step cost outside the arithmetic — the Python loop, a torch call for ``W_hh h_{t-1}``, a
numba call for the gates — is larger than the step itself. These loops run all steps inside
one compiled function: ``rec = h_{t-1} W_hhᵀ`` as a loop over the rows of ``W_hhᵀ`` (H, G·H),
vectorised over the G·H outputs, then the same step kernel as the per-step path
(``fused_steps``). The backward sweeps likewise run each step's kernel and then
``δ_t W_hh`` inside the loop. Used for at most ``bptt_common.SEQUENCE_LOOP_MAX_ROWS`` rows,
without autograd (``seqlab.nn.inference``) and in training (``seqlab.nn.bptt_*``); beyond that
torch's matrix product per step wins.

``coords`` (S, 4) holds ``Step.coords`` of the visited steps in order; ``rec`` (B, G·H) and
``carried`` (B, H) are scratch space. Every loop writes exactly what its per-step twin
(``bptt_common.fused_forward`` / ``fused_backward`` with the same kernel) writes.
"""

import numpy as np
from numba import njit

from seqlab.nn.fused_steps import (
    FASTMATH,
    gru_backward_step,
    gru_forward_step,
    gru_inference_step,
    lstm_backward_step,
    lstm_forward_step,
    lstm_inference_step,
    rnn_tanh_backward_step,
    rnn_tanh_forward_step,
)

_loop = njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _vector_matrix(v, w, out):
    """``out = v w`` for v (K,), w (K, N), out (N,): rows of w scaled and summed, vectorised."""
    for j in range(out.shape[0]):
        out[j] = 0
    for q in range(w.shape[0]):
        vq, row = v[q], w[q]
        for j in range(out.shape[0]):
            out[j] += vq * row[j]


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _recurrent_product(y, h0, w_t, rec, prev, k, n):
    """``rec[b] = h_{t-1}[b] W_hhᵀ`` for rows [:n]; rows [:k] continue from ``y[prev]``."""
    for b in range(n):
        _vector_matrix(y[prev, b] if b < k else h0[b], w_t, rec[b])


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _back_product(d, w_hh, carried, n):
    """``carried[b] = δ[b] W_hh`` for rows [:n]: δh_{t-1} through the recurrent weight."""
    for b in range(n):
        _vector_matrix(d[b], w_hh, carried[b])


@_loop
def lstm_sequence(gates, w_t, c, y, h0, c0, rec, coords):
    """All steps of `lstm_inference_step`, each after its recurrent product."""
    for s in range(coords.shape[0]):
        t, prev, k, n = coords[s, 0], coords[s, 1], coords[s, 2], coords[s, 3]
        _recurrent_product(y, h0, w_t, rec, prev, k, n)
        lstm_inference_step(gates, rec, c, y, c0, t, prev, k, n)


@_loop
def gru_sequence(gates, w_t, b_hn, y, h0, rec, coords):
    """All steps of `gru_inference_step`, each after its recurrent product."""
    for s in range(coords.shape[0]):
        t, prev, k, n = coords[s, 0], coords[s, 1], coords[s, 2], coords[s, 3]
        _recurrent_product(y, h0, w_t, rec, prev, k, n)
        gru_inference_step(gates, rec, b_hn, y, h0, t, prev, k, n)


@_loop
def rnn_tanh_sequence(y, w_t, h0, rec, coords):
    """All steps of `rnn_tanh_forward_step`, each after its recurrent product."""
    for s in range(coords.shape[0]):
        t, prev, k, n = coords[s, 0], coords[s, 1], coords[s, 2], coords[s, 3]
        _recurrent_product(y, h0, w_t, rec, prev, k, n)
        rnn_tanh_forward_step(y, rec, t, prev, k, n)


@_loop
def lstm_forward_sequence(gates, w_t, c, tanh_c, y, h0, c0, rec, coords):
    """All steps of `lstm_forward_step` (training: ``tanh(C_t)`` kept for backward)."""
    for s in range(coords.shape[0]):
        t, prev, k, n = coords[s, 0], coords[s, 1], coords[s, 2], coords[s, 3]
        _recurrent_product(y, h0, w_t, rec, prev, k, n)
        lstm_forward_step(gates, rec, c, tanh_c, y, c0, t, prev, k, n)


@_loop
def gru_forward_sequence(gates, w_t, b_hn, m, y, h0, rec, coords):
    """All steps of `gru_forward_step` (training: ``m_t`` kept for backward)."""
    for s in range(coords.shape[0]):
        t, prev, k, n = coords[s, 0], coords[s, 1], coords[s, 2], coords[s, 3]
        _recurrent_product(y, h0, w_t, rec, prev, k, n)
        gru_forward_step(gates, rec, b_hn, m, y, h0, t, prev, k, n)


@_loop
def lstm_backward_sequence(
    dh, dc, dy, gates, tanh_c, c, c0, d_pre, state_grads, w_hh, carried, coords
):
    """The backward sweep of `lstm_backward_step`, last step first; returns the rows of the
    last ``carried`` (δ W_hh of the first visited step), which the caller adds to δh."""
    rows = 0
    for s in range(coords.shape[0] - 1, -1, -1):
        t, prev, k, n = coords[s, 0], coords[s, 1], coords[s, 2], coords[s, 3]
        lstm_backward_step(
            dh, dc, carried[:rows], dy, gates, tanh_c, c, c0, d_pre, state_grads, t, prev, k, n
        )
        _back_product(d_pre[t], w_hh, carried, n)
        rows = n
    return rows


@_loop
def gru_backward_sequence(
    dh, through_z, dy, gates, m, y, h0, d_rec, d_cand, state_grads, w_hh, carried, coords
):
    """The backward sweep of `gru_backward_step` (see `lstm_backward_sequence`)."""
    rows = 0
    for s in range(coords.shape[0] - 1, -1, -1):
        t, prev, k, n = coords[s, 0], coords[s, 1], coords[s, 2], coords[s, 3]
        gru_backward_step(
            dh, carried[:rows], through_z, dy, gates, m, y, h0, d_rec, d_cand, state_grads,
            t, prev, k, n,
        )  # fmt: skip
        _back_product(d_rec[t], w_hh, carried, n)
        rows = n
    return rows


@_loop
def rnn_tanh_backward_sequence(dh, dy, y, d_pre, state_grads, w_hh, carried, coords):
    """The backward sweep of `rnn_tanh_backward_step` (see `lstm_backward_sequence`)."""
    rows = 0
    for s in range(coords.shape[0] - 1, -1, -1):
        t, prev, k, n = coords[s, 0], coords[s, 1], coords[s, 2], coords[s, 3]
        rnn_tanh_backward_step(dh, carried[:rows], dy, y, d_pre, state_grads, t, prev, k, n)
        _back_product(d_pre[t], w_hh, carried, n)
        rows = n
    return rows


def coordinates(steps) -> np.ndarray:
    """``Step.coords`` of `steps` in visiting order, (S, 4) int64, for the loops above."""
    return np.array([s.coords for s in steps], dtype=np.int64)

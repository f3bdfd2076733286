r"""Whole-sequence forward loops for a batch of one or two rows: no Python between time steps.

At B = 1 a step's recurrent product is a matrix-vector product of a few microseconds, and the
per-step cost outside the arithmetic — the Python loop, a torch call for ``W_hh h_{t-1}``, a
numba call for the gates — is larger than the step itself. These loops run all steps inside
one compiled function: ``rec = h_{t-1} W_hhᵀ`` as a loop over the rows of ``W_hhᵀ`` (H, G·H),
vectorised over the G·H outputs, then the same step kernel as the per-step path
(``fused_steps.*_inference_step``). Used without autograd (``seqlab.nn.inference``) for at most
``inference.SEQUENCE_LOOP_MAX_ROWS`` rows; beyond that torch's matrix product per step wins.

``coords`` (S, 4) holds ``Step.coords`` of the visited steps in order; ``rec`` (B, G·H) is
scratch space. Every loop writes exactly what its per-step twin writes.
"""

from numba import njit

from seqlab.nn.fused_steps import (
    FASTMATH,
    gru_inference_step,
    lstm_inference_step,
    rnn_tanh_forward_step,
)

_loop = njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _recurrent_product(y, h0, w_t, rec, prev, k, n):
    """``rec[b] = h_{t-1}[b] W_hhᵀ`` for rows [:n]; rows [:k] continue from ``y[prev]``."""
    H, G = w_t.shape
    for b in range(n):
        hp = y[prev, b] if b < k else h0[b]
        r = rec[b]
        for j in range(G):
            r[j] = 0
        for q in range(H):
            hq, w = hp[q], w_t[q]
            for j in range(G):
                r[j] += hq * w[j]


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

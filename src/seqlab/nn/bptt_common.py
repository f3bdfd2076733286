"""Pieces shared by the hand-written BPTT functions: time-step bookkeeping and stacked products.

A batch of uneven sequences is sorted by length, longest first, so that at every time step the
sequences still running are a prefix ``[:n]`` of the batch (the layout of a ``PackedSequence``).
Rows past that prefix keep their state frozen: ``h_t = h_{t-1}``. Their outputs are zero and,
in the backward sweep, their carried gradient ``δh`` passes through unchanged until the sweep
reaches their true last step.

The forward direction visits ``t = 0 … T-1`` and rows only ever leave the prefix. The reverse
direction visits ``t = T-1 … 0`` and rows join the prefix at their own last step, starting from
the initial state. ``Step.continuing`` is how many rows continue from the previous visited step;
rows ``[continuing:active]`` start from the initial state there.
"""

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

import numpy as np
import torch


@dataclass(frozen=True)
class Step:
    t: int  # position on the time axis
    active: int  # rows [:active] take a step here
    previous: int | None  # time index visited just before (None at the first visited step)
    continuing: int  # rows [:continuing] continue from `previous`; the rest start from h_0

    @property
    def coords(self) -> tuple[int, int, int, int]:
        """``(t, previous, continuing, active)`` for the numba kernels (-1: no previous step)."""
        previous = -1 if self.previous is None else self.previous
        return self.t, previous, self.continuing, self.active


class Schedule(tuple):
    """`Step`s in visiting order, with their coordinates as one tensor for the compiled loops."""

    @cached_property
    def coordinates(self) -> torch.Tensor:
        """``Step.coords`` of every step, (S, 4) int64 (read, never written, by the C++ loops)."""
        return torch.tensor([s.coords for s in self], dtype=torch.int64).reshape(-1, 4)


def schedule(batch_sizes: Sequence[int], reverse: bool) -> Schedule:
    """The steps one direction of a layer takes, in visiting order.

    Parameters
    ----------
    batch_sizes : sequence of int
        Number of sequences still running at each time step (non-increasing), as in a
        ``PackedSequence``.
    reverse : bool
        Visit the time axis backwards (second direction of a bidirectional layer).

    Examples
    --------
    >>> [(s.t, s.active, s.continuing) for s in schedule([2, 1], reverse=True)]
    [(1, 1, 0), (0, 2, 1)]
    """
    return _schedule(tuple(batch_sizes), reverse)


# a training loop asks for the same few schedules at every step: building one is a Python loop
# over T steps, which at B = 1 costs as much as the step's arithmetic
@lru_cache(maxsize=256)
def _schedule(batch_sizes: tuple[int, ...], reverse: bool) -> Schedule:
    T = len(batch_sizes)
    times = range(T - 1, -1, -1) if reverse else range(T)
    steps, previous = [], None
    for t in times:
        active = batch_sizes[t]
        continuing = 0 if previous is None else min(active, batch_sizes[previous])
        steps.append(Step(t, active, previous, continuing))
        previous = t
    return Schedule(steps)


def previous_rows(states: torch.Tensor, init: torch.Tensor, step: Step) -> torch.Tensor:
    """``s_{t-1}`` for the active rows of `step`: a view when no row starts here, else a copy.

    `states` (T, B, H) holds the state after every step (or is its ``unbind(0)`` views);
    `init` (B, H) the initial state.
    """
    n, k = step.active, step.continuing
    if k == 0:
        return init[:n]
    if k == n:
        rows = states[step.previous]  # two cheap indexings: this runs every step
        return rows if n == rows.shape[0] else rows[:n]
    return torch.cat((states[step.previous][:k], init[k:n]))  # rows [k:n] start here


def recurrent_weight_grad(
    d_pre: torch.Tensor, states: torch.Tensor, init: torch.Tensor, steps: list[Step]
) -> torch.Tensor:
    """``∂L/∂W_hh = Σ_t δ_t h_{t-1}ᵀ`` as one matrix product over the stacked time axis.

    `d_pre` (T, B, G) holds δ of the pre-activations (zero at padded positions), `states`
    (T, B, H) the states after each step (zero at padded positions), `init` (B, H) the initial
    state. Returns (G, H).
    """
    T, _, G = d_pre.shape
    H = states.shape[2]
    grad = d_pre.new_zeros(G, H)
    if T > 1:
        # the state before step t sits at its neighbour on the time axis: t+1 when the
        # direction runs backwards (its first visited step is T-1), else t-1
        reverse = steps[0].t == T - 1
        deltas, before = (d_pre[:-1], states[1:]) if reverse else (d_pre[1:], states[:-1])
        grad.addmm_(deltas.reshape(-1, G).t(), before.reshape(-1, H))
    for s in steps:  # rows that start from h_0: every row at the first step, joiners in reverse
        if s.continuing < s.active:
            rows = slice(s.continuing, s.active)
            grad.addmm_(d_pre[s.t, rows].t(), init[rows])
    return grad


def final_state(states: torch.Tensor, init: torch.Tensor, steps) -> torch.Tensor:
    """State after each row's true last step, (B, H), in sorted batch order."""
    last = steps[-1]
    if last.active == init.shape[0]:
        return states[last.t].clone()
    # forward direction over uneven lengths: row b last ran at t = length_b - 1
    out = torch.empty_like(init)
    done = init.shape[0]
    for s in steps:
        if s.active < done:
            out[s.active : done] = states[s.previous, s.active : done]
            done = s.active
    out[:done] = states[last.t, :done]
    return out


def carried_grad(grad: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """The backward sweep's carried gradient (B, H): a contiguous copy of `grad`, or zeros."""
    if grad is None:
        return like.new_zeros(like.shape)
    return grad.clone(memory_format=torch.contiguous_format)


def own_copy(grad):
    """b_ih and b_hh get equal gradients; each parameter must own its own tensor."""
    return None if grad is None else grad.clone()


def rows_of(views: Sequence[torch.Tensor], t: int, n: int) -> torch.Tensor:
    """Rows ``[:n]`` of step t from ``tensor.unbind(0)`` views, without slicing when n is all."""
    rows = views[t]
    return rows if n == rows.shape[0] else rows[:n]


def array(t: torch.Tensor | None, ndim: int = 3) -> np.ndarray:
    """A numpy view of `t` for the kernels; for None an empty `ndim`-array.

    The empty array stands for an absent buffer (no ``dy``, no ``state_grads``, nothing carried).
    A strided `t` stays a view (numba compiles the kernel for its layout): ``dy`` of
    ``output.sum()`` is an expanded tensor, and a contiguous copy would cost (T, B, H) memory.
    """
    if t is None:
        return np.empty((0,) * ndim, dtype=np.float32)
    return t.detach().numpy()


def total_derivative(dh_t, dy, state_grads, step: Step) -> None:
    """``δh_t ← δh + ∂L/∂y_t`` in place on the active rows, kept in `state_grads` if asked for.

    The torch loops' twin of the numba kernels' ``_total_derivative``.
    """
    if dy is not None:
        dh_t += dy[step.t, : step.active]
    if state_grads is not None:
        state_grads[step.t, : step.active] = dh_t


def fused_forward(kernel, recurrent, y, h0, steps, before, after) -> None:
    """The forward loop on CPU float32: per step one product and one numba kernel.

    ``rec = recurrent(h_{t-1})`` (``W_hh h_{t-1}``: a `step_product`), then
    ``kernel(*before, rec, *after, *step.coords)`` writes step t into the buffers.
    `y` (T, B, H) receives h_t; `h0` (B, H) is the initial state.
    """
    states = y.unbind(0)  # h_t as torch views, for the products
    for s in steps:
        rec = recurrent(previous_rows(states, h0, s))  # (n, G·H)
        kernel(*before, rec.numpy(), *after, *s.coords)


def fused_backward(kernel, w_hh, d_rec, steps, before, after) -> torch.Tensor:
    """The backward sweep on CPU float32: per step, last first, one numba kernel and one product.

    ``kernel(*before, carried, *after, *step.coords)`` writes δ of step t into `d_rec`
    (T, B, G·H), taking ``carried`` = δ W_hh of the step processed before it; then
    ``carried = δ_t W_hh``. Returns the last ``carried``: δh of its rows, for the caller to store.
    """
    back = step_product(w_hh.t(), d_rec.shape[1])  # δ_t ↦ δ_t W_hh
    deltas = d_rec.unbind(0)
    carried = None
    for s in reversed(steps):
        kernel(*before, array(carried, ndim=2), *after, *s.coords)
        carried = back(rows_of(deltas, s.t, s.active))
    return carried


def fused_kernels(like: torch.Tensor):
    """The module of numba step kernels when `like` suits them (CPU float32), else None.

    Imported on first use so that ``import seqlab.nn`` does not pay for numba; the kernels
    are compiled once and cached on disk (``cache=True``).
    """
    if not like_fused(like):
        return None
    from seqlab.nn import fused_steps

    return fused_steps


def step_product(weight: torch.Tensor, rows: int):
    """``h ↦ h Wᵀ`` for a weight (out, in) that every time step multiplies by; h is (n ≤ rows, in).

    On CPU float32 with oneDNN, for products of at least `ONEDNN_MIN_FLOPS`, the weight is packed
    once into oneDNN's blocked layout and each step runs oneDNN's matmul (where torch.nn.LSTM's
    fused CPU kernel gets its speed); smaller products stay ``torch.mm``, because a oneDNN call
    has a fixed cost of its own before any arithmetic. Both give the same function; see `onednn`
    for when oneDNN is used at all.
    """
    return product(weight, None, rows, ONEDNN_MIN_FLOPS)


def product(weight: torch.Tensor, bias: torch.Tensor | None, rows: int, min_flops: float = 0):
    """``x ↦ x Wᵀ + b`` for x (n ≤ rows, in), the weight packed once for oneDNN where it pays.

    oneDNN takes products of at least `min_flops` FLOPs when `onednn` allows it, with the weight
    packed here, once; otherwise ``torch.mm``/``torch.addmm``.
    """
    if onednn.usable(weight) and 2 * rows * weight.numel() >= min_flops:
        packed = onednn.pack(weight, rows)
        if packed is not None:
            return lambda x: onednn.linear(x, packed, weight, bias)
    weight_t = weight.t()
    if bias is None:
        return lambda x: torch.mm(x, weight_t)
    return lambda x: torch.addmm(bias, x, weight_t)


#: Below this many FLOPs per step oneDNN's fixed cost outweighs its faster arithmetic.
#: ``python benchmarks/onednn_threshold.py`` measures both products per step over a range of
#: shapes and prints where oneDNN starts to win on the machine at hand; 8 MFLOP is where it
#: did on the 2-core x86 machine the benchmarks in docs/benchmarks.md ran on.
ONEDNN_MIN_FLOPS = 8e6


#: The largest batch whose time loop runs as one compiled function (``seqlab.nn.sequence_loops``,
#: the recurrent product inside numba). At B = 1 the per-step cost outside the arithmetic
#: (Python, a torch call, a numba call) outweighs the step's matrix-vector product: the loop
#: was faster at every H from 64 to 512 (LSTM, T = 80, inference 1.2–2×, training 1.0–1.6×).
#: At B = 2 it was as fast as the per-step path at H = 128 and slower at H = 256, and from
#: B = 3 on slower, because torch's matrix product uses the cache better than the loop's
#: row-by-row product (2-core machine of docs/benchmarks.md).
SEQUENCE_LOOP_MAX_ROWS = 1


@cache
def sequence_loops():
    """``seqlab.nn.sequence_loops``, imported on first use (numba compiles or loads its cache)."""
    from seqlab.nn import sequence_loops

    return sequence_loops


def loop_scratch(rows: int, width: int, steps) -> tuple[np.ndarray, np.ndarray]:
    """A compiled loop's scratch (rows, width) float32 and the steps' coordinates (S, 4)."""
    return np.empty((rows, width), dtype=np.float32), sequence_loops().coordinates(steps)


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``x Wᵀ + b`` for x (M, in) and weight (out, in): the input projections of all steps at once.

    oneDNN with a packed weight where `onednn` allows it (faster than ``torch.addmm`` at these
    shapes, see ``benchmarks/onednn_threshold.py``), else ``torch.mm``/``torch.addmm``.
    """
    return product(weight, bias, x.shape[0])(x.contiguous())


def _mm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.mm(x, weight.t()) if bias is None else torch.addmm(bias, x, weight.t())


class OneDNNLinear:
    """oneDNN's matrix product with a packed weight, which fails soft to ``torch.mm``.

    ``torch.ops.mkldnn._reorder_linear_weight`` and ``_linear_pointwise`` are private torch ops:
    a torch release may drop or change them. So they are probed once, on first use, against
    ``torch.mm``; if they are missing, raise or disagree — then or at any later call — seqlab
    warns once (`OneDNNUnavailableWarning`) and uses ``torch.mm``/``torch.addmm`` from then
    on, with the same results. ``torch.backends.mkldnn.flags(enabled=False)`` turns them off
    too, checked at every call. `reset` forgets the probe (for tests that swap the ops).
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Probe the ops again on next use, and warn again if they fail."""
        self._works: bool | None = None

    def usable(self, weight: torch.Tensor) -> bool:
        """Whether a product with `weight` runs on oneDNN now."""
        if not like_fused(weight) or not torch.backends.mkldnn.is_available():
            return False
        if not getattr(torch.backends.mkldnn, "enabled", True):  # flags(enabled=False)
            return False
        if self._works is None:
            self._works = self._probe()
        return self._works

    def pack(self, weight: torch.Tensor, rows: int) -> torch.Tensor | None:
        """`weight` (out, in) in oneDNN's layout for products with up to `rows` rows, or None."""
        try:
            return torch.ops.mkldnn._reorder_linear_weight(weight.detach().contiguous(), rows)
        except Exception as error:  # a private op: whatever it raises, torch.mm takes over
            self._give_up(error)
            return None

    def linear(self, x, packed, weight, bias):
        """``x Wᵀ + b`` with the packed weight; with `weight` by ``torch.mm`` if oneDNN fails."""
        if self._works:
            try:
                return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")
            except Exception as error:  # a private op: whatever it raises, torch.mm takes over
                self._give_up(error)
        return _mm(x, weight, bias)

    def _probe(self) -> bool:
        x = torch.linspace(-1, 1, 6).view(2, 3)
        weight = torch.linspace(-2, 2, 12).view(4, 3)
        bias = torch.linspace(0, 1, 4)
        self._works = True
        try:
            packed = self.pack(weight, 2)
            result = None if packed is None else self.linear(x, packed, weight, bias)
            if result is not None and not torch.allclose(result, _mm(x, weight, bias)):
                self._give_up(ValueError("its result differs from torch.addmm"))
        except Exception as error:  # the probe's own calls: anything means "do not use"
            self._give_up(error)
        return self._works

    def _give_up(self, error: Exception) -> None:
        if self._works is False:
            return
        self._works = False
        warnings.warn(
            "seqlab.nn: oneDNN's private linear ops (torch.ops.mkldnn._reorder_linear_weight / "
            f"_linear_pointwise) failed in this torch {torch.__version__}: "
            f"{type(error).__name__}: {error}. Using torch.mm instead: same results, "
            "somewhat slower recurrent layers on CPU.",
            OneDNNUnavailableWarning,
            stacklevel=4,
        )


class OneDNNUnavailableWarning(RuntimeWarning):
    """oneDNN's private linear ops failed; seqlab.nn uses ``torch.mm`` instead."""


#: The one `OneDNNLinear` every layer uses.
onednn = OneDNNLinear()


def like_fused(t: torch.Tensor) -> bool:
    """Whether `t` suits the CPU float32 fast paths (numba kernels, oneDNN products)."""
    return t.is_cpu and t.dtype == torch.float32

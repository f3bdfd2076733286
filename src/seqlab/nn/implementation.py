"""Which of the three implementations of a recurrent layer runs: the reference or a fast path.

All three compute the same function with the same hand-written backward pass:

1. **reference** (`seqlab.nn.reference`): the equations as the lecture writes them, one step
   at a time, ``torch.sigmoid``/``torch.tanh`` and new tensors at every line. Used for float64
   (``gradcheck``), for ``impl="reference"`` and inside `reference_mode`.
2. **torch-op loop** (``_forward_steps``/``_backward_steps`` in ``seqlab.nn.bptt_*``): the same
   loop in torch ops with preallocated buffers, in-place updates and ``tanh(a) = 2σ(2a) − 1``.
   Runs on CUDA (where each op is a kernel launch and the reference's extra temporaries cost
   launches and memory) and for CPU dtypes other than float32.
3. **fused** (``seqlab.nn.fused_steps`` + oneDNN products in ``seqlab.nn.bptt_common``): CPU
   float32; per step one matrix product and one numba kernel over the whole elementwise block.

A layer's ``impl`` picks among them: ``"auto"`` (default) runs the reference for float64 and a
fast path (2 or 3, by device and dtype) otherwise; ``"fast"`` always a fast path;
``"reference"`` always the reference.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch

#: The values a layer's or cell's ``impl`` accepts.
IMPLS = ("auto", "fast", "reference")

_reference_forced: ContextVar[bool] = ContextVar("seqlab_nn_reference_mode", default=False)


@contextmanager
def reference_mode() -> Iterator[None]:
    """Run every ``seqlab.nn`` layer and cell through the reference inside the block.

    It overrides each module's ``impl`` (also ``impl="fast"``): the block is for reading,
    stepping through with a debugger, or checking a fast path against the equations.

    Examples
    --------
    >>> import torch
    >>> from seqlab.nn import LSTM, reference_mode
    >>> lstm, x = LSTM(3, 4), torch.randn(5, 2, 3)
    >>> with reference_mode():
    ...     reference_output, _ = lstm(x)
    >>> torch.allclose(reference_output, lstm(x)[0], atol=1e-6)
    True
    """
    token = _reference_forced.set(True)
    try:
        yield
    finally:
        _reference_forced.reset(token)


def runs_reference(impl: str, like: torch.Tensor) -> bool:
    """Whether a module with `impl` and parameters like `like` runs the reference now."""
    if impl == "reference" or _reference_forced.get():
        return True
    return impl == "auto" and like.dtype == torch.float64

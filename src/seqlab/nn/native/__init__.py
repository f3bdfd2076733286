"""The recurrent loops compiled from C++ (``recurrent_loops.cpp``), built on this machine.

The fast path's time loops on CPU float32 — forward and backward, LSTM, GRU and tanh RNN — run
as one C++ function per sweep: the recurrent product as a register-blocked kernel over weights
packed by panels of 16 hidden units (input projections included), the gate arithmetic applied
while the sums are still in registers, the work of a step shared between torch's threads with
one barrier per step. Each
function writes exactly what its numba twin in ``seqlab.nn.sequence_loops`` writes; the tests
compare them.

The source is compiled on first use with torch's extension tooling (g++ and ninja, about a
minute) for this machine's instruction set, and cached under ``TORCH_EXTENSIONS_DIR``
(default ``~/.cache/torch_extensions``); ``make`` builds it once after installing. Where it
cannot be built (no compiler), one warning says so and the numba loops run instead: the same
results, slower at most shapes. ``SEQLAB_NATIVE=0`` in the environment chooses the numba loops
on purpose.
"""

import hashlib
import os
import platform
import shutil
import warnings
from functools import cache
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("recurrent_loops.cpp")

#: -march=native: the vector width of the machine the extension is built on (its name carries a
#: digest of that machine's CPU flags, so a cache shared with another CPU builds anew)
FLAGS = ["-O3", "-march=native", "-std=c++20", "-fopenmp"]


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return next((line for line in f if line.startswith(("flags", "Features"))), "")
    except OSError:
        return platform.processor()


def extension_name() -> str:
    """The extension's name: a digest of the source and its path, the flags, torch and the CPU.

    The path is part of it because torch's tooling rebuilds an extension whose source file moved:
    two checkouts sharing one cache would otherwise rebuild it in turn.
    """
    source = SOURCE.read_text(encoding="utf-8")
    key = "\n".join([source, str(SOURCE), *FLAGS, torch.__version__, _cpu_flags()])
    return "seqlab_recurrent_loops_" + hashlib.sha256(key.encode()).hexdigest()[:12]


def _find_ninja() -> None:
    """Put the ninja of the ``ninja`` package on PATH when no other is there: torch's extension
    tooling runs ``ninja`` by name, and a virtual environment's scripts are on PATH only when it
    is activated."""
    if shutil.which("ninja") is None:
        import ninja

        os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")


@cache
def loops():
    """The compiled module, or None where it is turned off or cannot be built (one warning).

    Examples
    --------
    >>> from seqlab.nn import native
    >>> native.loops() is None or hasattr(native.loops(), "lstm_forward")
    True
    """
    if os.environ.get("SEQLAB_NATIVE", "1") == "0":
        return None
    try:
        from torch.utils.cpp_extension import load

        _find_ninja()

        return load(
            name=extension_name(),
            sources=[str(SOURCE)],
            extra_cflags=FLAGS,
            extra_ldflags=["-fopenmp"],
            verbose=False,
        )
    except Exception as error:  # no compiler, no ninja, a failed build: the numba loops run
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        warnings.warn(
            f"seqlab.nn: the compiled recurrent loops could not be built ({first_line}); the "
            "numba loops run instead (same results, slower at most shapes). Install g++ and "
            "`pip install ninja`, or set SEQLAB_NATIVE=0 to silence this.",
            RuntimeWarning,
            stacklevel=2,
        )
        return None


def loops_for(like: torch.Tensor):
    """`loops` for tensors like `like` (CPU float32), else None; checked before anything of the
    numba path is imported, which would cost a process about 0.4 s it does not need."""
    return loops() if like.is_cpu and like.dtype == torch.float32 else None


def backward_weights(w_hh: torch.Tensor) -> torch.Tensor:
    """W_hh (Q, H) as the backward sweeps read it in place: contiguous, rows padded with zeros to
    a multiple of 16 floats (a panel of units is one vector load at every row)."""
    pad = -w_hh.shape[1] % 16
    return torch.nn.functional.pad(w_hh, (0, pad)) if pad else w_hh.contiguous()


def padded_width(width: int) -> int:
    """Row width for a (rows, width) float32 buffer that the loops read a block of rows from at
    once: `width`, or 16 floats more where rows would sit a multiple of 4 KiB apart, all in one
    set of the L1 cache (8 ways: a block of 12 rows would evict itself at every column)."""
    return width + 16 if (4 * width) % 4096 == 0 else width


def optional(t: torch.Tensor | None) -> torch.Tensor | None:
    """`t` contiguous, None stays None (no ``dy``, no ``state_grads``)."""
    return None if t is None else t.contiguous()

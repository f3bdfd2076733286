"""``python -m seqlab.nn.native``: build the C++ loops now (``make`` runs it after installing)."""

import time

from seqlab.nn import native

start = time.perf_counter()
built = native.loops()
state = "ready" if built is not None else "not built (the numba loops will run)"
print(f"seqlab.nn.native: {state} in {time.perf_counter() - start:.1f} s")

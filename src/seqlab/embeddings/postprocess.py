"""Post-processing of trained word vectors: "all-but-the-top" (Mu and Viswanath, 2018).

Trained vectors share a large common mean and a few dominant directions that mostly encode
word frequency, not meaning. :func:`all_but_the_top` subtracts the mean vector and removes the
projections on the top ``components`` principal directions, which makes the remaining
directions, and so cosine similarities and analogy offsets, depend more on meaning.
"""

from __future__ import annotations

import numpy as np

from seqlab.checks import check_int
from seqlab.embeddings.keyedvectors import KeyedVectors


def all_but_the_top(kv: KeyedVectors, components: int) -> KeyedVectors:
    """``kv`` with its mean subtracted and its top ``components`` principal directions removed.

    Parameters
    ----------
    kv : KeyedVectors
        The vectors (every row counts: mean and directions are those of the whole vocabulary,
        as in the paper).
    components : int
        How many principal directions to remove (the paper: about ``d / 100``); 0 only
        centres the vectors.

    Returns
    -------
    KeyedVectors
        New vectors (float32), same words and counts; ``kv`` is unchanged. fastText n-grams are
        not carried over: the result holds the vocabulary's vectors only.

    Raises
    ------
    ValueError
        ``components`` negative, or not smaller than both the vector size and the number of
        words.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(50, 4)).astype(np.float32) + 10   # a large common mean
    >>> kv = all_but_the_top(KeyedVectors([str(i) for i in range(50)], x), 1)
    >>> bool(np.allclose(kv.vectors.mean(axis=0), 0, atol=1e-5))
    True
    """
    limit = min(kv.vector_size, len(kv)) - 1
    components = check_int("components", components, low=0, high=limit)
    # float64: the centred matrix of a large vocabulary loses digits in float32 sums
    x = kv.vectors.astype(np.float64)
    x -= x.mean(axis=0)
    if components:
        # the top right singular vectors of the centred matrix are its principal directions
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        top = vt[:components]  # (components, d)
        x -= (x @ top.T) @ top
    return KeyedVectors(kv.index_to_key, x.astype(np.float32), kv.counts)

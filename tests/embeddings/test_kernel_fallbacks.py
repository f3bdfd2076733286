"""The numba training kernels: NaN is never turned into a number, and numba's private
``_nrt=False`` fails soft to plain ``njit``."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from seqlab.embeddings import _kernels_w2v as K
from seqlab.embeddings.fasttext import FastText
from seqlab.embeddings.training import TrainingDivergedError
from seqlab.embeddings.word2vec import Word2Vec

CORPUS = [["a", "b", "c", "d"], ["b", "c", "e"], ["a", "e", "d", "c"]] * 30


@pytest.mark.parametrize("cls", [Word2Vec, FastText])
@pytest.mark.parametrize("algo", ["skipgram", "cbow"])
@pytest.mark.parametrize("matrix", ["syn0", "syn1neg"])
def test_a_nan_weight_stops_training_with_a_clear_error(cls, algo, matrix):
    # a NaN in a row that training reads spreads; it must end in an error, never in vectors
    model = cls(algo, vector_size=8, min_count=1, epochs=2, workers=1, sample=0)
    corpus = model.build(CORPUS)
    model.weights[matrix][0, 0] = np.nan
    with pytest.raises(TrainingDivergedError, match="diverged at epoch 1"):
        model.train(corpus, progress=False)


def test_kernels_compile_without_reference_counting_here():
    # the fast configuration is the one in use: no fallback on this numba
    with warnings.catch_warnings():
        warnings.simplefilter("error", K.RefcountFallbackWarning)
        Word2Vec(vector_size=8, min_count=1, epochs=1, workers=1).train(CORPUS, progress=False)
    assert not K._loops_refcounted


# Run in a fresh interpreter whose numba does not know ``_nrt`` (it is renamed before the
# kernels are defined), with an empty numba cache so that nothing compiled before is reused.
# (CBOW only: compiling every kernel from scratch takes minutes; the mechanism is shared.)
CHILD = textwrap.dedent(
    """
    import sys, warnings
    import numba
    import numpy as np

    real_njit = numba.njit

    def njit(*args, **options):
        if "_nrt" in options:
            options["_nrt_unknown"] = options.pop("_nrt")  # numba rejects unknown options
        return real_njit(*args, **options)

    numba.njit = njit
    from seqlab.embeddings import _kernels_w2v as K
    from seqlab.embeddings.word2vec import Word2Vec

    corpus = [["a", "b", "c", "d"], ["b", "c", "e"], ["a", "e", "d", "c"]] * 30
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = [Word2Vec("cbow", vector_size=8, min_count=1, epochs=1, workers=1, seed=3)] * 2
        vectors = [m.train(corpus, progress=False).vectors for m in runs]  # one warning for both
    fallbacks = [w for w in caught if issubclass(w.category, K.RefcountFallbackWarning)]
    assert len(fallbacks) == 1, [str(w.message) for w in caught]
    assert "_nrt=False" in str(fallbacks[0].message)
    assert K._loops_refcounted
    np.savez(sys.argv[1], *vectors)
    """
)


def test_kernels_fall_back_to_plain_njit_with_one_warning(tmp_path):
    out = tmp_path / "vectors.npz"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    subprocess.run(
        [sys.executable, "-c", CHILD, str(out)], env=env, check=True, capture_output=True
    )
    fell_back = np.load(out)
    model = Word2Vec("cbow", vector_size=8, min_count=1, epochs=1, workers=1, seed=3)
    expected = model.train(CORPUS, progress=False).vectors
    np.testing.assert_array_equal(fell_back["arr_0"], expected)  # the same arithmetic
    np.testing.assert_array_equal(fell_back["arr_1"], expected)

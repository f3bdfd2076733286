"""Numba kernels of word2vec and fastText training: one call trains one chunk of sentences.

Each kernel is compiled with ``nogil=True`` so that every worker thread runs its own slice of the
corpus in parallel, updating the shared matrices without locks (Hogwild, as word2vec does).
Everything a kernel draws at random comes from the per-thread ``state`` array, so one worker
and one seed give bit-identical vectors on every run, and a checkpoint that stores ``state``
resumes exactly.

Shapes (V = vocabulary size, d = vector size, R = input rows, L = longest Huffman code):

- ``ids`` (n,) int32: the corpus as word ids; ``starts``/``ends`` (S,) int64: sentence bounds.
- ``syn0`` (R, d) float32: input vectors. word2vec: R = V, row = word id. fastText: R = V +
  used n-gram buckets; word ``w`` reads rows ``sub_idx[sub_ptr[w]:sub_ptr[w + 1]]`` (its own row
  first, then its n-grams), and its input vector is their mean.
- ``syn1neg`` (V, d): output vectors of negative sampling. ``syn1`` (V - 1, d): output vectors of
  the Huffman tree's inner nodes (hierarchical softmax); ``points`` (V, L) int32 are the inner
  nodes on a word's path, ``codes`` (V, L) int8 the branch taken, ``code_lens`` (V,) int32.
- ``keep`` (V,) int64: a word is kept by subsampling when a 32-bit random number is below it.
- ``neg_table`` (T,) int32: word ids repeated in proportion to count**power, shuffled once; a
  worker walks it sequentially (as fastText does) instead of drawing a random index, which keeps
  the table out of the cache-miss path.
- ``state`` (2,) uint64: the worker's LCG state and its position in ``neg_table``.

Every kernel returns ``(loss_sum, n_examples, n_words)``: the summed objective
``-log sigmoid(+-u.v)`` over all updates, the number of (input, target word) examples it
covered, and the raw words read (subsampled ones included).
"""

from __future__ import annotations

import threading
import warnings

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# The kernels' long argument lists stay compact: formatter off for the rest of the file.
# fmt: off

# Reassociation lets LLVM vectorise the dot products; "nnan"/"ninf" are left out on purpose so
# that a diverging run yields NaN (caught and reported) rather than undefined behaviour.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

# Each kernel allocates its buffers, then runs its loop over words in a function compiled without
# numba's reference counting (``_nrt=False``, so it can allocate nothing): numba would otherwise
# count a reference to every array an inlined helper takes, two atomic operations per array and
# call; with the per-example helpers (:func:`_learn`, :func:`_predict`) that made CBOW ~25% slower.
NO_REFCOUNT = {"_nrt": False, "nogil": True, "cache": True, "fastmath": FASTMATH}
#: The options of the chunk kernels, and of the loops if ``_nrt=False`` fails (see FailSoftKernel).
WITH_REFCOUNT = {"nogil": True, "cache": True, "fastmath": FASTMATH}


class RefcountFallbackWarning(RuntimeWarning):
    """numba could not compile the loops without reference counting; they run with it."""


_LOOPS = {}  # name -> Python function of every loop compiled with NO_REFCOUNT
_fallback_lock = threading.Lock()
_loops_refcounted = False


def _loop(fn):
    """Compile a kernel's loop with :data:`NO_REFCOUNT`, keeping its Python function for
    :func:`_recompile_loops_with_refcount`."""
    _LOOPS[fn.__name__] = fn
    return njit(**NO_REFCOUNT)(fn)


def _recompile_loops_with_refcount(error: Exception) -> None:
    """Rebind every loop to a plain ``njit`` compilation (:data:`WITH_REFCOUNT`); warn once."""
    global _loops_refcounted
    with _fallback_lock:
        if _loops_refcounted:
            return
        for name, fn in _LOOPS.items():
            globals()[name] = njit(**WITH_REFCOUNT)(fn)
        _loops_refcounted = True
        reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
        warnings.warn(
            f"numba {numba.__version__} could not compile the word2vec/fastText loops without "
            f"reference counting (its private option _nrt=False): {reason}. They are compiled "
            "with plain njit instead: same results, somewhat slower training.",
            RefcountFallbackWarning,
            stacklevel=4,
        )


class FailSoftKernel:
    """A chunk kernel (``njit`` with :data:`WITH_REFCOUNT`) that survives its loop's option.

    The loop a kernel calls is compiled with numba's private ``_nrt=False``, which a numba
    release may drop or refuse for some loop. If compiling the kernel for the arguments of a
    call fails, every loop is compiled again with plain ``njit``, one
    :class:`RefcountFallbackWarning` says so, and the call is repeated on a fresh compilation of
    the kernel (numba resolves the loops when it compiles the kernel). An error raised by a kernel
    that did compile, or by a kernel compiled after the fallback, propagates as it is.
    """

    def __init__(self, fn):
        self.py_func = fn
        self.__name__, self.__doc__ = fn.__name__, fn.__doc__
        self._dispatcher = njit(**WITH_REFCOUNT)(fn)
        self._recompiled = False

    def __call__(self, *args):
        try:
            return self._dispatcher(*args)
        except Exception as error:  # numba raises KeyError, TypingError, LoweringError, ...
            if self._recompiled or self._compiled_for(args):
                raise
            _recompile_loops_with_refcount(error)
            self._dispatcher = njit(**WITH_REFCOUNT)(self.py_func)
            self._recompiled = True
            return self._dispatcher(*args)

    def _compiled_for(self, args) -> bool:
        types_ = tuple(self._dispatcher.typeof_pyval(a) for a in args)
        return types_ in self._dispatcher.overloads


MAX_EXP = 6.0  # sigmoid(6) = 0.9975: beyond it word2vec makes no update
TABLE_SIZE = 4096
_SCALE = TABLE_SIZE / (2.0 * MAX_EXP)
LCG_MUL = np.uint64(25214903917)
LCG_ADD = np.uint64(11)


def sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """``sigmoid(z)`` and ``-log sigmoid(z)`` at the centres of TABLE_SIZE bins over ±MAX_EXP."""
    z = (np.arange(TABLE_SIZE) + 0.5) / _SCALE - MAX_EXP
    sig = 1.0 / (1.0 + np.exp(-z))
    return sig.astype(np.float32), np.log1p(np.exp(-z)).astype(np.float32)


#: The two tables every kernel takes as its last arguments.
SIGMOID_TABLES = sigmoid_tables()


@njit(inline="always")
def _next_random(state):
    state[0] = state[0] * LCG_MUL + LCG_ADD
    return (state[0] >> np.uint64(16)) & np.uint64(0xFFFFFFFF)


@njit(inline="always")
def _below(r32, n):
    """A 32-bit random number mapped to ``0..n-1`` (multiply-shift: no slow division)."""
    return np.int64((r32 * np.uint64(n)) >> np.uint64(32))


@intrinsic
def _prefetch_row(typingctx, matrix, row):
    """Start loading every 64-byte line of ``matrix[row]`` into cache (LLVM ``prefetch``).

    The kernels are bound by the latency of fetching random rows (output vectors of the next
    centre word and of its negatives, n-gram rows); these are known one centre word ahead, so
    asking for them early overlaps the fetch with the current word's arithmetic.
    """

    def codegen(context, builder, signature, args):
        matrix_type, row_type = signature.args
        array = context.make_array(matrix_type)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        index = context.cast(builder, args[1], row_type, types.intp)
        start = cgutils.get_item_pointer(context, builder, matrix_type, array, [index, zero],
                                         wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0"
        )
        base = builder.bitcast(start, i8p)
        item = context.get_constant(types.intp, matrix_type.dtype.bitwidth // 8)
        row_bytes = builder.mul(builder.extract_value(array.shape, 1), item)
        line = context.get_constant(types.intp, 64)
        with cgutils.for_range_slice(builder, zero, row_bytes, line) as (offset, _):
            # read (0), high temporal locality (3), data cache (1)
            builder.call(fn, [builder.gep(base, [offset]), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(matrix, row), codegen


@njit(inline="always")
def _subsample(ids, start, end, keep, state, sentence):
    """Copy the kept words of ``ids[start:end]`` into ``sentence``; return how many."""
    n = 0
    for i in range(start, end):
        w = ids[i]
        if keep[w] >= np.int64(0x100000000) or np.int64(_next_random(state)) < keep[w]:
            sentence[n] = w
            n += 1
    return n


@njit(inline="always")
def _sentence(ids, start, end, keep, state, sentence, alpha0, min_alpha, progress):
    """``(alpha, n, lcg)`` at the start of the sentence ``ids[start:end]``: the learning rate at
    ``progress`` (linear decay), how many words subsampling kept (into ``sentence``) and the
    random state to go on from."""
    alpha = max(min_alpha, alpha0 - (alpha0 - min_alpha) * progress)
    return alpha, _subsample(ids, start, end, keep, state, sentence), state[0]


# ------------------------------------------------------------------- CBOW's SIMD blocks
# LLVM vectorises a ``for k in range(d)`` loop 64 floats at a time and leaves the rest to a scalar
# loop: for d = 100, 36 of the 100 elements (in a dot product, a serial chain of 36 adds). The
# intrinsics below emit the vector code directly: full blocks of LANES floats, then one masked
# block for the rest, so every element goes through SIMD. A vector operand is a 1-D float32 array
# (``array`` or ``array, None``) or ``matrix, row`` (all of one size): a row is addressed in place,
# without the array view that ``matrix[row]`` would make (and count references to, with atomic
# operations). The ``None`` form lets one helper take either kind as two arguments.
LANES = 16  # float32 lanes of one block: one AVX-512 register, two AVX2 ones
_I32 = ir.IntType(32)
_VEC = ir.VectorType(ir.FloatType(), LANES)
_MASK = ir.VectorType(ir.IntType(1), LANES)


def _kinds(args):
    """The operands in the argument types ``args``: a string with a letter per operand, ``v`` a
    vector (a 1-D float32 array, optionally followed by None, or a 2-D one followed by an
    integer row) and ``s`` a float32 scalar, and the number of arguments each takes; None if
    something else."""
    kinds = ""
    widths = []
    i = 0
    while i < len(args):
        t = args[i]
        after = args[i + 1] if i + 1 < len(args) else None
        if isinstance(t, types.Array) and t.layout == "C" and t.dtype == types.float32:
            if t.ndim == 1:
                width = 2 if after == types.none else 1
            elif t.ndim == 2 and isinstance(after, types.Integer):
                width = 2
            else:
                return None
            kinds += "v"
        elif t == types.float32:
            kinds += "s"
            width = 1
        else:
            return None
        widths.append(width)
        i += width
    return kinds, widths


def _typed(args, kinds, result, codegen):
    """An intrinsic's ``(signature, codegen)`` if the argument types ``args`` are the operands
    ``kinds``, else None (no match). numba passes ``*args`` as one tuple: ``codegen`` gets them
    back as separate arguments."""
    found = _kinds(args)
    if found is None or found[0] != kinds:
        return None

    def unpacked(context, builder, signature, packed):
        flat = cgutils.unpack_tuple(builder, packed[0], len(args))
        return codegen(context, builder, result(*args), flat)

    return result(types.StarArgTuple.from_types(args)), unpacked


def _operands(context, builder, signature, args):
    """``(n, values)``: the vectors' size and, per operand, a float pointer (vectors) or a
    LANES-wide splat (scalars)."""
    values = []
    n = None
    i = 0
    for width in _kinds(signature.args)[1]:
        t = signature.args[i]
        if isinstance(t, types.Array):
            array = context.make_array(t)(context, builder, args[i])
            index = [ir.Constant(context.get_value_type(types.intp), 0)]
            if t.ndim == 2:
                row = context.cast(builder, args[i + 1], signature.args[i + 1], types.intp)
                index = [row, index[0]]
            values.append(cgutils.get_item_pointer(context, builder, t, array, index,
                                                   wraparound=False))
            if n is None:
                n = builder.extract_value(array.shape, t.ndim - 1)
        else:
            first = builder.insert_element(ir.Constant(_VEC, None), args[i], _I32(0))
            values.append(builder.shuffle_vector(first, ir.Constant(_VEC, None),
                                                 ir.Constant(ir.VectorType(_I32, LANES),
                                                             [0] * LANES)))
        i += width
    return n, values


def _intrinsic_fn(builder, name, result, *args):
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(result, args), name)


def _load(builder, pointer, k, mask):
    address = builder.bitcast(builder.gep(pointer, [k]), _VEC.as_pointer())
    if mask is None:
        return builder.load(address, align=4)
    fn = _intrinsic_fn(builder, "llvm.masked.load.v16f32.p0", _VEC, _VEC.as_pointer(), _I32,
                       _MASK, _VEC)
    return builder.call(fn, [address, _I32(4), mask, ir.Constant(_VEC, 0.0)])


def _store(builder, value, pointer, k, mask):
    address = builder.bitcast(builder.gep(pointer, [k]), _VEC.as_pointer())
    if mask is None:
        builder.store(value, address, align=4)
        return
    fn = _intrinsic_fn(builder, "llvm.masked.store.v16f32.p0", ir.VoidType(), _VEC,
                       _VEC.as_pointer(), _I32, _MASK)
    builder.call(fn, [value, address, _I32(4), mask])


def _fmuladd(builder, a, b, c):
    """``a * b + c``, fused where the CPU has FMA."""
    return builder.call(_intrinsic_fn(builder, "llvm.fmuladd.v16f32", _VEC, _VEC, _VEC, _VEC),
                        [a, b, c])


def _blocks(context, builder, n, body):
    """Emit ``body(k, mask)`` for the blocks ``k:k + LANES`` that cover ``0..n``: ``mask`` is
    None for full blocks and selects the lanes below ``n`` in the last, partial one."""
    intp = context.get_value_type(types.intp)
    full = builder.and_(n, ir.Constant(intp, -LANES))
    with cgutils.for_range_slice(builder, ir.Constant(intp, 0), full, ir.Constant(intp, LANES),
                                 intp) as (k, _):
        body(k, None)
    rest = builder.sub(n, full)
    with builder.if_then(builder.icmp_signed(">", rest, ir.Constant(intp, 0))):
        lanes = ir.Constant(ir.VectorType(intp, LANES), list(range(LANES)))
        first = builder.insert_element(ir.Constant(lanes.type, None), rest, _I32(0))
        splat = builder.shuffle_vector(first, ir.Constant(lanes.type, None),
                                       ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES))
        body(full, builder.icmp_signed("<", lanes, splat))


def _elementwise(update):
    """Codegen of ``y = update(builder, y, *others)`` over blocks (``y``: the first operand)."""

    def codegen(context, builder, signature, args):
        n, (y, *others) = _operands(context, builder, signature, args)

        def body(k, mask):
            loaded = [v if v.type == _VEC else _load(builder, v, k, mask) for v in others]
            _store(builder, update(builder, _load(builder, y, k, mask), *loaded), y, k, mask)

        _blocks(context, builder, n, body)
        return context.get_dummy_value()

    return codegen


@intrinsic
def _add(typingctx, *args):
    """``y += x`` (vectors ``y, x``)."""
    return _typed(args, "vv", types.void, _elementwise(lambda b, y, x: b.fadd(y, x)))


@intrinsic
def _axpy(typingctx, *args):
    """``y += a * x`` (vectors ``y, a, x``, ``a`` float32)."""
    return _typed(args, "vsv", types.void, _elementwise(lambda b, y, a, x: _fmuladd(b, a, x, y)))


@intrinsic
def _scale(typingctx, *args):
    """``y *= a`` (vector ``y``, ``a`` float32)."""
    return _typed(args, "vs", types.void, _elementwise(lambda b, y, a: b.fmul(y, a)))


@intrinsic
def _dot(typingctx, *args):
    """``x . y`` as float32 (vectors ``x, y``; the lanes are summed pairwise)."""

    def codegen(context, builder, signature, args):
        n, (px, py) = _operands(context, builder, signature, args)
        total = cgutils.alloca_once_value(builder, ir.Constant(_VEC, 0.0))

        def body(k, mask):
            product = _fmuladd(builder, _load(builder, px, k, mask), _load(builder, py, k, mask),
                               builder.load(total))
            builder.store(product, total)

        _blocks(context, builder, n, body)
        v = builder.load(total)
        width = LANES
        while width > 1:  # add the upper half of the lanes onto the lower half
            width //= 2
            halves = [builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(_I32, width),
                                                               list(range(lo, lo + width))))
                      for lo in (0, width)]
            v = builder.fadd(*halves)
        return builder.extract_element(v, _I32(0))

    return _typed(args, "vv", types.float32, codegen)


@njit(inline="always")
def _following(q, size):
    """The position after ``q`` in a table of ``size`` entries, wrapping to 0."""
    return q + np.uint64(1) if q + np.uint64(1) < size else np.uint64(0)


@njit(inline="always")
def _table_bin(z):
    """The bin of ``z`` in the sigmoid tables; 0 beyond ``±MAX_EXP`` or for NaN (unused there)."""
    if -MAX_EXP < z < MAX_EXP:
        return min(int((z + MAX_EXP) * _SCALE), TABLE_SIZE - 1)
    return 0


@njit(inline="always")
def _gradient_at(z, alpha, sig_z, logsig_z):
    """``(g, loss)`` of one logistic example with logit ``z`` of the right answer, given the
    tables' entries at ``_table_bin(z)``: ``g = (1 - sigmoid(z)) * alpha``, the step towards the
    right answer, and ``loss = -log sigmoid(z)``. A NaN ``z`` falls through to the last branch
    and propagates into the loss."""
    if z >= MAX_EXP:
        return 0.0, 0.0
    if z > -MAX_EXP:
        return (1.0 - sig_z) * alpha, logsig_z
    return alpha, -z


@njit(inline="always")
def _window(lcg, pos, n, window):
    """``(lcg, lo, hi)``: the next LCG state and the window ``lo:hi`` around ``pos``, shrunk by
    a random ``0..window - 1`` (as word2vec does); the state is a local scalar, not ``state``."""
    lcg = lcg * LCG_MUL + LCG_ADD  # _next_random on the local state
    reduced = _below((lcg >> np.uint64(16)) & np.uint64(0xFFFFFFFF), window)
    return lcg, max(0, pos - window + reduced), min(n, pos + window + 1 - reduced)


@njit(inline="always")
def _sentence_buffer(starts, ends):
    """A buffer for the longest sentence of the chunk."""
    longest = 0
    for s in range(starts.shape[0]):
        longest = max(longest, ends[s] - starts[s])
    return np.empty(longest, dtype=np.int32)


@njit(inline="always")
def _prefetch_outputs(syn1neg, sentence, pos, n, neg_table, ahead, negative):
    """Prefetch the output rows of negative sampling that the next example will likely use: that
    of ``sentence[pos + 1]`` and those of the negatives from position ``ahead`` of the negative
    table on. Called once per centre word, and again after every draw where the negatives are
    drawn per example (skip-gram's per-pair mode, fastText's skip-gram)."""
    if negative > 0:
        size = np.uint64(neg_table.shape[0])
        if pos + 1 < n:
            _prefetch_row(syn1neg, sentence[pos + 1])
        for _ in range(negative):
            if ahead >= size:
                ahead -= size
            _prefetch_row(syn1neg, neg_table[ahead])
            ahead += np.uint64(1)


@njit(inline="always")
def _draw(target, out_rows, neg_table, q, negative):
    """``out_rows[0] = target`` and ``out_rows[1:negative + 1]`` = the next entries of the
    negative table from position ``q`` on that are not ``target``; returns the new position."""
    size = np.uint64(neg_table.shape[0])
    out_rows[0] = target
    for k in range(1, negative + 1):
        neg = neg_table[q]
        q = _following(q, size)
        while neg == target:
            neg = neg_table[q]
            q = _following(q, size)
        out_rows[k] = neg
    return q


@njit(inline="always", fastmath=FASTMATH)
def _learn(x, x_row, out, row, label, alpha, neu1e, sig, logsig):
    """One logistic example: score the input ``x, x_row`` (a vector operand: ``h, None`` or
    ``syn0, row``) against ``out[row]``, step ``out[row]`` and add the input's step to
    ``neu1e``; returns the example's loss."""
    f = _dot(x, x_row, out, row)
    z = f if label else -f  # the logit of the right answer
    i = _table_bin(z)
    g, loss = _gradient_at(z, alpha, sig[i], logsig[i])
    if g != 0.0:
        g32 = np.float32(g if label else -g)
        _axpy(neu1e, g32, out, row)  # before out[row] changes
        _axpy(out, row, g32, x, x_row)
    return loss


@njit(inline="always", fastmath=FASTMATH)
def _predict(x, x_row, target, out_rows, syn1neg, syn1, points, codes, code_lens, negative, hs,
             alpha, neu1e, sig, logsig):
    """All updates that make the input ``x, x_row`` predict ``target``: negative sampling over
    ``out_rows`` (``target``, label 1, then its negatives, label 0; see :func:`_draw`) and/or
    HS; returns the loss."""
    loss = 0.0
    for j in range(negative + 1 if negative > 0 else 0):
        loss += _learn(x, x_row, syn1neg, out_rows[j], j == 0, alpha, neu1e, sig, logsig)
    if hs:  # the inner nodes on target's path; word2vec's label = 1 - code
        for j in range(code_lens[target]):
            loss += _learn(x, x_row, syn1, points[target, j], codes[target, j] == 0, alpha, neu1e,
                           sig, logsig)
    return loss


@FailSoftKernel
def cbow_chunk(ids, starts, ends, syn0, sub_ptr, sub_idx, syn1neg, syn1, points, codes, code_lens,
               keep, neg_table, state, window, negative, hs, alpha0, min_alpha, progress0,
               progress_step, sig, logsig):
    """CBOW: the mean of the context words' input rows predicts the centre word.

    word2vec passes ``sub_ptr = sub_idx = None``: each word has one input row, its own, read
    straight by id. numba compiles that call as a separate specialisation in which every
    ``sub_ptr is None`` test is decided at compile time, so the word2vec loop carries no
    indirection and no branch for it. fastText passes its rows: those of all context words'
    n-grams are averaged together, as fastText's cbow does. As in both, every input row then
    receives the full (not divided) gradient.

    Its loop over centre words runs without reference counting (see :data:`NO_REFCOUNT`), the
    vector arithmetic goes through the SIMD intrinsics, and the random state and the negative
    table's position live in local scalars.
    """
    d = syn0.shape[1]
    neu1e = np.zeros(d, dtype=np.float32)
    h = np.zeros(d, dtype=np.float32)
    most_rows = 1
    if sub_ptr is not None:
        for w in range(sub_ptr.shape[0] - 1):
            most_rows = max(most_rows, sub_ptr[w + 1] - sub_ptr[w])
    sentence = _sentence_buffer(starts, ends)
    rows = np.empty(2 * window * most_rows, dtype=np.int32)
    out_rows = np.empty(negative + 1, dtype=np.int32)
    return _cbow_loop(ids, starts, ends, syn0, sub_ptr, sub_idx, syn1neg, syn1, points, codes,
                      code_lens, keep, neg_table, state, window, negative, hs, alpha0, min_alpha,
                      progress0, progress_step, sig, logsig, sentence, rows, out_rows, h, neu1e)


@_loop
def _cbow_loop(ids, starts, ends, syn0, sub_ptr, sub_idx, syn1neg, syn1, points, codes, code_lens,
               keep, neg_table, state, window, negative, hs, alpha0, min_alpha, progress0,
               progress_step, sig, logsig, sentence, rows, out_rows, h, neu1e):
    """The loop of :func:`cbow_chunk`, given its buffers."""
    q = state[1]  # position in neg_table
    loss_sum, n_examples, n_words = 0.0, 0, 0
    for s in range(starts.shape[0]):
        alpha, n, lcg = _sentence(ids, starts[s], ends[s], keep, state, sentence, alpha0,
                                  min_alpha, progress0 + n_words * progress_step)
        n_words += ends[s] - starts[s]
        for pos in range(n):
            word = sentence[pos]
            _prefetch_outputs(syn1neg, sentence, pos, n, neg_table, q + np.uint64(negative),
                              negative)
            if pos + window + 1 < n:  # the input rows of the word entering the next window
                upcoming = sentence[pos + window + 1]
                if sub_ptr is None:
                    _prefetch_row(syn0, upcoming)
                else:
                    for r in range(sub_ptr[upcoming], sub_ptr[upcoming + 1]):
                        _prefetch_row(syn0, sub_idx[r])
            lcg, lo, hi = _window(lcg, pos, n, window)
            n_rows = 0
            for c in range(lo, hi):
                if c == pos:
                    continue
                w = sentence[c]
                if sub_ptr is None:
                    rows[n_rows] = w
                    n_rows += 1
                else:
                    for r in range(sub_ptr[w], sub_ptr[w + 1]):
                        rows[n_rows] = sub_idx[r]
                        n_rows += 1
            if n_rows == 0:
                continue
            h[:] = 0.0
            for r in range(n_rows):
                _add(h, syn0, rows[r])
            _scale(h, np.float32(1.0 / n_rows))
            neu1e[:] = 0.0
            q = _draw(word, out_rows, neg_table, q, negative)
            loss_sum += _predict(h, None, word, out_rows, syn1neg, syn1, points, codes, code_lens,
                                 negative, hs, alpha, neu1e, sig, logsig)
            for r in range(n_rows):
                _add(syn0, rows[r], neu1e)
            n_examples += 1
        state[0] = lcg
    state[1] = q
    return loss_sum, n_examples, n_words


@FailSoftKernel
def skipgram_chunk(ids, starts, ends, syn0, syn1neg, syn1, points, codes, code_lens, keep,
                   neg_table, state, window, negative, hs, alpha0, min_alpha, progress0,
                   progress_step, shared, sig, logsig):
    """word2vec skip-gram over sentences ``starts[i]:ends[i]``.

    Each context word's input vector predicts the centre word. With ``shared`` the K negatives
    are drawn once per centre word and shared by all its context words (Ji et al. 2016), so the
    K + 1 output rows stay in L1 cache while the window's inputs stream past them; otherwise
    every (context, centre) pair draws its own, as word2vec does. Written as :func:`cbow_chunk`
    is (no reference counting, SIMD intrinsics, local random state and table position).
    """
    neu1e = np.zeros(syn0.shape[1], dtype=np.float32)
    sentence = _sentence_buffer(starts, ends)
    out_rows = np.empty(negative + 1, dtype=np.int32)
    return _skipgram_loop(ids, starts, ends, syn0, syn1neg, syn1, points, codes, code_lens, keep,
                          neg_table, state, window, negative, hs, alpha0, min_alpha, progress0,
                          progress_step, shared, sig, logsig, sentence, out_rows, neu1e)


@_loop
def _skipgram_loop(ids, starts, ends, syn0, syn1neg, syn1, points, codes, code_lens, keep,
                   neg_table, state, window, negative, hs, alpha0, min_alpha, progress0,
                   progress_step, shared, sig, logsig, sentence, out_rows, neu1e):
    """The loop of :func:`skipgram_chunk`, given its buffers."""
    q = state[1]  # position in neg_table
    loss_sum, n_examples, n_words = 0.0, 0, 0
    for s in range(starts.shape[0]):
        alpha, n, lcg = _sentence(ids, starts[s], ends[s], keep, state, sentence, alpha0,
                                  min_alpha, progress0 + n_words * progress_step)
        n_words += ends[s] - starts[s]
        for pos in range(n):
            word = sentence[pos]
            lcg, lo, hi = _window(lcg, pos, n, window)
            if shared:
                q = _draw(word, out_rows, neg_table, q, negative)
            _prefetch_outputs(syn1neg, sentence, pos, n, neg_table, q, negative)
            for c in range(lo, hi):
                if c == pos:
                    continue
                if not shared:
                    q = _draw(word, out_rows, neg_table, q, negative)
                    _prefetch_outputs(syn1neg, sentence, pos, n, neg_table, q, negative)
                context = sentence[c]
                neu1e[:] = 0.0
                loss_sum += _predict(syn0, context, word, out_rows, syn1neg, syn1, points, codes,
                                     code_lens, negative, hs, alpha, neu1e, sig, logsig)
                _add(syn0, context, neu1e)
                n_examples += 1
        state[0] = lcg
    state[1] = q
    return loss_sum, n_examples, n_words


@FailSoftKernel
def subword_skipgram_chunk(ids, starts, ends, syn0, sub_ptr, sub_idx, syn1neg, syn1, points, codes,
                           code_lens, keep, neg_table, state, window, negative, hs, alpha0,
                           min_alpha, progress0, progress_step, sig, logsig):
    """fastText skip-gram: the centre word's input (mean of its rows) predicts each context word.

    fastText recomputes the mean and rewrites all of the centre word's rows after every context
    word. Adding a step to every row adds the same step to their mean, so this kernel keeps the
    mean ``h`` up to date in place and writes the summed step back to the rows once per centre
    word: the same arithmetic with one gather and one scatter instead of one per context word.
    Written as :func:`cbow_chunk` is (no reference counting, SIMD intrinsics, local random state
    and table position).
    """
    d = syn0.shape[1]
    neu1e = np.zeros(d, dtype=np.float32)
    total = np.zeros(d, dtype=np.float32)
    h = np.zeros(d, dtype=np.float32)
    sentence = _sentence_buffer(starts, ends)
    out_rows = np.empty(negative + 1, dtype=np.int32)
    return _subword_skipgram_loop(ids, starts, ends, syn0, sub_ptr, sub_idx, syn1neg, syn1, points,
                                  codes, code_lens, keep, neg_table, state, window, negative, hs,
                                  alpha0, min_alpha, progress0, progress_step, sig, logsig,
                                  sentence, out_rows, h, total, neu1e)


@_loop
def _subword_skipgram_loop(ids, starts, ends, syn0, sub_ptr, sub_idx, syn1neg, syn1, points, codes,
                           code_lens, keep, neg_table, state, window, negative, hs, alpha0,
                           min_alpha, progress0, progress_step, sig, logsig, sentence, out_rows, h,
                           total, neu1e):
    """The loop of :func:`subword_skipgram_chunk`, given its buffers."""
    q = state[1]  # position in neg_table
    loss_sum, n_examples, n_words = 0.0, 0, 0
    for s in range(starts.shape[0]):
        alpha, n, lcg = _sentence(ids, starts[s], ends[s], keep, state, sentence, alpha0,
                                  min_alpha, progress0 + n_words * progress_step)
        n_words += ends[s] - starts[s]
        for pos in range(n):
            word = sentence[pos]
            lcg, lo, hi = _window(lcg, pos, n, window)
            if pos + 1 < n:  # the next centre word's rows
                upcoming = sentence[pos + 1]
                for r in range(sub_ptr[upcoming], sub_ptr[upcoming + 1]):
                    _prefetch_row(syn0, sub_idx[r])
            if hi - lo <= 1:
                continue
            h[:] = 0.0
            first, last = sub_ptr[word], sub_ptr[word + 1]
            for r in range(first, last):
                _add(h, syn0, sub_idx[r])
            _scale(h, np.float32(1.0 / (last - first)))
            total[:] = 0.0
            for c in range(lo, hi):
                if c == pos:
                    continue
                target = sentence[c]
                neu1e[:] = 0.0
                q = _draw(target, out_rows, neg_table, q, negative)
                _prefetch_outputs(syn1neg, sentence, c, n, neg_table, q, negative)
                loss_sum += _predict(h, None, target, out_rows, syn1neg, syn1, points, codes,
                                     code_lens, negative, hs, alpha, neu1e, sig, logsig)
                _add(h, neu1e)
                _add(total, neu1e)
                n_examples += 1
            for r in range(first, last):
                _add(syn0, sub_idx[r], total)
        state[0] = lcg
    state[1] = q
    return loss_sum, n_examples, n_words


# fmt: on

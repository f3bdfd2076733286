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


@njit(inline="always")
def _next_negative(state, neg_table):
    pos = state[1]
    state[1] = pos + np.uint64(1) if pos + np.uint64(1) < neg_table.shape[0] else np.uint64(0)
    return neg_table[pos]


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
def _prefetch_outputs(sentence, pos, n, syn1neg, neg_table, state, skip, negative):
    """Prefetch the output rows the next centre word will use: its own and, from the negative
    table ``skip`` entries ahead, its negatives."""
    if negative == 0:
        return
    if pos + 1 < n:
        _prefetch_row(syn1neg, sentence[pos + 1])
    q = state[1] + np.uint64(skip)
    for _ in range(negative):
        if q >= neg_table.shape[0]:
            q -= np.uint64(neg_table.shape[0])
        _prefetch_row(syn1neg, neg_table[q])
        q += np.uint64(1)


@njit(inline="always")
def _gradient(f, label, alpha, sig, logsig):
    """``(g, loss)`` of one logistic example: ``g = (label - sigmoid(f)) * alpha``.

    ``z`` is the logit of the right answer; the branches keep a NaN ``f`` away from the table
    index (it falls through to the last branch and propagates into the loss).
    """
    z = f if label else -f
    if z >= MAX_EXP:
        return 0.0, 0.0
    if z > -MAX_EXP:
        i = min(int((z + MAX_EXP) * _SCALE), TABLE_SIZE - 1)
        g = (1.0 - sig[i]) * alpha
        loss = logsig[i]
    else:
        g = alpha
        loss = -z
    return (g if label else -g), loss


@njit(inline="always", fastmath=FASTMATH)
def _logistic_update(l1, out, row, label, alpha, neu1e, sig, logsig):
    """One example: score ``l1 . out[row]``, step ``out[row]``, accumulate the input's step."""
    f = np.float32(0.0)
    for k in range(l1.shape[0]):
        f += l1[k] * out[row, k]
    g, loss = _gradient(f, label, alpha, sig, logsig)
    if g != 0.0:
        g32 = np.float32(g)
        for k in range(l1.shape[0]):
            neu1e[k] += g32 * out[row, k]
            out[row, k] += g32 * l1[k]
    return loss


@njit(inline="always", fastmath=FASTMATH)
def _predict(l1, target, syn1neg, syn1, points, codes, code_lens, neg_table, negative, hs, alpha,
             neu1e, state, sig, logsig):
    """All updates that make ``l1`` predict ``target``: negative sampling and/or HS."""
    loss = 0.0
    if negative > 0:
        loss += _logistic_update(l1, syn1neg, target, True, alpha, neu1e, sig, logsig)
        for _ in range(negative):
            neg = _next_negative(state, neg_table)
            while neg == target:
                neg = _next_negative(state, neg_table)
            loss += _logistic_update(l1, syn1neg, neg, False, alpha, neu1e, sig, logsig)
    if hs:
        for j in range(code_lens[target]):
            # word2vec's convention: label = 1 - code
            loss += _logistic_update(
                l1, syn1, points[target, j], codes[target, j] == 0, alpha, neu1e, sig, logsig
            )
    return loss


@njit(inline="always")
def _draw_negatives(word, out_rows, state, neg_table, negative):
    """``out_rows[1:negative + 1]`` = the next negatives of the table, skipping ``word``."""
    for k in range(1, negative + 1):
        neg = _next_negative(state, neg_table)
        while neg == word:
            neg = _next_negative(state, neg_table)
        out_rows[k] = neg


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
def _alpha(alpha0, min_alpha, progress):
    return max(min_alpha, alpha0 - (alpha0 - min_alpha) * progress)


@njit(nogil=True, cache=True, fastmath=FASTMATH)
def skipgram_chunk(ids, starts, ends, syn0, syn1neg, syn1, points, codes, code_lens, keep,
                   neg_table, state, window, negative, hs, alpha0, min_alpha, progress0,
                   progress_step, shared, sig, logsig):
    """word2vec skip-gram over sentences ``starts[i]:ends[i]``.

    Each context word's input vector predicts the centre word. With ``shared`` the K negatives
    are drawn once per centre word and shared by all its context words (Ji et al. 2016), so the
    K + 1 output rows stay in L1 cache while the window's inputs stream past them; otherwise
    every (context, centre) pair draws its own, as word2vec does.
    """
    d = syn0.shape[1]
    neu1e = np.zeros(d, dtype=np.float32)
    longest = 0
    for s in range(starts.shape[0]):
        longest = max(longest, ends[s] - starts[s])
    sentence = np.empty(longest, dtype=np.int32)
    out_rows = np.empty(negative + 1, dtype=np.int32)
    loss_sum = 0.0
    n_examples = 0
    n_words = 0
    for s in range(starts.shape[0]):
        alpha = _alpha(alpha0, min_alpha, progress0 + n_words * progress_step)
        n = _subsample(ids, starts[s], ends[s], keep, state, sentence)
        n_words += ends[s] - starts[s]
        for pos in range(n):
            word = sentence[pos]
            reduced = _below(_next_random(state), window)
            lo = max(0, pos - window + reduced)
            hi = min(n, pos + window + 1 - reduced)
            out_rows[0] = word
            if shared:
                _draw_negatives(word, out_rows, state, neg_table, negative)
            _prefetch_outputs(sentence, pos, n, syn1neg, neg_table, state, 0, negative)
            for c in range(lo, hi):
                if c == pos:
                    continue
                if not shared:
                    _draw_negatives(word, out_rows, state, neg_table, negative)
                l1 = syn0[sentence[c]]
                neu1e[:] = 0.0
                for k in range(negative + 1 if negative > 0 else 0):
                    loss_sum += _logistic_update(
                        l1, syn1neg, out_rows[k], k == 0, alpha, neu1e, sig, logsig
                    )
                if hs:
                    for j in range(code_lens[word]):
                        loss_sum += _logistic_update(l1, syn1, points[word, j],
                                                     codes[word, j] == 0, alpha, neu1e, sig, logsig)
                for k in range(d):
                    l1[k] += neu1e[k]
                n_examples += 1
    return loss_sum, n_examples, n_words


# ------------------------------------------------------------------- CBOW's SIMD blocks
# LLVM vectorises a ``for k in range(d)`` loop 64 floats at a time and leaves the rest to a scalar
# loop: for d = 100, 36 of the 100 elements (in a dot product, a serial chain of 36 adds). The
# intrinsics below emit the vector code directly: full blocks of LANES floats, then one masked
# block for the rest, so every element goes through SIMD. A vector operand is a 1-D float32 array
# or ``matrix, row`` (all of one size): a row is addressed in place, without the array view that
# ``matrix[row]`` would make (and count references to, with atomic operations).
LANES = 16  # float32 lanes of one block: one AVX-512 register, two AVX2 ones
_I32 = ir.IntType(32)
_VEC = ir.VectorType(ir.FloatType(), LANES)
_MASK = ir.VectorType(ir.IntType(1), LANES)


def _kinds(*args):
    """The operands' kinds as a string, one letter each: ``v`` a 1-D float32 array, ``m`` a 2-D
    one followed by an integer row, ``s`` a float32 scalar; None if something else."""
    kinds = ""
    i = 0
    while i < len(args):
        t = args[i]
        if isinstance(t, types.Array) and t.layout == "C" and t.dtype == types.float32:
            if t.ndim == 1:
                kinds += "v"
            elif t.ndim == 2 and i + 1 < len(args) and isinstance(args[i + 1], types.Integer):
                kinds += "m"
                i += 1
            else:
                return None
        elif t == types.float32:
            kinds += "s"
        else:
            return None
        i += 1
    return kinds


def _operands(context, builder, signature, args):
    """``(n, values)``: the vectors' size and, per operand, a float pointer (vectors) or a
    LANES-wide splat (scalars)."""
    values = []
    n = None
    i = 0
    while i < len(args):
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
            i += t.ndim
        else:
            first = builder.insert_element(ir.Constant(_VEC, None), args[i], _I32(0))
            values.append(builder.shuffle_vector(first, ir.Constant(_VEC, None),
                                                 ir.Constant(ir.VectorType(_I32, LANES),
                                                             [0] * LANES)))
            i += 1
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
def _add(typingctx, y, x, row):
    """``y += x[row]`` (``y`` 1-D, ``x`` 2-D)."""
    if _kinds(y, x, row) != "vm":
        return None
    return types.void(y, x, row), _elementwise(lambda b, y, x: b.fadd(y, x))


@intrinsic
def _add_to_row(typingctx, y, row, x):
    """``y[row] += x`` (``y`` 2-D, ``x`` 1-D)."""
    if _kinds(y, row, x) != "mv":
        return None
    return types.void(y, row, x), _elementwise(lambda b, y, x: b.fadd(y, x))


@intrinsic
def _axpy(typingctx, y, a, x, row):
    """``y += a * x[row]`` (``y`` 1-D, ``x`` 2-D, ``a`` float32)."""
    if _kinds(y, a, x, row) != "vsm":
        return None
    return types.void(y, a, x, row), _elementwise(lambda b, y, a, x: _fmuladd(b, a, x, y))


@intrinsic
def _axpy_to_row(typingctx, y, row, a, x):
    """``y[row] += a * x`` (``y`` 2-D, ``x`` 1-D, ``a`` float32)."""
    if _kinds(y, row, a, x) != "msv":
        return None
    return types.void(y, row, a, x), _elementwise(lambda b, y, a, x: _fmuladd(b, a, x, y))


@intrinsic
def _scale(typingctx, y, a):
    """``y *= a`` (``y`` 1-D, ``a`` float32)."""
    if _kinds(y, a) != "vs":
        return None
    return types.void(y, a), _elementwise(lambda b, y, a: b.fmul(y, a))


@intrinsic
def _dot(typingctx, x, y, row):
    """``x . y[row]`` as float32 (``x`` 1-D, ``y`` 2-D; the lanes are summed pairwise)."""
    if _kinds(x, y, row) != "vm":
        return None

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

    return types.float32(x, y, row), codegen


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
    """:func:`_gradient` for the logit ``z`` of the right answer, given the tables' entries at
    ``_table_bin(z)``: ``(g, loss)``, ``g`` the step towards the right answer."""
    if z >= MAX_EXP:
        return 0.0, 0.0
    if z > -MAX_EXP:
        return (1.0 - sig_z) * alpha, logsig_z
    return alpha, -z


@njit(nogil=True, cache=True, fastmath=FASTMATH)
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

    The loop over centre words hands no array to an inlined helper (numba would count a
    reference to it, two atomic operations, on every call): arrays are read in the loop body or
    by the SIMD intrinsics, and the random state and the negative table's position live in
    local scalars. Same examples, in the same order, as :func:`_predict` would make.
    """
    d = syn0.shape[1]
    neu1e = np.zeros(d, dtype=np.float32)
    h = np.zeros(d, dtype=np.float32)
    longest = 0
    for s in range(starts.shape[0]):
        longest = max(longest, ends[s] - starts[s])
    most_rows = 1
    if sub_ptr is not None:
        for w in range(sub_ptr.shape[0] - 1):
            most_rows = max(most_rows, sub_ptr[w + 1] - sub_ptr[w])
    sentence = np.empty(longest, dtype=np.int32)
    rows = np.empty(2 * window * most_rows, dtype=np.int32)
    table_size = np.uint64(neg_table.shape[0])
    q = state[1]  # position in neg_table
    loss_sum = 0.0
    n_examples = 0
    n_words = 0
    for s in range(starts.shape[0]):
        alpha = _alpha(alpha0, min_alpha, progress0 + n_words * progress_step)
        n = _subsample(ids, starts[s], ends[s], keep, state, sentence)
        n_words += ends[s] - starts[s]
        lcg = state[0]
        for pos in range(n):
            word = sentence[pos]
            if negative > 0:  # the next centre word's output rows: its own and its negatives
                if pos + 1 < n:
                    _prefetch_row(syn1neg, sentence[pos + 1])
                ahead = q + np.uint64(negative)
                for _ in range(negative):
                    if ahead >= table_size:
                        ahead -= table_size
                    _prefetch_row(syn1neg, neg_table[ahead])
                    ahead += np.uint64(1)
            if pos + window + 1 < n:  # the input rows of the word entering the next window
                upcoming = sentence[pos + window + 1]
                if sub_ptr is None:
                    _prefetch_row(syn0, upcoming)
                else:
                    for r in range(sub_ptr[upcoming], sub_ptr[upcoming + 1]):
                        _prefetch_row(syn0, sub_idx[r])
            lcg = lcg * LCG_MUL + LCG_ADD  # _next_random on the local state
            reduced = _below((lcg >> np.uint64(16)) & np.uint64(0xFFFFFFFF), window)
            lo = max(0, pos - window + reduced)
            hi = min(n, pos + window + 1 - reduced)
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
            # negative sampling: the centre word (label 1), then `negative` noise words (label 0)
            for j in range(negative + 1 if negative > 0 else 0):
                target = word
                if j > 0:
                    target = neg_table[q]
                    q = _following(q, table_size)
                    while target == word:
                        target = neg_table[q]
                        q = _following(q, table_size)
                f = _dot(h, syn1neg, target)
                z = f if j == 0 else -f  # the logit of the right answer
                i = _table_bin(z)
                g, loss = _gradient_at(z, alpha, sig[i], logsig[i])
                loss_sum += loss
                if g != 0.0:
                    g32 = np.float32(g if j == 0 else -g)
                    _axpy(neu1e, g32, syn1neg, target)  # before syn1neg[target] changes
                    _axpy_to_row(syn1neg, target, g32, h)
            if hs:  # the inner nodes on the centre word's path; word2vec's label = 1 - code
                for j in range(code_lens[word]):
                    node = points[word, j]
                    label = codes[word, j] == 0
                    f = _dot(h, syn1, node)
                    z = f if label else -f
                    i = _table_bin(z)
                    g, loss = _gradient_at(z, alpha, sig[i], logsig[i])
                    loss_sum += loss
                    if g != 0.0:
                        g32 = np.float32(g if label else -g)
                        _axpy(neu1e, g32, syn1, node)
                        _axpy_to_row(syn1, node, g32, h)
            for r in range(n_rows):
                _add_to_row(syn0, rows[r], neu1e)
            n_examples += 1
        state[0] = lcg
    state[1] = q
    return loss_sum, n_examples, n_words


@njit(nogil=True, cache=True, fastmath=FASTMATH)
def subword_skipgram_chunk(ids, starts, ends, syn0, sub_ptr, sub_idx, syn1neg, syn1, points, codes,
                           code_lens, keep, neg_table, state, window, negative, hs, alpha0,
                           min_alpha, progress0, progress_step, sig, logsig):
    """fastText skip-gram: the centre word's input (mean of its rows) predicts each context word.

    fastText recomputes the mean and rewrites all of the centre word's rows after every context
    word. Adding a step to every row adds the same step to their mean, so this kernel keeps the
    mean ``h`` up to date in place and writes the summed step back to the rows once per centre
    word: the same arithmetic with one gather and one scatter instead of one per context word.
    """
    d = syn0.shape[1]
    neu1e = np.zeros(d, dtype=np.float32)
    total = np.zeros(d, dtype=np.float32)
    h = np.zeros(d, dtype=np.float32)
    longest = 0
    for s in range(starts.shape[0]):
        longest = max(longest, ends[s] - starts[s])
    sentence = np.empty(longest, dtype=np.int32)
    loss_sum = 0.0
    n_examples = 0
    n_words = 0
    for s in range(starts.shape[0]):
        alpha = _alpha(alpha0, min_alpha, progress0 + n_words * progress_step)
        n = _subsample(ids, starts[s], ends[s], keep, state, sentence)
        n_words += ends[s] - starts[s]
        for pos in range(n):
            word = sentence[pos]
            reduced = _below(_next_random(state), window)
            lo = max(0, pos - window + reduced)
            hi = min(n, pos + window + 1 - reduced)
            if pos + 1 < n:  # the next centre word's rows
                upcoming = sentence[pos + 1]
                for r in range(sub_ptr[upcoming], sub_ptr[upcoming + 1]):
                    _prefetch_row(syn0, sub_idx[r])
            if hi - lo <= 1:
                continue
            h[:] = 0.0
            first, last = sub_ptr[word], sub_ptr[word + 1]
            for r in range(first, last):
                row = syn0[sub_idx[r]]
                for k in range(d):
                    h[k] += row[k]
            inv = np.float32(1.0 / (last - first))
            for k in range(d):
                h[k] *= inv
            total[:] = 0.0
            for c in range(lo, hi):
                if c == pos:
                    continue
                neu1e[:] = 0.0
                loss_sum += _predict(h, sentence[c], syn1neg, syn1, points, codes, code_lens,
                                     neg_table, negative, hs, alpha, neu1e, state, sig, logsig)
                for k in range(d):
                    h[k] += neu1e[k]
                    total[k] += neu1e[k]
                n_examples += 1
            for r in range(first, last):
                row = syn0[sub_idx[r]]
                for k in range(d):
                    row[k] += total[k]
    return loss_sum, n_examples, n_words


# fmt: on

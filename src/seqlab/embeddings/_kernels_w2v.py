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


@njit(nogil=True, cache=True, fastmath=FASTMATH)
def cbow_chunk(ids, starts, ends, syn0, sub_ptr, sub_idx, syn1neg, syn1, points, codes, code_lens,
               keep, neg_table, state, window, negative, hs, alpha0, min_alpha, progress0,
               progress_step, sig, logsig):
    """CBOW: the mean of the context words' input rows predicts the centre word.

    word2vec: each word has one input row. fastText: the rows of all context words' n-grams are
    averaged together, as fastText's cbow does. As in both, every input row then receives the
    full (not divided) gradient.
    """
    d = syn0.shape[1]
    neu1e = np.zeros(d, dtype=np.float32)
    h = np.zeros(d, dtype=np.float32)
    longest = 0
    most_rows = 0
    for s in range(starts.shape[0]):
        longest = max(longest, ends[s] - starts[s])
    for w in range(sub_ptr.shape[0] - 1):
        most_rows = max(most_rows, sub_ptr[w + 1] - sub_ptr[w])
    sentence = np.empty(longest, dtype=np.int32)
    rows = np.empty(2 * window * most_rows, dtype=np.int32)
    loss_sum = 0.0
    n_examples = 0
    n_words = 0
    for s in range(starts.shape[0]):
        alpha = _alpha(alpha0, min_alpha, progress0 + n_words * progress_step)
        n = _subsample(ids, starts[s], ends[s], keep, state, sentence)
        n_words += ends[s] - starts[s]
        for pos in range(n):
            word = sentence[pos]
            _prefetch_outputs(sentence, pos, n, syn1neg, neg_table, state, negative, negative)
            reduced = _below(_next_random(state), window)
            lo = max(0, pos - window + reduced)
            hi = min(n, pos + window + 1 - reduced)
            n_rows = 0
            for c in range(lo, hi):
                if c == pos:
                    continue
                w = sentence[c]
                for r in range(sub_ptr[w], sub_ptr[w + 1]):
                    rows[n_rows] = sub_idx[r]
                    n_rows += 1
            if n_rows == 0:
                continue
            h[:] = 0.0
            for r in range(n_rows):
                row = syn0[rows[r]]
                for k in range(d):
                    h[k] += row[k]
            inv = np.float32(1.0 / n_rows)
            for k in range(d):
                h[k] *= inv
            neu1e[:] = 0.0
            loss_sum += _predict(h, word, syn1neg, syn1, points, codes, code_lens, neg_table,
                                 negative, hs, alpha, neu1e, state, sig, logsig)
            for r in range(n_rows):
                row = syn0[rows[r]]
                for k in range(d):
                    row[k] += neu1e[k]
            n_examples += 1
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

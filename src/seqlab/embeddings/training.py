"""Pieces every embedding trainer shares: corpus ids, worker threads, progress, checkpoints.

A trainer (word2vec, fastText, GloVe) is an epoch loop around a compiled kernel. What is not the
kernel lives here, so each trainer stays short and they all behave the same:

- :func:`prepare_corpus` turns a text file or an iterable of token lists into a vocabulary and
  one int32 id array (17M tokens = 68 MB), computed once and reused by every epoch;
- :func:`split_work` cuts the sentences into chunks (one kernel call each, so progress and
  interruption are checked between chunks) that worker threads take from a :class:`ChunkQueue`;
- :func:`run_workers` runs one Python thread per worker (kernels release the GIL) behind a tqdm
  bar showing words/s, ETA and the running loss; :func:`progress_bar` is that bar, for
  trainers whose epochs run elsewhere (GloVe, the PyTorch trainers);
- :func:`save_checkpoint` / :func:`load_checkpoint` store training state as safetensors + JSON
  (atomic writes), :func:`check_loss` turns NaN or exploding losses into
  :class:`TrainingDivergedError` naming the learning rate.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from seqlab.io import load_arrays, save_arrays
from seqlab.text.reader import EmptyCorpusError
from seqlab.text.vocab import Vocab

#: Sentences longer than this are cut, as gensim does with text8's single 17M-word line; a
#: window never crosses a cut.
MAX_SENTENCE_LENGTH = 10_000
#: Words per kernel call: large enough that call overhead vanishes, small enough that the bar
#: moves and Ctrl-C is honoured within a fraction of a second.
CHUNK_WORDS = 200_000
#: Words of the fixed sample of the corpus on which the trainers measure each epoch's loss.
LOSS_SAMPLE_WORDS = 100_000
#: Mean loss per example above which a run is declared exploded (healthy runs stay below ~10).
EXPLODED_LOSS = 1e3

__all__ = [
    "CHUNK_WORDS",
    "MAX_SENTENCE_LENGTH",
    "ChunkQueue",
    "Corpus",
    "EmptyCorpusError",
    "TrainingDivergedError",
    "check_loss",
    "encode_corpus",
    "load_checkpoint",
    "loss_sample",
    "prepare_corpus",
    "run_workers",
    "save_checkpoint",
    "split_work",
]


class TrainingDivergedError(FloatingPointError, ValueError):
    """The training loss became NaN/inf or exploded: the learning rate is too high."""


class CheckpointMismatchError(ValueError):
    """A checkpoint belongs to another corpus, vocabulary or set of hyperparameters."""


@dataclass
class Corpus:
    """A corpus as word ids, ready for every epoch.

    Attributes
    ----------
    vocab : Vocab
        Words kept (``min_count``, ``max_vocab``), most frequent first, with their counts.
    ids : np.ndarray, int32, shape (n,)
        Every kept token as its id; words outside the vocabulary are dropped (word2vec).
    starts, ends : np.ndarray, int64, shape (S,)
        Sentence ``s`` is ``ids[starts[s]:ends[s]]``: lines, cut to ``MAX_SENTENCE_LENGTH``.
    raw_words : int
        Tokens in the corpus before dropping rare words (what "words/s" is measured in).
    """

    vocab: Vocab
    ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    raw_words: int

    @property
    def fingerprint(self) -> str:
        """Hash of the vocabulary and token count: a checkpoint must match it to be resumed."""
        h = hashlib.sha256("\n".join(self.vocab.itos).encode("utf-8"))
        h.update(self.vocab.counts.tobytes())
        h.update(str(len(self.ids)).encode())
        return h.hexdigest()


def prepare_corpus(
    corpus: str | os.PathLike | Iterable[Sequence[str]],
    min_count: int = 5,
    max_vocab: int | None = None,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
) -> Corpus:
    """Count words and encode the corpus once.

    Parameters
    ----------
    corpus : path or iterable of token lists
        A UTF-8 text file (whitespace-separated tokens, one sentence per line; a single huge
        line such as text8 is fine) or sentences as lists of str (iterated twice, so a one-shot
        generator is first materialised).
    min_count : int
        Words seen fewer times are dropped.
    max_vocab : int, optional
        Keep at most this many words (the most frequent).

    Raises
    ------
    EmptyCorpusError
        No tokens, or ``min_count`` drops every word. Undecodable files raise
        :class:`seqlab.text.reader.TextDecodeError` naming the byte offset.

    Examples
    --------
    >>> c = prepare_corpus([["a", "b", "a"], ["b", "a", "c"]], min_count=2)
    >>> c.vocab.itos, c.ids.tolist(), c.starts.tolist(), c.ends.tolist()
    (['a', 'b'], [0, 1, 0, 1, 0], [0, 3], [3, 5])
    """
    if isinstance(corpus, str | os.PathLike):
        path = _corpus_file(corpus)
        vocab = Vocab.from_file(path, min_freq=min_count, max_size=max_vocab)
        corpus = path
    else:
        if iter(corpus) is corpus:  # a generator: keep it for the second pass
            corpus = list(corpus)
        try:
            vocab = Vocab.from_iterable(corpus, min_freq=min_count, max_size=max_vocab)
        except EmptyCorpusError as e:
            raise EmptyCorpusError(f"corpus: {e}") from None
    encoded = encode_corpus(corpus, vocab, max_sentence_length)
    if len(encoded.ids) == 0:
        raise EmptyCorpusError("the corpus has no word left after min_count; lower min_count")
    encoded.raw_words = vocab.total
    return encoded


def encode_corpus(
    corpus: str | os.PathLike | Iterable[Sequence[str]],
    vocab: Vocab,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
) -> Corpus:
    """Encode a text file or token lists with a given vocabulary (e.g. held-out text with the
    vocabulary a model was trained on); words outside it are dropped, as in training.

    ``raw_words`` counts the kept words only (:func:`prepare_corpus` sets it to all words).

    Examples
    --------
    >>> vocab = prepare_corpus([["a", "b", "a"], ["b", "a", "c"]], min_count=2).vocab
    >>> encode_corpus([["b", "z", "a"]], vocab).ids.tolist()
    [1, 0]
    """
    if isinstance(corpus, str | os.PathLike):
        ids, line_starts = vocab.encode_file(_corpus_file(corpus))
        line_ends = np.append(line_starts[1:], len(ids)).astype(np.int64)
    else:
        ids, line_starts, line_ends = _encode_sentences(vocab, corpus)
    starts, ends = _cut_sentences(np.asarray(line_starts, np.int64), line_ends, max_sentence_length)
    return Corpus(vocab, ids, starts, ends, len(ids))


def _corpus_file(corpus: str | os.PathLike) -> Path:
    path = Path(corpus)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such corpus file; pass a text file path")
    return path


def loss_sample(corpus: Corpus, words: int = LOSS_SAMPLE_WORDS) -> Corpus:
    """About ``words`` words of ``corpus``: whole sentences, evenly spread over it (all of it
    when it is smaller). The trainers measure the loss of every epoch on this sample.

    Examples
    --------
    >>> c = prepare_corpus([["a", "b"], ["b", "a"], ["a", "a"], ["b", "b"]], min_count=1)
    >>> part = loss_sample(c, words=4)
    >>> part.starts.tolist(), part.ends.tolist(), len(part.ids)
    ([0, 2], [2, 4], 4)
    """
    lengths = corpus.ends - corpus.starts  # (S,)
    if lengths.sum() <= words:
        return corpus
    wanted = int(np.ceil(words / lengths.mean()))  # sentences
    picks = np.unique(np.linspace(0, len(lengths) - 1, wanted).round().astype(np.int64))
    ids = np.concatenate([corpus.ids[corpus.starts[s] : corpus.ends[s]] for s in picks])
    ends = np.cumsum(lengths[picks]).astype(np.int64)
    return Corpus(corpus.vocab, ids, ends - lengths[picks], ends, len(ids))


def _encode_sentences(vocab: Vocab, sentences: Iterable[Sequence[str]]):
    stoi = vocab.stoi
    parts, starts, ends = [], [], []
    n = 0
    for tokens in sentences:
        ids = np.fromiter((stoi.get(t, -1) for t in tokens), np.int32)
        ids = ids[ids >= 0]
        if len(ids):
            parts.append(ids)
            starts.append(n)
            n += len(ids)
            ends.append(n)
    ids = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    return ids, np.array(starts, np.int64), np.array(ends, np.int64)


def _cut_sentences(starts: np.ndarray, ends: np.ndarray, max_len: int):
    """Cut every sentence longer than ``max_len`` into pieces of at most ``max_len``."""
    pieces = (ends - starts + max_len - 1) // max_len  # (S,)
    first = np.repeat(starts, pieces)
    offset = np.arange(len(first)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    new_starts = first + offset * max_len
    new_ends = np.minimum(new_starts + max_len, np.repeat(ends, pieces))
    return new_starts.astype(np.int64), new_ends.astype(np.int64)


@dataclass
class Chunk:
    """One kernel call: sentences ``lo:hi``, and where they sit in the corpus."""

    lo: int
    hi: int
    words_before: int  # words of the corpus before this chunk
    words: int


def split_work(corpus: Corpus, chunk_words: int = CHUNK_WORDS) -> list[Chunk]:
    """The sentences cut into chunks of about `chunk_words` words, in corpus order.

    Worker threads take chunks from one `ChunkQueue` rather than each a fixed slice, so a worker
    slowed down (another process on its core, a slower chunk) does not hold up the epoch: the
    others take over its share. With one worker the chunks run in corpus order.
    """
    cum = np.cumsum(corpus.ends - corpus.starts)
    total = int(cum[-1])
    edges = np.searchsorted(cum, np.arange(chunk_words, total, chunk_words), side="left") + 1
    cuts = np.unique(np.concatenate(([0], edges, [len(cum)])))
    cuts = cuts[cuts <= len(cum)]
    chunks = []
    for a, b in itertools.pairwise(cuts):
        before = int(cum[a - 1]) if a else 0
        chunks.append(Chunk(int(a), int(b), before, int(cum[b - 1]) - before))
    return chunks


class ChunkQueue:
    """Hands one epoch's chunks to the worker threads: each chunk once, in order, on demand."""

    def __init__(self, chunks: Sequence[Chunk]):
        self._chunks = iter(chunks)
        self._lock = threading.Lock()

    def __iter__(self):
        return self

    def __next__(self) -> Chunk:
        with self._lock:
            return next(self._chunks)


def progress_bar(total: int, initial: int, desc: str | None, unit: str, enabled: bool):
    """The trainers' tqdm bar: rate and ETA over ``total`` units, starting at ``initial``.

    ``initial`` is where a resumed run stands, so its ETA covers only the work left; the
    smoothing keeps words/s steady across the uneven chunks the worker threads report.
    """
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        unit_scale=True,
        disable=not enabled,
        smoothing=0.1,
        dynamic_ncols=True,
    )


def run_workers(
    jobs: Sequence[Callable[[Callable[[int, float, int], None]], None]],
    total_words: int,
    desc: str,
    progress: bool = True,
    initial: int = 0,
    bar=None,
) -> None:
    """Run each job in its own thread; show words/s, ETA and the running mean loss.

    Each job is called with ``report(words, loss_sum, n_examples)``, which it calls after every
    kernel call; it must return early when ``report`` raises (the bar is then stopped). Errors
    in any thread (including :class:`TrainingDivergedError`) are re-raised here; Ctrl-C stops
    all threads after their current chunk and re-raises :class:`KeyboardInterrupt`.
    """
    own_bar = bar is None
    if own_bar:
        bar = progress_bar(total_words, initial, desc, "w", progress)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []
    sums = [0.0, 0]

    def report(words: int, loss_sum: float, n_examples: int) -> None:
        if stop.is_set():
            raise _Stopped
        with lock:
            sums[0] += loss_sum
            sums[1] += n_examples
            bar.update(words)
            if sums[1]:
                bar.set_postfix(loss=f"{sums[0] / sums[1]:.4f}", refresh=False)

    def target(job):
        try:
            job(report)
        except _Stopped:
            pass
        except BaseException as e:  # handed to the main thread, which re-raises it
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=target, args=(job,), daemon=True) for job in jobs]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            t.join()
        raise
    finally:
        if own_bar:
            bar.close()
    if errors:
        raise errors[0]


class _Stopped(Exception):
    """Raised inside a worker's ``report`` once another worker failed or Ctrl-C was pressed."""


def check_loss(
    loss_sum: float, n_examples: int, alpha: float, where: str, lr_name: str = "alpha"
) -> float:
    """Mean loss per example; raise :class:`TrainingDivergedError` if it is NaN/inf or exploded.

    ``alpha`` is the learning rate, called ``lr_name`` in the message (GloVe: "learning_rate").

    Examples
    --------
    >>> check_loss(41.6, 10, 0.025, "epoch 1")
    4.16
    >>> check_loss(float("nan"), 10, 0.025, "epoch 1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seqlab.embeddings.training.TrainingDivergedError: training diverged at epoch 1: ...
    """
    mean = loss_sum / max(n_examples, 1)
    if not np.isfinite(mean) or mean > EXPLODED_LOSS:
        raise TrainingDivergedError(
            f"training diverged at {where}: the loss is {mean:.4g} with learning rate "
            f"{lr_name}={alpha:g}; lower {lr_name} (e.g. {lr_name}={alpha / 10:g})"
        )
    return mean


def save_checkpoint(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write a training checkpoint (safetensors + JSON sidecar, both atomic).

    ``meta`` must be JSON-serialisable; put the corpus fingerprint and hyperparameters in it so
    that :func:`load_checkpoint` can refuse a mismatching resume.
    """
    save_arrays(path, arrays, {"format": "seqlab-checkpoint", **meta})


def load_checkpoint(
    path: str | os.PathLike, expect: dict
) -> tuple[dict[str, np.ndarray], dict] | None:
    """Read a checkpoint written by :func:`save_checkpoint`, or ``None`` if there is none yet.

    Every key of ``expect`` must equal the stored value, otherwise
    :class:`CheckpointMismatchError` says which differs and how to fix it.
    """
    path = Path(path)
    if not path.exists():
        return None
    arrays, meta = load_arrays(path, what="training checkpoint")
    if meta.get("format") != "seqlab-checkpoint":
        raise CheckpointMismatchError(f"{path}: not a seqlab training checkpoint")
    for key, value in expect.items():
        if meta.get(key) != value:
            raise CheckpointMismatchError(
                f"{path}: the checkpoint has {key}={meta.get(key)!r} but this run has "
                f"{key}={value!r}; resume with the same corpus and settings, or delete the "
                "checkpoint to start over"
            )
    return arrays, meta

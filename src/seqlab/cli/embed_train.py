"""``seqlab embed train``: train word vectors (word2vec, fastText, GloVe) on a text file.

The help text is the reference: every hyperparameter with its default. Heavy modules (numba
kernels, numpy) are imported only when the command runs.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import click

from seqlab.cli.embed_checks import (
    as_options,
    check_checkpoint,
    check_corpus,
    check_memory,
    warn_ignored_options,
)
from seqlab.cli.embed_korean import (
    apply_korean_recipe,
    korean_corpus_file,
    lang_option,
    subwords_option,
    token_option,
)
from seqlab.cli.options import FiniteFloat, writable

ALGOS = ("skipgram", "cbow", "fasttext", "glove")
FORMATS = ("word2vec-bin", "word2vec-txt", "glove", "fasttext-vec", "seqlab")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("corpus", type=click.Path(dir_okay=False))
@lang_option
@token_option
@click.option(
    "--algo",
    type=click.Choice(ALGOS),
    default="skipgram",
    show_default=True,
    help="skipgram/cbow: word2vec; fasttext: word2vec on character n-grams; glove.",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False),
    required=True,
    help="Vectors file, written atomically when training has finished.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format; default by suffix (.bin .txt .vec .safetensors), else "
    "word2vec-bin. fastText keeps its n-grams (OOV vectors) only in 'seqlab'.",
)
@click.option(
    "--vector-size",
    "--dim",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Dimension of the vectors.",
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=None,
    show_default="5; glove: 10",
    help="Context words on each side (word2vec/fastText shrink it at random).",
)
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Drop words seen fewer times.",
)
@click.option(
    "--max-vocab",
    type=click.IntRange(min=1),
    default=None,
    show_default="no limit",
    help="Keep at most this many words (the most frequent).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    show_default="5; glove: 25",
    help="Passes over the corpus.",
)
@click.option(
    "--alpha",
    "--lr",
    type=FiniteFloat(min=0, min_open=True),
    default=None,
    show_default="skipgram 0.025, cbow 0.05, fasttext 0.05, glove 0.05",
    help="Initial learning rate (word2vec/fastText: decays linearly to --min-alpha).",
)
@click.option(
    "--min-alpha",
    type=FiniteFloat(min=0),
    default=1e-4,
    show_default=True,
    help="Final learning rate (word2vec/fastText).",
)
@click.option(
    "--negative",
    type=click.IntRange(min=0),
    default=5,
    show_default="5; --lang ko: 15",
    help="Negative samples per example; 0 = off (word2vec/fastText).",
)
@click.option(
    "--hs/--no-hs",
    default=False,
    show_default=True,
    help="Hierarchical softmax (word2vec/fastText).",
)
@click.option(
    "--sample",
    type=FiniteFloat(min=0),
    default=1e-3,
    show_default=True,
    help="Subsampling threshold of frequent words; 0 = off (word2vec/fastText).",
)
@click.option(
    "--ns-exponent",
    type=FiniteFloat(),
    default=None,
    show_default="0.75; fasttext: 0.5",
    help="Exponent of the counts in the negative-sampling distribution.",
)
@click.option(
    "--shared-negatives/--no-shared-negatives",
    default=False,
    show_default=True,
    help="Skip-gram: share a centre word's negatives across its window (~1.5x faster, a little "
    "less accurate) instead of drawing them per context word as word2vec does.",
)
@click.option(
    "--fasttext-model",
    type=click.Choice(("skipgram", "cbow")),
    default="skipgram",
    show_default=True,
    help="Model trained by --algo fasttext.",
)
@click.option(
    "--minn",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Shortest character n-gram (fasttext).",
)
@click.option(
    "--maxn",
    type=click.IntRange(min=0),
    default=6,
    show_default=True,
    help="Longest character n-gram; 0 = no n-grams (fasttext).",
)
@subwords_option
@click.option(
    "--bucket",
    type=click.IntRange(min=1),
    default=2_000_000,
    show_default=True,
    help="Hash buckets for n-grams (fasttext).",
)
@click.option(
    "--x-max",
    type=FiniteFloat(min=0, min_open=True),
    default=100.0,
    show_default=True,
    help="Co-occurrence count where the weight reaches 1 (glove).",
)
@click.option(
    "--weight-power",
    type=FiniteFloat(min=0, min_open=True),
    default=0.75,
    show_default=True,
    help="Exponent of the weighting function (glove).",
)
@click.option(
    "--add-output-vectors/--no-add-output-vectors",
    default=False,
    show_default=True,
    help="skipgram/cbow with negative sampling: write each word's input vector plus its "
    "output vector (as GloVe writes W + W~) instead of the input vector alone.",
)
@click.option(
    "--all-but-the-top",
    type=click.IntRange(min=0),
    default=0,
    show_default="0 (off)",
    help="Post-process the trained vectors: subtract their mean and remove their top N "
    "principal directions (Mu and Viswanath 2018), which mostly encode word frequency "
    "(skipgram/cbow/glove).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Threads. 1 with a fixed --seed gives bit-identical vectors on every run.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Random seed."
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save after every epoch; if the file exists, resume from it.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Progress bar with words/s, ETA and loss.",
)
def train(corpus, lang, token, out, fmt, checkpoint, progress, **settings) -> None:
    """Train word vectors on CORPUS (UTF-8 text, whitespace-separated tokens, one sentence per
    line) and write them to --out.

    With --lang ko, CORPUS is Korean text (a file, or the dataset name kowiki_extract): it is
    analysed into morphemes first (once; cached), and the Korean recipe fills in the options
    not given.

    \b
    Examples:
      seqlab embed train text8 --algo skipgram --out vectors.bin
      seqlab embed train text8 --algo fasttext --out ft.safetensors --epochs 5
      seqlab embed train text8 --algo glove --out glove.txt --format glove
      seqlab embed train kowiki_extract --lang ko --out ko.bin
      seqlab embed train kowiki_extract --lang ko --algo fasttext --out ko-ft.safetensors
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.embeddings.training import (
        CheckpointMismatchError,
        EmptyCorpusError,
        prepare_corpus,
    )
    from seqlab.io import ModelFileError
    from seqlab.text.reader import TextDecodeError

    writable(out)  # before any work: a long run must not fail at its very end
    writable(checkpoint)
    if lang == "ko":
        settings["token"] = token
        corpus_workers = settings["workers"]  # the morpheme analysis runs in parallel whatever
        apply_korean_recipe(settings)  # number of threads the recipe then trains with
        token = settings.pop("token")
        if settings["algo"] == "fasttext" and not _keeps_ngrams(out, fmt):
            click.echo(
                f"warning: {out} keeps the word vectors only; eojeols and rare words get "
                "vectors from their n-grams only in a .safetensors file (--format seqlab)",
                err=True,
            )
        corpus = korean_corpus_file(corpus, token, corpus_workers, progress)
    elif not Path(corpus).is_file():
        raise click.BadParameter(
            f"{corpus}: no such file (a dataset name is accepted with --lang ko)",
            param_hint="'CORPUS'",
        )
    check_corpus(corpus, {"--out": out, "--checkpoint": checkpoint})
    if checkpoint is not None:
        check_checkpoint(checkpoint, out)
    warn_ignored_options(settings["algo"])
    top_components = settings.pop("all_but_the_top")
    add_output = settings.pop("add_output_vectors") and settings["algo"] in ("skipgram", "cbow")
    if add_output and not settings["negative"]:
        raise click.UsageError(
            "--add-output-vectors needs negative sampling (--negative > 0): hierarchical "
            "softmax has no output vector per word"
        )
    model = _build_model(**settings)
    started = time.perf_counter()
    try:
        prepared = prepare_corpus(corpus, model.min_count, model.max_vocab)
        check_memory(settings["algo"], model, len(prepared.vocab.itos))
        kv = model.train(prepared, checkpoint=checkpoint, progress=progress)
    except KeyboardInterrupt:
        hint = (
            " rerun the same command to resume"
            if checkpoint
            else (" pass --checkpoint PATH to be able to resume")
        )
        raise click.ClickException(f"interrupted: no vectors written to {out};{hint}") from None
    except (
        EmptyCorpusError,
        TextDecodeError,
        CheckpointMismatchError,
        ModelFileError,
        ValueError,
        OSError,
    ) as e:
        raise click.ClickException(as_options(str(e), settings["algo"], bare_names=False)) from None
    except MemoryError:
        raise click.ClickException(
            f"out of memory for {model.vector_size}-dimensional vectors: lower --dim or keep "
            "fewer words (--max-vocab, --min-count)"
        ) from None
    if add_output:
        kv = _with_output_vectors(kv, model)
    if top_components and settings["algo"] != "fasttext":
        kv = _all_but_the_top(kv, top_components)
    try:
        kv.save(out, fmt)
    except (OSError, ValueError) as e:
        raise click.ClickException(f"the vectors were trained but not written: {e}") from None
    seconds = time.perf_counter() - started
    losses = getattr(model, "loss_history", None) or getattr(model, "losses", [])
    click.echo(f"{len(kv):,} words x {kv.vector_size} dims -> {out} ({seconds:.1f} s)")
    if losses:
        click.echo("loss per epoch: " + " ".join(f"{x:.4f}" for x in losses))


def _with_output_vectors(kv, model):
    """``kv`` with each word's output vector (``syn1neg``) added to its input vector."""
    output = model.weights["syn1neg"][: len(kv)]
    click.echo("vectors written: input + output vector of each word")
    return type(kv)(kv.index_to_key, kv.vectors + output, kv.counts)


def _all_but_the_top(kv, components: int):
    """``kv`` post-processed (:func:`~seqlab.embeddings.postprocess.all_but_the_top`)."""
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.embeddings.postprocess import all_but_the_top

    try:
        kv = all_but_the_top(kv, components)
    except ValueError as e:
        raise click.ClickException(
            f"--all-but-the-top {components}: {e} (the vectors were trained but not written)"
        ) from None
    click.echo(f"all-but-the-top: mean and top {components} principal directions removed")
    return kv


def _keeps_ngrams(out: str, fmt: str | None) -> bool:
    return fmt == "seqlab" or (fmt is None and Path(out).suffix == ".safetensors")


def _build_model(
    algo,
    vector_size,
    window,
    min_count,
    max_vocab,
    epochs,
    alpha,
    min_alpha,
    negative,
    hs,
    sample,
    ns_exponent,
    shared_negatives,
    fasttext_model,
    minn,
    maxn,
    subwords,
    bucket,
    x_max,
    weight_power,
    workers,
    seed,
):
    """The trainer for ``algo`` with the command-line settings (defaults per algorithm)."""
    if algo == "glove":
        # imported when the command runs: `seqlab --help` stays fast
        from seqlab.embeddings.glove import GloVe

        kwargs = {
            "vector_size": vector_size,
            "min_count": min_count,
            "max_vocab": max_vocab,
            "x_max": x_max,
            "alpha": weight_power,
            "workers": workers,
            "seed": seed,
        }
        for key, value in (("window", window), ("epochs", epochs), ("learning_rate", alpha)):
            if value is not None:
                kwargs[key] = value
        return _construct(GloVe, algo, **kwargs)
    kwargs = {
        "vector_size": vector_size,
        "window": 5 if window is None else window,
        "negative": negative,
        "hs": hs,
        "sample": sample,
        "min_count": min_count,
        "max_vocab": max_vocab,
        "epochs": 5 if epochs is None else epochs,
        "alpha": alpha,
        "min_alpha": min_alpha,
        "workers": workers,
        "seed": seed,
    }
    if ns_exponent is not None:
        kwargs["ns_exponent"] = ns_exponent
    if algo == "fasttext":
        # imported when the command runs: `seqlab --help` stays fast
        from seqlab.embeddings.fasttext import FastText

        return _construct(
            FastText,
            algo,
            fasttext_model,
            minn=minn,
            maxn=maxn,
            bucket=bucket,
            subwords=subwords,
            **kwargs,
        )
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.embeddings.word2vec import Word2Vec

    return _construct(Word2Vec, algo, algo, shared_negatives=shared_negatives, **kwargs)


def _construct(cls, algo, *args, **kwargs):
    """``cls(*args, **kwargs)`` with its errors and warnings worded as this command's options."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = cls(*args, **kwargs)
        except ValueError as e:
            raise click.UsageError(as_options(str(e), algo)) from None
    for warning in caught:
        click.echo(f"warning: {as_options(str(warning.message), algo)}", err=True)
    return model

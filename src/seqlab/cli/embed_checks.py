"""Checks that ``seqlab embed train`` runs before any work, and its wording of API messages.

Everything here fails (or warns) before training starts: a corpus that is compressed or binary,
a checkpoint that cannot be resumed, options the chosen algorithm ignores (all before the corpus
is read), weights that cannot fit in memory (once the vocabulary is counted). Messages of the
trainers name their Python arguments (``alpha=-1``); :func:`as_options` rewrites them as the
command's options (``--alpha -1``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
from click.core import ParameterSource

#: Constructor argument -> option of this command, to word the constructors' messages for the
#: command line (GloVe calls its learning rate ``learning_rate`` and its weighting exponent
#: ``alpha``; the command has one --alpha for every learning rate).
OPTION_OF = {
    "vector_size": "--vector-size",
    "window": "--window",
    "min_count": "--min-count",
    "max_vocab": "--max-vocab",
    "epochs": "--epochs",
    "min_alpha": "--min-alpha",
    "negative": "--negative",
    "sample": "--sample",
    "ns_exponent": "--ns-exponent",
    "minn": "--minn",
    "maxn": "--maxn",
    "bucket": "--bucket",
    "x_max": "--x-max",
    "workers": "--workers",
    "seed": "--seed",
}


#: Leading bytes of the compressed formats a corpus is often shipped in.
_COMPRESSED = {
    b"\x1f\x8b": ("gzip", "gunzip -k"),
    b"PK\x03\x04": ("zip", "unzip"),
    b"BZh": ("bzip2", "bunzip2 -k"),
    b"\xfd7zXZ\x00": ("xz", "unxz -k"),
    b"\x28\xb5\x2f\xfd": ("zstd", "unzstd"),
}


def check_corpus(corpus: str, outputs: dict[str, str | None]) -> None:
    """A compressed or binary file is named as such (its bytes would otherwise be reported as
    a UTF-8 problem, with an encoding hint that cannot help); no output (option -> path) may
    be the corpus itself."""
    for option, path in outputs.items():
        if path is not None and Path(path).resolve() == Path(corpus).resolve():
            raise click.UsageError(
                f"{option} {path} is the corpus: training would overwrite it; write to another file"
            )
    with open(corpus, "rb") as f:
        head = f.read(1 << 16)
    for magic, (kind, command) in _COMPRESSED.items():
        if head.startswith(magic):
            raise click.ClickException(
                f"{corpus}: this is a {kind}-compressed file, not text; decompress it first "
                f"(e.g. {command} {corpus}) and pass the text file"
            )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise click.ClickException(
            f"{corpus}: this is UTF-16 text (it starts with a UTF-16 byte-order mark); convert "
            f"it to UTF-8 first (e.g. iconv -f utf-16 -t utf-8 {corpus} > corpus.txt)"
        )
    if b"\x00" in head:
        raise click.ClickException(
            f"{corpus}: holds NUL bytes, so it is a binary file (vectors? a model?), not a text "
            "corpus; pass a UTF-8 text file, whitespace-separated tokens, one sentence per line"
        )


def check_checkpoint(checkpoint: str, out: str) -> None:
    """A checkpoint must not be the output, and one to resume from must be readable: found
    now, not after the corpus has been read."""
    from seqlab.io import ModelFileError, load_arrays  # numpy: only when the command runs

    if Path(checkpoint).resolve() == Path(out).resolve():
        raise click.UsageError(
            "--checkpoint and --out name the same file: the vectors would overwrite the "
            "checkpoint; give the checkpoint its own name (e.g. run.ckpt)"
        )
    if Path(checkpoint).exists():
        try:
            load_arrays(checkpoint, what="training checkpoint")
        except (ModelFileError, OSError) as e:
            raise click.ClickException(str(e)) from None


#: Options that only some algorithms use; given for another, they would be silently ignored.
USED_BY = {
    "min_alpha": ("skipgram", "cbow", "fasttext"),
    "negative": ("skipgram", "cbow", "fasttext"),
    "hs": ("skipgram", "cbow", "fasttext"),
    "sample": ("skipgram", "cbow", "fasttext"),
    "ns_exponent": ("skipgram", "cbow", "fasttext"),
    "shared_negatives": ("skipgram",),
    "fasttext_model": ("fasttext",),
    "minn": ("fasttext",),
    "maxn": ("fasttext",),
    "bucket": ("fasttext",),
    "subwords": ("fasttext",),
    "all_but_the_top": ("skipgram", "cbow", "glove"),
    "add_output_vectors": ("skipgram", "cbow"),
    "x_max": ("glove",),
    "weight_power": ("glove",),
}


def warn_ignored_options(algo: str) -> None:
    """Warn about options given on the command line that ``algo`` does not use, and about
    more worker threads than cores."""
    ctx = click.get_current_context()
    for param in ctx.command.params:
        used_by = USED_BY.get(param.name)
        given = ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE
        if used_by and given and algo not in used_by:
            click.echo(
                f"warning: {param.opts[0]} does not apply to --algo {algo} (only to "
                f"{', '.join(used_by)}); it is ignored",
                err=True,
            )
    workers, cores = ctx.params["workers"], os.cpu_count() or 1
    if ctx.get_parameter_source("workers") is ParameterSource.COMMANDLINE and workers > cores:
        click.echo(
            f"warning: --workers {workers} is more than the {cores} CPU cores of this machine: "
            "threads beyond the cores only add overhead",
            err=True,
        )


def as_options(message: str, algo: str, bare_names: bool = True) -> str:
    """Rewrite the argument names of an API message as this command's options.

    ``alpha=0`` becomes ``--alpha 0``; bare names too when ``bare_names`` (constructor
    messages), else only after "lower"/"raise" (training messages, which also hold file names
    such as ``window.txt`` that must stay as they are).
    """
    names = {**OPTION_OF, "alpha": "--weight-power" if algo == "glove" else "--alpha"}
    names["learning_rate"] = "--alpha"
    names["min_freq"] = "--min-count"  # the vocabulary's name for it
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    message = message.replace("hs=False", "--no-hs")
    # Groups: 1 a verb before the name, 2 the name, 3 "=" after it.
    pattern = re.compile(rf"(?<![\w/.-])((?:lower|raise) )?({alternatives})(?:(=)|\b(?!\.\w))")

    def option(m: re.Match) -> str:
        if not (bare_names or m[1] or m[3]):
            return m[0]  # a bare word in a training message: leave it
        return (m[1] or "") + names[m[2]] + (" " if m[3] else "")

    return pattern.sub(option, message)


def check_memory(algo: str, model, n_words: int) -> None:
    """Refuse a run whose weight matrices alone would not fit in the memory available now.

    A huge --dim otherwise ends in a MemoryError, or worse in the kernel's OOM killer once the
    pages are touched. Counted: word2vec's input and output matrices (fastText: plus at least as
    many n-gram rows), GloVe's two matrices and their AdaGrad sums, all float32.
    """
    matrices = {"glove": 4, "fasttext": 3}.get(algo, 2)
    needed = matrices * n_words * model.vector_size * 4
    available = _available_memory()
    if available is not None and needed > available:
        raise click.ClickException(
            f"--dim {model.vector_size} for {n_words:,} words needs at least "
            f"{needed / 2**30:,.1f} GiB for the weights, but {available / 2**30:,.1f} GiB of "
            "memory is available: lower --dim (100-300 is usual) or keep fewer words "
            "(--max-vocab, --min-count)"
        )


def _available_memory() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (None where there is no such file)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None

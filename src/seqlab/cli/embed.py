"""``seqlab embed``: query, evaluate, convert and plot word vectors.

VECTORS is any vector file: word2vec binary or text, GloVe text, fastText ``.vec`` or seqlab's
safetensors format; the format is detected from the content (``--format`` overrides it).
Heavy imports (numpy, scipy, matplotlib) happen inside the commands so ``seqlab --help`` is fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from seqlab.cli.embed_korean import has_hangul, print_korean_analogy, print_korean_nearest
from seqlab.cli.embed_train import train
from seqlab.cli.options import writable

FORMATS = ("word2vec-bin", "word2vec-txt", "glove", "fasttext-vec", "seqlab")
ALL_EVALUATIONS = ("google_analogy", "wordsim353", "simlex999", "men", "rareword")

vectors_argument = click.argument("vectors", type=click.Path(exists=True, dir_okay=False))
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Format of VECTORS (default: detected from the file).",
)


def _load(path: str, fmt: str | None, limit: int | None = None):
    """Vectors of ``path``; a fastText model keeps its n-grams, so unseen words get vectors."""
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.embeddings import FastTextKeyedVectors, KeyedVectors

    with _friendly_errors():
        if limit is None and _is_fasttext_model(path, fmt):
            return FastTextKeyedVectors.load(path)
        return KeyedVectors.load(path, format=fmt, limit=limit)


def _is_fasttext_model(path: str, fmt: str | None) -> bool:
    from seqlab.io import read_meta

    if fmt not in (None, "seqlab") or Path(path).suffix != ".safetensors":
        return False
    try:
        return "fasttext" in read_meta(path, "vectors file")
    except (OSError, ValueError):
        return False  # KeyedVectors.load gives the precise message


class _friendly_errors:
    """Turn seqlab's input errors into a one-line ``Error: ...`` instead of a traceback."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if error is not None and isinstance(error, (ValueError, KeyError, OSError)):
            raise click.ClickException(str(error)) from error
        return False


def _not_the_input(output: str | None, vectors: str, name: str) -> None:
    """Refuse to write over the vectors being read (the JSON or PNG would replace them)."""
    if output is not None and Path(output).resolve() == Path(vectors).resolve():
        raise click.UsageError(
            f"{name} {output} is the vectors file being read: it would be overwritten; "
            "write to another file"
        )


def _print_ranked(rows) -> None:
    if not rows:
        click.echo("      (no other word to rank: the vectors hold no other word in range)")
    for rank, (word, score) in enumerate(rows, start=1):
        click.echo(f"{rank:>4}  {score:8.4f}  {word}")


@click.group()
def embed() -> None:
    """Query, evaluate, convert and plot word vectors.

    \b
    seqlab embed nearest vectors.bin study                nearest words of 'study'
    seqlab embed analogy vectors.bin korea seoul tokyo    korea - seoul + tokyo = ?
    seqlab embed analogy ko.bin 한국 서울 도쿄              +한국/Noun +도쿄/Noun −서울/Noun → ?
    seqlab embed eval vectors.bin                         Google analogies + 4 similarity sets
    seqlab embed convert vectors.bin vectors.txt --to word2vec-txt
    seqlab embed plot vectors.bin king queen man woman --out words.png
    """


@embed.command()
@vectors_argument
@click.argument("words", nargs=-1, required=True)
@click.option(
    "--topn", type=click.IntRange(min=1), default=10, show_default=True, help="Neighbours per word."
)
@click.option(
    "--restrict-vocab",
    type=click.IntRange(min=1),
    default=None,
    help="Search only the first N (most frequent) words.",
)
@format_option
def nearest(vectors, words, topn, restrict_vocab, fmt) -> None:
    """Print the TOPN nearest words (by cosine) of each WORD.

    All WORDs are answered by one batched matrix product; the word itself is not listed.
    Korean words are printed with their class (공부/Noun).

    \b
    Example:  seqlab embed nearest vectors.bin study 공부
    """
    kv = _load(vectors, fmt)
    if has_hangul(*words):
        with _friendly_errors():
            print_korean_nearest(kv, words, topn, restrict_vocab)
        return
    with _friendly_errors():
        results = kv.nearest(list(words), topn=topn, restrict_vocab=restrict_vocab)
    for word, rows in zip(words, results, strict=True):
        click.echo(f"{word}:")
        _print_ranked(rows)


@embed.command()
@vectors_argument
@click.argument("a")
@click.argument("b")
@click.argument("c")
@click.option(
    "--topn", type=click.IntRange(min=1), default=5, show_default=True, help="Answers to print."
)
@click.option(
    "--method",
    type=click.Choice(["3cosadd", "3cosmul"]),
    default="3cosadd",
    show_default=True,
    help="3cosadd: cos(d, a - b + c); 3cosmul: cos(d,a) cos(d,c) / cos(d,b) (shifted to [0,1]).",
)
@format_option
def analogy(vectors, a, b, c, topn, method, fmt) -> None:
    """Print the words closest to A - B + C (A, B, C themselves excluded).

    Korean words are printed as the lecture's slide prints them, each with its class:
    +한국/Noun +도쿄/Noun −서울/Noun → 일본/Noun. A Korean word missing from morpheme
    vectors is analysed, and the message says which morphemes to ask for instead.

    \b
    Example:  seqlab embed analogy vectors.bin korea seoul tokyo    ->  japan
              (korea is to seoul as japan is to tokyo)
              seqlab embed analogy ko.bin 한국 서울 도쿄
              seqlab embed analogy ko.bin 여자 여왕 왕
    """
    kv = _load(vectors, fmt)
    if has_hangul(a, b, c):
        with _friendly_errors():
            print_korean_analogy(kv, a, b, c, topn, method)
        return
    with _friendly_errors():
        rows = kv.analogy(a, b, c, topn=topn, method=method)
    click.echo(f"{a} - {b} + {c} ({method}):")
    _print_ranked(rows)


@embed.command(name="eval")
@vectors_argument
@click.option(
    "--analogies",
    multiple=True,
    help="Analogy file ('a b c d' lines under ': section' headers) or 'google_analogy'. "
    "Repeatable.",
)
@click.option(
    "--pairs",
    multiple=True,
    help="Similarity file (word1 word2 score) or a set name: wordsim353, simlex999, men, "
    "rareword. Repeatable.",
)
@click.option(
    "--restrict-vocab",
    type=click.IntRange(min=1),
    default=30000,
    show_default=True,
    help="Analogies: use only the first N words (questions with other words are skipped).",
)
@click.option(
    "--pairs-restrict-vocab",
    type=click.IntRange(min=1),
    default=300000,
    show_default=True,
    help="Similarity pairs: use only the first N words.",
)
@click.option(
    "--case-sensitive", is_flag=True, help="Compare words as written (default: upper-cased)."
)
@click.option(
    "--method", type=click.Choice(["3cosadd", "3cosmul"]), default="3cosadd", show_default=True
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Also write the scores here."
)
@click.option(
    "--lang",
    type=click.Choice(("en", "ko")),
    default="en",
    show_default=True,
    help="ko: the Korean sets (kor2vec's semantic and syntactic analogies and WS-353; Park et "
    "al. 2018's when downloaded); vectors with subwords answer every test word.",
)
@format_option
def eval_(
    vectors,
    lang,
    analogies,
    pairs,
    restrict_vocab,
    pairs_restrict_vocab,
    case_sensitive,
    method,
    json_path,
    fmt,
) -> None:
    """Score VECTORS on analogy and word-similarity benchmarks.

    Without --analogies/--pairs, runs every set found in the dataset mirror ($SEQLAB_DATA):
    google_analogy, wordsim353, simlex999, men, rareword; with --lang ko, kor2vec_semantic,
    kor2vec_syntactic, kor2vec_ws353 (and park2018_analogy, park2018_ws353 once fetched with
    `seqlab data fetch kor_analogy_park2018`). Numbers equal gensim 4.4's
    evaluate_word_analogies / evaluate_word_pairs with the same settings, which are printed
    with every score.

    \b
    Example:  seqlab embed eval vectors.bin --analogies google_analogy --pairs simlex999
              seqlab embed eval ko.bin --lang ko
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.embeddings.evaluate import evaluate_analogies, evaluate_pairs, evaluation_file
    from seqlab.embeddings.korean import evaluate_korean_set

    _not_the_input(json_path, vectors, "--json")
    writable(json_path)
    if not analogies and not pairs and lang == "ko":
        analogies, pairs = _korean_sets()
    elif not analogies and not pairs:
        analogies, pairs = ALL_EVALUATIONS[:1], ALL_EVALUATIONS[1:]
        with _friendly_errors():
            for name in ALL_EVALUATIONS:
                evaluation_file(name)  # fail early, naming SEQLAB_DATA, if the mirror is missing
    kv = _load(vectors, fmt)
    report: dict = {"vectors": vectors, "analogies": {}, "pairs": {}}
    failures = []
    for kind, source in [("analogies", a) for a in analogies] + [("pairs", p) for p in pairs]:
        try:
            if lang == "ko":
                restrict = restrict_vocab if kind == "analogies" else pairs_restrict_vocab
                result = evaluate_korean_set(kv, source, kind, restrict, not case_sensitive, method)
            elif kind == "analogies":
                result = evaluate_analogies(kv, source, restrict_vocab, not case_sensitive, method)
            if kind == "analogies":
                if result.answered == 0:  # 0/0 is no accuracy: say why instead of "0.00%"
                    raise ValueError(
                        f"none of its {result.questions:,} questions has all four words among "
                        f"the first {restrict_vocab:,} words of the vectors; raise "
                        "--restrict-vocab, or use vectors of the same language (and case, see "
                        "--case-sensitive)" + (_EOJEOL_HINT if lang == "ko" else "")
                    )
                scores = {
                    "accuracy": result.accuracy,
                    "correct": result.correct,
                    "answered": result.answered,
                    "questions": result.questions,
                    "skipped_oov": result.skipped_oov,
                    "sections": {s.name: [s.correct, s.answered] for s in result.sections},
                }
            else:
                if lang != "ko":
                    result = evaluate_pairs(kv, source, pairs_restrict_vocab, not case_sensitive)
                scores = {
                    "spearman": result.spearman,
                    "pearson": result.pearson,
                    "pairs": result.pairs,
                    "skipped_oov": result.skipped_oov,
                    "oov_ratio": result.oov_ratio,
                }
        except (ValueError, FileNotFoundError) as error:  # one bad set must not hide the others
            click.echo(f"{source}: not scored: {error}\n")
            failures.append(source)
            continue
        click.echo(f"{source}: {result}\n")
        report[kind][source] = {**scores, "settings": result.settings}
    if json_path:
        # imported when the command runs: `seqlab --help` stays fast
        from seqlab.io import atomic_write

        with atomic_write(json_path, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=1)
    if failures:
        raise click.ClickException(f"not scored: {', '.join(failures)} (see above)")


_EOJEOL_HINT = (
    "; Korean test words written as eojeols (밥을) are not morphemes: fastText vectors with "
    "jamo subwords (seqlab embed train ... --lang ko --algo fasttext) give them vectors"
)


def _korean_sets() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """kor2vec's sets, and Park et al.'s when present (they are not in the mirror)."""
    from seqlab import data

    analogies, pairs = ["kor2vec_semantic", "kor2vec_syntactic"], ["kor2vec_ws353"]
    if data.where("kor_analogy_park2018") != "missing":
        analogies.append("park2018_analogy")
        pairs.append("park2018_ws353")
    else:
        click.echo(
            "note: Park et al. 2018's Korean set is not here (not in the mirror); "
            "`seqlab data fetch kor_analogy_park2018` downloads and verifies it\n"
        )
    return tuple(analogies), tuple(pairs)


@embed.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--to", "to_format", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option(
    "--from",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Input format (default: detected).",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Keep only the first N words."
)
def convert(source, target, to_format, fmt, limit) -> None:
    """Convert SOURCE vectors to TARGET in another format (written atomically).

    \b
    word2vec-bin  header + word + float32 bytes (word2vec -binary 1, gensim binary=True)
    word2vec-txt  header line 'n_words dim', then 'word v1 ... vdim' per line
    fasttext-vec  same as word2vec-txt (fastText's .vec)
    glove         like word2vec-txt without the header line
    seqlab        safetensors + JSON sidecar: exact, memory-mappable, keeps word counts
    \b
    Example:  seqlab embed convert vectors.bin vectors.txt --to glove
    """
    _not_the_input(target, source, "TARGET")
    writable(target)
    kv = _load(source, fmt, limit)
    with _friendly_errors():
        kv.save(target, format=to_format)
    click.echo(f"wrote {len(kv):,} x {kv.vector_size} vectors to {target} ({to_format})")


@embed.command()
@vectors_argument
@click.argument("words", nargs=-1)
@click.option("--out", default="words.png", show_default=True, type=click.Path(dir_okay=False))
@click.option(
    "--neighbours",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also show N nearest words of each WORD.",
)
@click.option("--method", type=click.Choice(["pca", "tsne"]), default="pca", show_default=True)
@click.option(
    "--analogy",
    "analogies",
    multiple=True,
    help="'a b c d': draw arrows a->b and c->d, e.g. 'man woman king queen'. Repeatable.",
)
@click.option("--title", default=None, help="Figure title.")
@format_option
def plot(vectors, words, out, neighbours, method, analogies, title, fmt) -> None:
    """Write a PNG of WORDs projected to 2-D (PCA or t-SNE), labelled.

    \b
    Examples:
      seqlab embed plot vectors.bin study --neighbours 15 --out study.png
      seqlab embed plot vectors.bin --analogy "man woman king queen" --out royal.png
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.embeddings.plot import plot_words

    _not_the_input(out, vectors, "--out")
    writable(out)
    if not out.lower().endswith(".png"):
        click.echo(f"warning: {out} is written as a PNG image whatever its suffix", err=True)
    kv = _load(vectors, fmt)
    with _friendly_errors():
        quads = [tuple(a.split()) for a in analogies]
        result = plot_words(kv, words, out, neighbours, method, quads, title)
    click.echo(f"wrote {result.path} ({len(result.words)} words, {method})")
    if result.font_fallback:
        click.echo(
            "note: no CJK font installed, so some labels show as boxes; install one "
            "(e.g. fonts-noto-cjk or fonts-nanum) for readable Hangul labels"
        )


embed.add_command(train)

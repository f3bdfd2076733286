"""The Korean side of ``seqlab embed``: ``--lang ko`` builds a morpheme corpus and applies the
Korean recipe; Korean queries are printed the way the lecture's slide prints them.

The recipe (:data:`KOREAN_RECIPE`) fills in every option left at its default when ``--lang ko``
is given; options typed on the command line always win. Heavy modules (Kiwi, numpy) are
imported only when a command runs.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

#: Settings of ``seqlab embed train CORPUS --lang ko`` for options left at their defaults.
#: Content morphemes were chosen over all morphemes on the development set of
#: benchmarks/korean.py (38.8 % against 30.3 %; both slide analogies first with either), and
#: train 2.4x faster (half the tokens). 300 dimensions were then chosen on the same set
#: (1 thread, seed 1): 47.6 % against 41.2 % for 100 dimensions and 45.8 % for 300 with
#: --sample 1e-4; both slide analogies first in all three. Skip-gram trains on one thread: two
#: gave vectors 3.5-4.7 points worse on the same set (seeds 1 and 2: 44.1 and 41.5 % against
#: 47.6 and 46.2 %) for half the training time (3 minutes against 6), and one thread with a
#: fixed seed gives the same vectors on every run. Writing each word's input plus output vector
#: (W + C, as GloVe writes W + W~) then gave 59.1 % against 47.6 % on the same set, the same
#: training (both slide analogies first). On a development set whose gender section weighs as
#: much as its capitals (as kor2vec's sections do), 15 negative samples then scored 48.3 and
#: 46.7 % (seeds 1 and 2) against 45.1-46.1 % for 5 (seeds 1-3), for about 2.6 times the
#: training time; more epochs (10: 43.0 %) and all morphemes (43.2, 44.3 %) lost, and two
#: threads (45.3 %) did as well as one there. See docs/embeddings.md, Korean word vectors.
KOREAN_RECIPE = {
    "token": "content",
    "vector_size": 300,
    "min_count": 5,
    "epochs": 5,
    "negative": 15,
    "workers": 1,
    "add_output_vectors": True,
}
#: fastText on Korean cuts its n-grams from the Hangul letters (Park et al. 2018), and keeps
#: particles and endings: its subwords are what give eojeols (밥을) their vectors. It keeps 100
#: dimensions, the setting it was measured with (75.6 % of kor2vec's syntactic analogies):
#: 300 would triple its 400 s on two cores (two threads, as it was measured), as would 15
#: negative samples.
KOREAN_FASTTEXT = {
    "subwords": "jamo",
    "token": "form",
    "vector_size": 100,
    "negative": 5,
    "workers": 2,
    "add_output_vectors": False,
}

lang_option = click.option(
    "--lang",
    type=click.Choice(("en", "ko")),
    default="en",
    show_default=True,
    help="ko: CORPUS (a file or the dataset kowiki_extract) is analysed into Korean morphemes "
    "first (cached), and the Korean recipe fills in the options not given.",
)
token_option = click.option(
    "--token",
    type=click.Choice(("form", "form/tag", "form/class", "content")),
    default="form",
    show_default="--lang ko: content; fasttext: form",
    help="--lang ko: what a token is: the morpheme (한국), with its Sejong tag (한국/NNP), with "
    "its class (한국/Noun), or content morphemes only (particles and endings dropped).",
)
subwords_option = click.option(
    "--subwords",
    type=click.Choice(("chars", "jamo")),
    default="chars",
    show_default="chars; --lang ko: jamo",
    help="fasttext: cut n-grams from the characters, or from the Hangul letters (jamo), so "
    "that eojeols and rare words get vectors from their letters.",
)


def apply_korean_recipe(settings: dict) -> None:
    """Fill the Korean recipe into ``settings`` for every option the user did not give."""
    ctx = click.get_current_context()
    recipe = dict(KOREAN_RECIPE)
    if settings["algo"] == "fasttext":
        recipe.update(KOREAN_FASTTEXT)
    for name, value in recipe.items():
        if ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
            settings[name] = value


def korean_corpus_file(corpus: str, token: str, workers: int, progress: bool) -> str:
    """The morpheme corpus of ``corpus`` (built and cached on first use), as a file path."""
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.text.korean import NoHangulError
    from seqlab.text.korean_corpus import korean_corpus
    from seqlab.text.reader import EmptyCorpusError, TextDecodeError

    try:
        build = korean_corpus(corpus, token=token, workers=workers, progress=progress)
    except (NoHangulError, TextDecodeError, EmptyCorpusError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from None
    if build.characters_analysed:
        click.echo(
            f"analysed {build.characters_analysed:,} characters in {build.analyse_seconds:.0f} s "
            f"({build.characters_per_second:,.0f} characters/s)",
            err=True,
        )
    click.echo(
        f"Korean corpus ({token} tokens): {build.tokens:,} tokens, {build.lines:,} lines "
        f"-> {build.path}",
        err=True,
    )
    return str(build.path)


def has_hangul(*words: str) -> bool:
    """True when any of ``words`` holds Hangul: the query is answered the Korean way."""
    from seqlab.text.korean import has_hangul as hangul

    return any(hangul(w) for w in words)


def print_korean_analogy(kv, a: str, b: str, c: str, topn: int, method: str) -> None:
    """``+한국/Noun +도쿄/Noun −서울/Noun → 일본/Noun``, then the TOPN answers with classes."""
    from seqlab.embeddings.korean import lookup, slide_analogy, tagged

    keys = [lookup(kv, w) for w in (a, b, c)]
    rows = kv.analogy(*keys, topn=topn, method=method)
    click.echo(slide_analogy(*keys, rows) + f"   ({method})")
    for rank, (word, score) in enumerate(rows, start=1):
        click.echo(f"{rank:>4}  {score:8.4f}  {tagged(word)}")


def print_korean_nearest(kv, words, topn: int, restrict_vocab: int | None) -> None:
    """Nearest words of each word as typed, the Korean neighbours shown with their class."""
    from seqlab.embeddings.korean import lookup, tagged

    keys = [lookup(kv, w) for w in words]
    results = kv.nearest(keys, topn=topn, restrict_vocab=restrict_vocab)
    for word, rows in zip(words, results, strict=True):
        click.echo(f"{word}:")
        for rank, (word, score) in enumerate(rows, start=1):
            click.echo(f"{rank:>4}  {score:8.4f}  {tagged(word)}")

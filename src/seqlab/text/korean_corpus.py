"""Korean corpora as morpheme files: streamed, analysed in parallel, cached once per setting.

Analysing Korean Wikipedia takes tens of minutes, so it is done once. Each source file (a part
of ``kowiki_extract``, or any UTF-8 text file) is analysed into a cache file of ``form/TAG``
tokens, one line per paragraph, written atomically: an interrupted build keeps the parts it
finished and resumes with the next. Every token form of :mod:`seqlab.text.korean` is derived
from those analyses in a minute, without running the analyser again, and cached as well.

The cache key holds the source's name and size, the analyser's and its model's versions and
the format version below, so a new kiwipiepy or a changed file gives a new cache file.

Input lines: WikiExtractor's ``<doc ...>`` and ``</doc>`` lines and blank lines are skipped;
every other line is one text for the analyser (a paragraph, a title or a heading). ``.gz``
files are read compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from seqlab.io import atomic_write
from seqlab.text.korean import (
    KoreanTokenizer,
    NoHangulError,
    analyser_version,
    check_token_form,
    format_token,
    has_hangul,
)
from seqlab.text.reader import EmptyCorpusError, TextDecodeError

_FORMAT = 1  # bump when the analysis files change shape
_HANGUL_CHECK_CHARACTERS = 100_000  # a Korean corpus has Hangul long before this


@dataclass
class CorpusBuild:
    """What :func:`build_korean_corpus` produced and how long each stage took."""

    path: Path
    tokens: int
    lines: int
    characters_analysed: int  # 0 when every analysis came from the cache
    analyse_seconds: float
    derive_seconds: float

    @property
    def characters_per_second(self) -> float:
        """Analyser throughput of this build (0 when nothing was analysed)."""
        return self.characters_analysed / self.analyse_seconds if self.analyse_seconds else 0.0


def build_korean_corpus(
    sources: Sequence[str | os.PathLike],
    cache_dir: str | os.PathLike,
    token: str = "form",
    workers: int = 2,
    progress: bool = True,
) -> CorpusBuild:
    """A whitespace-token corpus file of the morphemes of ``sources`` (cached; built once).

    Parameters
    ----------
    sources : text files (UTF-8, ``.gz`` allowed), read in this order as one corpus.
    cache_dir : folder of the analyses and the derived corpora.
    token : what a token is: ``"form"``, ``"form/tag"``, ``"form/class"`` or ``"content"``.
    workers : analyser threads.
    progress : show a progress bar (characters/s, ETA) while analysing.

    Returns
    -------
    CorpusBuild
        ``path`` is the corpus file: one line per paragraph, tokens separated by spaces.

    Raises
    ------
    TextDecodeError, NoHangulError, EmptyCorpusError
        A source that is not UTF-8 (file and line named), holds no Hangul, or no tokens.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); src = d / "ko.txt"
    >>> _ = src.write_text("<doc id=1>\\n한국의 수도는 서울이다.\\n</doc>\\n", encoding="utf-8")
    >>> build = build_korean_corpus([src], d / "cache", progress=False)  # doctest: +SKIP
    >>> build.path.read_text(encoding="utf-8")                             # doctest: +SKIP
    '한국 의 수도 는 서울 이 다 .\\n'
    """
    check_token_form(token)
    sources = [Path(s) for s in sources]
    for source in sources:
        if not source.is_file():
            raise FileNotFoundError(f"{source}: no such corpus file")
    cache_dir = Path(cache_dir)
    analyses, characters, analyse_seconds = [], 0, 0.0
    for source in sources:
        analysis = cache_dir / f"{source.name}.{_key([source])}.morphemes"
        if not analysis.is_file():
            started = time.perf_counter()
            characters += _analyse(source, analysis, workers, progress)
            analyse_seconds += time.perf_counter() - started
        analyses.append(analysis)
    slug = token.replace("/", "-")
    corpus = cache_dir / f"corpus-{slug}.{_key(sources)}.txt"
    started = time.perf_counter()
    if not corpus.is_file():
        _derive(analyses, corpus, token)
    tokens, lines = _count(corpus)
    if tokens == 0:
        raise EmptyCorpusError(f"{', '.join(map(str, sources))}: no {token!r} tokens at all")
    return CorpusBuild(
        corpus, tokens, lines, characters, analyse_seconds, time.perf_counter() - started
    )


def _key(sources: Sequence[Path]) -> str:
    """Cache key of the sources' names and sizes, the analyser version and the format."""
    parts = [f"{s.name}:{s.stat().st_size}" for s in sources]
    text = "|".join([*parts, analyser_version(), f"format {_FORMAT}"])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def read_paragraphs(path: Path, counter: list[int] | None = None) -> Iterator[str]:
    """The analysable lines of ``path`` (markup and blank lines skipped), decoded as UTF-8.

    ``counter``, when given, is ``[compressed bytes read, characters yielded, Hangul lines]``,
    updated as lines are read (the progress bar and the no-Hangul check use it).
    """
    with open(path, "rb") as raw:
        f = gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw
        for line_no, data in enumerate(f, start=1):
            try:
                line = data.decode("utf-8").strip()
            except UnicodeDecodeError as e:
                raise TextDecodeError(
                    f"{path}:{line_no}: not valid UTF-8 (byte {e.start} of the line); convert "
                    "the file to UTF-8"
                ) from None
            if counter is not None:
                counter[0] = raw.tell()
            if not line or line.startswith("<doc ") or line == "</doc>":
                continue
            if counter is not None:
                counter[1] += len(line)
                counter[2] += has_hangul(line)
            yield line


def _analyse(source: Path, target: Path, workers: int, progress: bool) -> int:
    """Write ``form/TAG`` lines of ``source`` atomically to ``target``; return characters read."""
    from tqdm.auto import tqdm  # only a build shows a bar

    tokenizer = KoreanTokenizer("form/tag", workers=workers)
    counter = [0, 0, 0]
    bar = tqdm(
        total=source.stat().st_size,
        unit="B",
        unit_scale=True,
        desc=f"morphemes of {source.name}",
        disable=not progress,
        mininterval=2.0,
    )
    started, shown = time.perf_counter(), 0
    with atomic_write(target, "w", encoding="utf-8") as out:
        for tokens in tokenizer.tokenize_many(read_paragraphs(source, counter)):
            if tokens:
                out.write(" ".join(tokens) + "\n")
            if counter[1] > _HANGUL_CHECK_CHARACTERS and not counter[2]:
                raise NoHangulError(
                    f"{source} holds no Hangul in its first {counter[1]:,} characters: --lang ko "
                    "needs Korean text (is it the right file?)"
                )
            if counter[0] - shown > 1 << 20:
                bar.update(counter[0] - shown)
                shown = counter[0]
                rate = counter[1] / max(time.perf_counter() - started, 1e-9)
                bar.set_postfix_str(f"{rate:,.0f} chars/s", refresh=False)
        if counter[1] and not counter[2]:
            raise NoHangulError(
                f"{source} holds no Hangul: --lang ko needs Korean text (is it the right file?)"
            )
    bar.update(counter[0] - shown)
    bar.close()
    return counter[1]


def _derive(analyses: Sequence[Path], target: Path, token: str) -> None:
    """Write the corpus of ``token`` tokens from the ``form/TAG`` analyses, atomically."""
    with atomic_write(target, "w", encoding="utf-8") as out:
        for analysis in analyses:
            with open(analysis, encoding="utf-8") as f:
                for line in f:
                    if token == "form/tag":
                        out.write(line)
                        continue
                    tokens = []
                    for item in line.split():
                        form, _, tag = item.rpartition("/")
                        written = format_token(form, tag, token)
                        if written is not None:
                            tokens.append(written)
                    if tokens:
                        out.write(" ".join(tokens) + "\n")


def _count(path: Path) -> tuple[int, int]:
    """(tokens, lines) of a corpus file."""
    tokens = lines = 0
    with open(path, "rb") as f:
        for line in f:
            tokens += len(line.split())
            lines += 1
    return tokens, lines


def korean_corpus(
    corpus: str | os.PathLike, token: str = "form", workers: int = 2, progress: bool = True
) -> CorpusBuild:
    """:func:`build_korean_corpus` of a dataset name (``"kowiki_extract"``) or a text file.

    A dataset's analyses are cached in ``<seqlab cache>/<name>/morphemes``; a file's in
    ``<seqlab cache>/korean/<hash of its folder>``.
    """
    sources, cache_dir = _sources_and_cache(corpus, progress)
    return build_korean_corpus(sources, cache_dir, token, workers, progress)


def cached_korean_corpus(corpus: str | os.PathLike, token: str = "form") -> Path | None:
    """The corpus file :func:`korean_corpus` would return, if it is already built; else None."""
    sources, cache_dir = _sources_and_cache(corpus, progress=False)
    path = cache_dir / f"corpus-{token.replace('/', '-')}.{_key(sources)}.txt"
    return path if path.is_file() else None


def _sources_and_cache(corpus: str | os.PathLike, progress: bool) -> tuple[list[Path], Path]:
    from seqlab import data

    if str(corpus) in data.names():
        sources = list(data.load(str(corpus), progress=progress).files)
        return sources, data.cache_root() / str(corpus) / "morphemes"
    path = Path(corpus).resolve()
    folder = hashlib.sha256(str(path.parent).encode()).hexdigest()[:12]
    return [path], data.cache_root() / "korean" / folder

"""The explorer's web application: one page, its scripts, and typed JSON queries on the vectors.

Every query is answered from the whole vocabulary, not only from the plotted words: nearest
words and analogies by :class:`~seqlab.explore.search.FastSearch` (the answers of
:class:`~seqlab.embeddings.KeyedVectors`, found through an int8 copy of the vectors), the
others by ``KeyedVectors`` itself.
Query parameters are typed and bounded, so a bad query gets a 4xx answer with a JSON ``detail``
that says what is wrong: an unknown word is a 404 that names it and suggests close spellings, a
value out of range is a 422. Nothing reaches the page as a traceback; an unexpected failure is a
500 with a one-line JSON ``detail`` (the traceback goes to the server's log).

The page cannot name files: the app serves the vectors it was built with and nothing else, and
only answers requests addressed to the loopback host names (a guard against DNS rebinding).
"""

from __future__ import annotations

import difflib
import functools
import gzip
import importlib.metadata
import importlib.resources
import logging
import threading
import time
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.middleware.trustedhost import TrustedHostMiddleware

from seqlab.embeddings import KeyedVectors, UnknownWordError
from seqlab.explore.jobs import ProjectionJobs
from seqlab.explore.projection import (
    METHODS,
    ProjectionCache,
    plotted_rows,
    umap_available,
    word_axes,
)
from seqlab.explore.search import FastSearch

log = logging.getLogger("seqlab.explore")

STATIC = Path(__file__).parent / "static"
MAX_TOPN = 1000
MAX_WORD_CHARS = 200  # longer "words" are not in any vocabulary; refused before any work
_SUGGEST_FROM = 50_000  # close spellings are looked for among this many most frequent words

Word = Annotated[str, Query(min_length=1, max_length=MAX_WORD_CHARS)]
TopN = Annotated[int, Query(ge=1, le=MAX_TOPN, description="How many words to return.")]


class Scored(BaseModel):
    word: str
    cosine: float


class Neighbours(BaseModel):
    word: str
    neighbors: list[Scored]


class Analogy(BaseModel):
    a: str
    b: str
    c: str
    method: str
    results: list[Scored]


class OddOneOut(BaseModel):
    odd_one: str
    cosines: list[Scored]  # each word's cosine with the mean of all, lowest first


class Similarity(BaseModel):
    w1: str
    w2: str
    cosine: float


class Axes(BaseModel):
    x_label: str
    y_label: str
    x: list[float]
    y: list[float]


class Info(BaseModel):
    name: str
    words: int
    vector_size: int
    plotted: int
    projection: str
    dims: int
    methods: dict[str, bool]
    max_topn: int
    out_of_vocabulary: bool  # fastText vectors: words outside the vocabulary get vectors too
    fast_search: bool  # the int8 index that speeds up queries is built (else exact pass only)


def create_app(
    kv: KeyedVectors,
    name: str = "vectors",
    top: int = 5000,
    projection: str = "pca",
    dims: int = 2,
    cache: ProjectionCache | None = None,
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    seed: int = 0,
) -> FastAPI:
    """The explorer app for ``kv``; the default projection starts computing at once.

    Parameters
    ----------
    kv : the vectors (only read).
    name : what the page calls them (the file name; never a path the page can send back).
    top : how many of the most frequent words are plotted.
    projection, dims : the projection the page shows first.
    cache : where projections are kept between runs (``None``: computed every run).
    allowed_hosts : the ``Host`` headers answered; others get 400.
    seed : random seed of t-SNE and UMAP.
    """
    if top < 2:
        raise ValueError(f"top must be at least 2 words to plot, got {top}")
    search = FastSearch(kv)  # its index is built in the background; the server answers at once
    rows = plotted_rows(kv, top)
    jobs = ProjectionJobs(kv, rows, cache, seed)
    jobs.get(projection, dims)
    default_dims = dims
    has_oov = type(kv)._oov_vector is not KeyedVectors._oov_vector

    app = FastAPI(title="seqlab explore", docs_url="/api/docs", redoc_url=None)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    _add_error_handlers(app, kv)

    # ------------------------------------------------------------------ page and scripts
    plotly = PlotlyBundle()  # compressed in the background: ready before a browser asks
    threading.Thread(target=plotly.gzipped, name="seqlab-plotly-gzip", daemon=True).start()
    html = (
        (STATIC / "index.html")
        .read_text(encoding="utf-8")
        .replace("/static/plotly.min.js", plotly.url)
    )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(html)

    @app.get(plotly.url, include_in_schema=False)
    def plotly_js(request: Request) -> Response:
        # The name carries the version, so browsers may keep it for good; gzip makes the
        # 4.8 MB a third as large, sent from memory in one piece.
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "Vary": "Accept-Encoding",
        }
        if "gzip" in request.headers.get("accept-encoding", ""):
            body, headers["Content-Encoding"] = plotly.gzipped(), "gzip"
        else:
            body = plotly.raw
        return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: Literal["explore.js", "explore.css"]) -> FileResponse:
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return FileResponse(
            STATIC / name,
            media_type=f"{media}; charset=utf-8",
            headers={"Cache-Control": "max-age=3600"},
        )

    # ------------------------------------------------------------------ queries
    # The queries are `async def`: answered on the server's event loop, not handed to a worker
    # thread and back, which cost about 1 ms of a 2-6 ms answer. Each takes a few milliseconds
    # (the search itself runs on its own threads), so concurrent queries wait in turn, which
    # for one person's page is no loss.
    @app.get("/api/info")
    async def info() -> Info:
        return Info(
            name=name,
            words=len(kv),
            vector_size=kv.vector_size,
            plotted=len(rows),
            projection=projection,
            dims=dims,
            methods={m: m != "umap" or umap_available() for m in METHODS},
            max_topn=MAX_TOPN,
            out_of_vocabulary=has_oov,
            fast_search=search.ready,
        )

    @app.get("/api/projection", responses={202: {"description": "still computing"}})
    async def get_projection(
        method: Literal["pca", "tsne", "umap"] | None = None,
        dims: Annotated[int | None, Query(ge=2, le=3)] = None,
    ) -> Response:
        # No parameters: the projection the server was started with, which the page requests
        # before its scripts have run (it cannot know the setting yet).
        method = method or projection
        dims = dims or default_dims
        if method == "umap" and not umap_available():
            return _error(
                400,
                "UMAP needs the umap-learn package, which is not installed here: "
                "pip install 'seqlab[umap]', or choose PCA or t-SNE",
            )
        job = jobs.get(method, dims)
        if job.state == "ready":
            return Response(job.body, media_type="application/json; charset=utf-8")
        if job.state == "failed":
            return _error(500, job.error or "projection failed")
        elapsed = time.monotonic() - job.started
        return JSONResponse(
            {"state": job.state, "message": job.message, "elapsed": round(elapsed, 1)},
            status_code=202,
        )

    @app.get("/api/neighbors")
    async def neighbours(word: Word, topn: TopN = 10) -> Neighbours:
        return Neighbours(word=word, neighbors=_scored(search.nearest(word, topn=topn)))

    @app.get("/api/analogy")
    async def analogy(
        a: Word,
        b: Word,
        c: Word,
        method: Literal["3cosadd", "3cosmul"] = "3cosadd",
        topn: TopN = 10,
    ) -> Analogy:
        results = search.analogy(a, b, c, topn=topn, method=method)
        return Analogy(a=a, b=b, c=c, method=method, results=_scored(results))

    @app.get("/api/doesnt_match")
    async def doesnt_match(
        words: Annotated[
            list[Annotated[str, Query(min_length=1, max_length=MAX_WORD_CHARS)]],
            Query(min_length=2, max_length=100, description="Repeat: ?words=a&words=b&words=c"),
        ],
    ) -> OddOneOut:
        odd = kv.doesnt_match(words)
        unit = np.stack([kv.get_vector(w, norm=True) for w in words])
        mean = unit.mean(axis=0)
        cosines = unit @ (mean / (np.linalg.norm(mean) or 1.0))
        order = np.argsort(cosines, kind="stable")
        return OddOneOut(
            odd_one=odd, cosines=[Scored(word=words[i], cosine=float(cosines[i])) for i in order]
        )

    @app.get("/api/similarity")
    async def similarity(w1: Word, w2: Word) -> Similarity:
        return Similarity(w1=w1, w2=w2, cosine=kv.similarity(w1, w2))

    @app.get("/api/axes")
    async def axes(x0: Word, x1: Word, y0: Word | None = None, y1: Word | None = None) -> Axes:
        if (y0 is None) != (y1 is None):
            return _error(422, "give both y-axis words (y0 and y1) or neither")
        y_pair = (y0, y1) if y0 is not None else None
        coords, y_label = word_axes(kv, rows, (x0, x1), y_pair)
        rounded = np.round(coords.astype(np.float64), 5)
        return Axes(
            x_label=f"{x0} → {x1}",
            y_label=y_label,
            x=rounded[:, 0].tolist(),
            y=rounded[:, 1].tolist(),
        )

    app.state.jobs = jobs  # scripts and tests wait on projections through it
    app.state.search = search  # ... and on the query index
    return app


def _add_error_handlers(app: FastAPI, kv: KeyedVectors) -> None:
    suggest = functools.lru_cache(maxsize=4096)(functools.partial(close_words, kv))

    @app.exception_handler(UnknownWordError)
    def unknown_word(request: Request, error: UnknownWordError) -> JSONResponse:
        return _error(
            404,
            str(error),
            unknown=error.words,
            suggestions={w: suggest(w) for w in error.words[:10]},
        )

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for item in error.errors():
            where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "path"))
            given = item.get("input")
            shown = f" (got {given!r})" if given is not None and not isinstance(given, dict) else ""
            problems.append({"parameter": where, "message": f"{item.get('msg', 'invalid')}{shown}"})
        text = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems)
        return _error(422, f"bad query: {text}", errors=problems)

    @app.exception_handler(ValueError)
    def bad_value(request: Request, error: ValueError) -> JSONResponse:
        return _error(400, str(error))

    @app.exception_handler(Exception)
    def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return _error(
            500,
            f"internal error ({type(error).__name__}) while answering {request.url.path}; "
            "the server's log has the details",
        )


def close_words(kv: KeyedVectors, word: str, n: int = 5) -> list[str]:
    """Up to ``n`` known words spelt like ``word``: other cases first, then near spellings.

    Near spellings are searched among the most frequent words of about the same length that
    share the first or last character, so that a 404 stays fast on a large vocabulary.

    Examples
    --------
    >>> kv = KeyedVectors(["King", "kings", "queen"], np.eye(3, dtype=np.float32))
    >>> close_words(kv, "king")
    ['King', 'kings']
    """
    found = [w for w in (word.lower(), word.capitalize(), word.upper()) if w in kv and w != word]
    folded = word.casefold()
    candidates = [
        w
        for w in kv.index_to_key[:_SUGGEST_FROM]
        if abs(len(w) - len(word)) <= 2
        and (w[:1].casefold() == folded[:1] or w[-1:].casefold() == folded[-1:])
    ]
    found += difflib.get_close_matches(word, candidates, n=n, cutoff=0.6)
    return list(dict.fromkeys(found))[:n]


def _scored(rows: list[tuple[str, float]]) -> list[Scored]:
    return [Scored(word=w, cosine=round(float(s), 6)) for w, s in rows]


def _error(status: int, detail: str, **extra) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


class PlotlyBundle:
    """plotly.js as shipped inside the ``plotly`` Python package (so the page works offline),
    held in memory with a compile hint in front, and gzip-compressed once on first use."""

    def __init__(self):
        path = Path(str(importlib.resources.files("plotly") / "package_data" / "plotly.min.js"))
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: plotly.min.js is missing from the installed plotly package; "
                "reinstall it (pip install --force-reinstall plotly)"
            )
        # V8's explicit compile hint: Chromium compiles every function of the file on a
        # background thread while it arrives, instead of each one on the page's thread when
        # plotly.js first calls it (most are called while it loads). On a first visit this took
        # 0.4-0.5 s of CPU off the page's thread.
        self.raw = b"//# allFunctionsCalledOnLoad\n" + path.read_bytes()
        self.url = f"/static/plotly-{importlib.metadata.version('plotly')}.min.js"
        self._lock = threading.Lock()
        self._gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.raw, compresslevel=6, mtime=0)
            return self._gzipped

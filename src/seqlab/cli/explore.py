"""``seqlab explore``: a local web page to look at word vectors.

The web framework (FastAPI, uvicorn) is imported only when the command runs, so that
``seqlab --help`` stays fast.
"""

from __future__ import annotations

import click

FORMATS = ("word2vec-bin", "word2vec-txt", "glove", "fasttext-vec", "seqlab")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("vectors", type=click.Path(dir_okay=False))
@click.option(
    "--top",
    type=click.IntRange(min=2),
    default=5000,
    show_default=True,
    help="Plot the N most frequent words (queries always search the whole vocabulary).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default="a free port",
    help="Port on 127.0.0.1 to serve on.",
)
@click.option(
    "--projection",
    type=click.Choice(["pca", "tsne", "umap"]),
    default="pca",
    show_default=True,
    help="Projection shown first (the page can switch; each is computed once and cached).",
)
@click.option(
    "--dims", type=click.Choice(["2", "3"]), default="2", show_default=True, help="2-D or 3-D."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Format of VECTORS (default: detected from the file).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    show_default="$SEQLAB_CACHE/explore",
    help="Where computed projections are kept.",
)
@click.option("--open", "open_browser", is_flag=True, help="Also open the page in a web browser.")
def explore(vectors, top, port, projection, dims, fmt, cache_dir, open_browser) -> None:
    """Serve a page on 127.0.0.1 to look at VECTORS: a 2-D/3-D map of the most frequent
    words, nearest words, analogies, the odd one out, similarities and word axes.

    VECTORS is any vectors file seqlab reads (word2vec binary or text, GloVe, fastText .vec,
    seqlab .safetensors); it is only read. Stop the server with Ctrl-C.

    \b
    Example:  seqlab explore vectors.bin --projection tsne
    """
    from seqlab.explore.projection import ProjectionCache, umap_available

    if projection == "umap" and not umap_available():
        raise click.ClickException(
            "--projection umap needs the umap-learn package: pip install 'seqlab[umap]', "
            "or use --projection pca or tsne"
        )
    click.echo(f"loading {vectors} ...", err=True)
    kv = _load(vectors, fmt)
    from threadpoolctl import threadpool_limits

    from seqlab.explore.app import create_app
    from seqlab.explore.server import bind, serve, url_of

    # One BLAS thread for this process: the queries run their own threads, and BLAS's waiting
    # threads made a 5,000-word PCA take 15-20 s instead of 1 s on a busy 2-core machine.
    threadpool_limits(1, user_api="blas")

    if top > len(kv):
        click.echo(f"plotting all {len(kv):,} words (--top {top:,} is more than there are)")
    try:
        sock = bind(port)
    except OSError as error:
        raise click.ClickException(str(error)) from None
    app = create_app(
        kv,
        name=click.format_filename(vectors, shorten=True),
        top=top,
        projection=projection,
        dims=int(dims),
        cache=ProjectionCache(vectors, cache_dir),
    )
    url = url_of(sock)
    click.echo(f"{kv!r}; plotting {min(top, len(kv)):,} words by {projection}")
    click.echo(f"seqlab explore: {url}  (Ctrl-C to stop)", nl=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    serve(app, sock)
    click.echo("seqlab explore: stopped")


def _load(path: str, fmt: str | None):
    """The vectors, or a one-line error (exit status 1) before any server starts."""
    from seqlab.explore.server import load_vectors

    try:
        return load_vectors(path, fmt)
    except (ValueError, KeyError, OSError) as error:
        message = str(error)  # seqlab's loaders name the file; others' errors may not
        raise click.ClickException(message if path in message else f"{path}: {message}") from None

"""``seqlab explore``: query latency at the running server, and how soon the page is usable.

1. Query latency: ``seqlab explore`` runs as its own process on 200,000 x 300 random vectors; an
   HTTP client (httpx2, one keep-alive connection) sends nearest-word queries (topn 10) and
   analogies (3CosAdd and 3CosMul, topn 10) one after another and times each round trip.
   Median, p90 and p95 per kind; the goal is a median of at most 20 ms.
   Peer: gensim 4.4's ``most_similar`` / ``most_similar_cosmul`` in-process on the same vectors
   and the same queries, interleaved query by query with the HTTP ones (in a random order).
   ``ratio`` = seqlab's speed / gensim's (median time of gensim / median time of seqlab over
   HTTP): seqlab pays for HTTP and JSON, gensim for nothing but the computation. seqlab's own
   in-process time (the server's ``FastSearch`` query, run in the benchmark's process with one
   BLAS thread as the server has) shows what the HTTP round trip adds. gensim keeps numpy's
   default BLAS threads. Every answer is compared with gensim's.
   Before that, the server's start is timed: from launching ``seqlab explore`` to its first
   answer, to the PCA map computed, and to the query index built (queries before that are
   answered too, by the exact pass, but are not timed).
2. Page interactive time: the plotted 5,000 words' PCA is cached, then headless Chromium
   (Playwright, the system's /usr/bin/chromium) loads the page. "Interactive" is the later of
   two times after navigation: the map drawn by plotly.js with every point (hover and click
   work from then on; the page records ``performance.now()`` then), and the answer to a search
   sent through the page's form at that moment (its list of nearest words filled). A cold load
   (new browser profile: plotly.js fetched, decompressed and compiled) and a reload (plotly.js
   from the browser cache); median of ``--page-loads`` each. Goal: at most 2 s.

Run it alone on the machine (under the CPU lock when others share it)::

    flock /tmp/seqlab-cpu.lock .venv/bin/python benchmarks/explore.py --json explore.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import numpy as np
from gensim.models import KeyedVectors as GensimKV
from threadpoolctl import threadpool_limits

from seqlab.embeddings import KeyedVectors
from seqlab.explore.search import FastSearch


def percentiles(times_s: list[float]) -> dict:
    ms = np.asarray(times_s) * 1000
    return {
        "median_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p95_ms": float(np.percentile(ms, 95)),
    }


def start_server(path: Path, top: int, cache: Path) -> tuple[subprocess.Popen, str, float]:
    """``seqlab explore PATH`` as a separate process; returns it, its URL and the seconds it
    took to answer (Python start, imports, loading the vectors, binding the port)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from seqlab.cli.main import main; main()",
            "explore",
            str(path),
            "--top",
            str(top),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "SEQLAB_CACHE": str(cache)},
    )
    for line in process.stdout:
        if line.startswith("seqlab explore: "):
            url = line.split()[2]
            while httpx2.get(url + "api/info", timeout=60).status_code != 200:
                time.sleep(0.01)
            return process, url, time.perf_counter() - start
    raise RuntimeError(f"seqlab explore exited with status {process.wait()}")


def bench_queries(args, url: str, kv: KeyedVectors) -> list[dict]:
    search = FastSearch(kv, background=False)  # what the server answers with, in-process
    gensim_kv = GensimKV(kv.vector_size)
    gensim_kv.add_vectors(kv.index_to_key, kv.vectors)
    gensim_kv.fill_norms()
    rng = np.random.default_rng(1)
    words = kv.index_to_key
    picks = rng.permutation(len(words))[: 3 * args.queries].reshape(-1, 3)  # distinct words
    order = np.random.default_rng(2)
    kinds = {
        "nearest": (
            lambda p: ("/api/neighbors", {"word": words[p[0]], "topn": 10}),
            lambda p: search.nearest(words[p[0]], topn=10),
            lambda p: gensim_kv.most_similar(words[p[0]], topn=10),
        ),
        "analogy 3CosAdd": (
            lambda p: ("/api/analogy", _triple(words, p, "3cosadd")),
            lambda p: search.analogy(*(words[i] for i in p), topn=10),
            lambda p: gensim_kv.most_similar(
                positive=[words[p[0]], words[p[2]]], negative=[words[p[1]]], topn=10
            ),
        ),
        "analogy 3CosMul": (
            lambda p: ("/api/analogy", _triple(words, p, "3cosmul")),
            lambda p: search.analogy(*(words[i] for i in p), topn=10, method="3cosmul"),
            lambda p: gensim_kv.most_similar_cosmul(
                positive=[words[p[0]], words[p[2]]], negative=[words[p[1]]], topn=10
            ),
        ),
    }
    results = []
    with httpx2.Client(base_url=url, timeout=60) as client:
        for name, (request, bare, peer) in kinds.items():
            for p in picks[:5]:  # warm-up: connection, caches
                path, params = request(p)
                client.get(path, params=params).raise_for_status()
                bare(p)
                peer(p)
            ours, bare_times, theirs, same = [], [], [], 0
            for p in picks:
                path, params = request(p)
                # A new order each time: what one leaves behind (BLAS threads still spinning,
                # caches) falls on each of the others as often.
                for step in order.permutation(3):
                    if step == 0:
                        start = time.perf_counter()
                        response = client.get(path, params=params)
                        ours.append(time.perf_counter() - start)
                    elif step == 1:
                        with threadpool_limits(1, user_api="blas"):  # as in the server's process
                            start = time.perf_counter()
                            bare(p)
                            bare_times.append(time.perf_counter() - start)
                    else:
                        start = time.perf_counter()
                        expected = peer(p)
                        theirs.append(time.perf_counter() - start)
                response.raise_for_status()
                body = response.json()
                got = body["neighbors"] if "neighbors" in body else body["results"]
                same += [r["word"] for r in got] == [w for w, _ in expected]
            row = {
                "task": f"{name} ({len(words):,} x {kv.vector_size}, topn 10, {len(picks)} each)",
                "seqlab_http": percentiles(ours),
                "seqlab_in_process": percentiles(bare_times),
                "gensim_in_process": percentiles(theirs),
                "identical_answers": f"{same}/{len(picks)}",
            }
            row["ratio"] = row["gensim_in_process"]["median_ms"] / row["seqlab_http"]["median_ms"]
            results.append(row)
    return results


def bench_page(args, url: str, word: str) -> dict:
    from playwright.sync_api import sync_playwright

    # Run in the page before its own scripts: the moment the map is drawn (body[data-ready]),
    # search for a word through the page's form, as a person would, and record when its list
    # of nearest words is filled. (Sent from Python instead, the search would also wait for
    # Playwright to notice the map and send the command.)
    search_when_drawn = """(word) => {
      new MutationObserver((_, watch) => {
        if (!document.body || !document.body.dataset.ready) return;
        watch.disconnect();
        const list = document.getElementById("neighbors");
        new MutationObserver((_, filled) => {
          if (!list.children.length) return;
          filled.disconnect();
          window.searchAnswered = performance.now();
        }).observe(list, { childList: true });
        document.getElementById("search-word").value = word;
        document.getElementById("search-form").requestSubmit();
      }).observe(document, { subtree: true, attributeFilter: ["data-ready"] });
    }"""

    def timings(page) -> list[float]:
        """[scripts run, map data received, map drawn, search answered] in ms after the
        navigation started."""
        page.wait_for_function("window.searchAnswered", timeout=120_000)
        return page.evaluate(
            """() => [
              performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
              performance.getEntriesByType("resource")
                .find((e) => e.name.includes("/api/projection")).responseEnd,
              Number(document.body.dataset.ready),
              window.searchAnswered,
            ]"""
        )

    loads = {"cold": [], "reload": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True)
        for _ in range(args.page_loads):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_init_script(f"({search_when_drawn})({json.dumps(word)})")
            page = context.new_page()
            page.goto(url)
            loads["cold"].append(timings(page))
            page.reload()
            loads["reload"].append(timings(page))
            points = page.evaluate("document.getElementById('plot').data[0].x.length")
            context.close()
        browser.close()
    result = {"task": f"page interactive, {points:,} points, cached PCA"}
    for kind, rows in loads.items():
        scripts, data, drawn, answered = np.median(np.asarray(rows), axis=0).tolist()
        result[kind] = {
            "scripts_run_ms": scripts,
            "data_in_ms": data,
            "drawn_ms": drawn,
            "search_answered_ms": answered,
        }
        result[f"{kind}_ms"] = [max(row[2], row[3]) for row in rows]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--queries", type=int, default=300, help="queries of each kind")
    parser.add_argument("--top", type=int, default=5000, help="words on the map")
    parser.add_argument("--page-loads", type=int, default=5)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(args.words)]
    kv = KeyedVectors(words, rng.normal(size=(args.words, args.dim)).astype(np.float32))
    with tempfile.TemporaryDirectory(prefix="seqlab-explore-bench.") as tmp:
        path = Path(tmp) / "vectors.safetensors"
        kv.save(path)
        start = time.perf_counter()
        process, url, answering_s = start_server(path, args.top, Path(tmp) / "cache")
        try:
            ready = {}
            while len(ready) < 2:
                if "map" not in ready and httpx2.get(url + "api/projection").status_code == 200:
                    ready["map"] = time.perf_counter() - start  # PCA of --top words computed
                if "index" not in ready and httpx2.get(url + "api/info").json()["fast_search"]:
                    ready["index"] = time.perf_counter() - start
                time.sleep(0.02)
            startup = {
                "task": f"server start, {args.words:,} x {args.dim} vectors (.safetensors)",
                "answering_s": answering_s,
                "map_ready_s": ready["map"],
                "index_ready_s": ready["index"],
            }
            queries = bench_queries(args, url, kv)
            page = bench_page(args, url, words[1]) if os.path.isfile(args.chromium) else None
        finally:
            process.terminate()
            process.wait(timeout=30)

    print(
        f"{startup['task']}: answering after {startup['answering_s']:.2f} s, "
        f"PCA map of {args.top:,} words ready after {startup['map_ready_s']:.2f} s, "
        f"query index after {startup['index_ready_s']:.2f} s"
    )
    for row in queries:
        ours, theirs = row["seqlab_http"], row["gensim_in_process"]
        print(
            f"{row['task']}: seqlab over HTTP median {ours['median_ms']:.2f} ms "
            f"(p90 {ours['p90_ms']:.2f}, p95 {ours['p95_ms']:.2f}), in-process median "
            f"{row['seqlab_in_process']['median_ms']:.2f} ms; "
            f"gensim in-process median {theirs['median_ms']:.2f} ms "
            f"(p90 {theirs['p90_ms']:.2f}); ratio {row['ratio']:.2f}; "
            f"same answers {row['identical_answers']}"
        )
    if page is None:
        print(f"page interactive time: skipped (no Chromium at {args.chromium})")
    else:
        for kind in ("cold", "reload"):
            t = page[kind]
            print(
                f"{page['task']}, {kind} load (median of {args.page_loads}): interactive after "
                f"{np.median(page[kind + '_ms']):.0f} ms: map drawn at {t['drawn_ms']:.0f} ms, "
                f"a search sent then answered at {t['search_answered_ms']:.0f} ms (scripts run "
                f"at {t['scripts_run_ms']:.0f} ms, map data in at {t['data_in_ms']:.0f} ms)"
            )
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k != "json"}
        args.json.write_text(
            json.dumps(
                {"settings": settings, "startup": startup, "queries": queries, "page": page},
                indent=1,
            )
            + "\n"
        )


def _triple(words: list[str], p: np.ndarray, method: str) -> dict:
    return {"a": words[p[0]], "b": words[p[1]], "c": words[p[2]], "method": method, "topn": 10}


if __name__ == "__main__":
    main()

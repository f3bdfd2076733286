"""The explorer's HTTP API, through FastAPI's TestClient: answers, typed errors, read-only."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from seqlab.explore import create_app


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        yield client


def test_page_and_its_scripts_are_served_from_installed_files(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert '<meta charset="utf-8">' in page.text
    assert "http" not in page.text.split("<body>")[1]  # no CDN: nothing is loaded from outside
    plotly_url = re.search(r'src="(/static/plotly-[0-9.]+\.min\.js)"', page.text).group(1)
    plotly_js = client.get(plotly_url)
    assert plotly_js.status_code == 200
    assert len(plotly_js.content) > 1_000_000 and b"plotly" in plotly_js.content[:2000]
    assert "Plotly.react" in client.get("/static/explore.js").text
    assert "Noto Sans CJK KR" in client.get("/static/explore.css").text
    assert client.get("/static/../app.py").status_code == 404


def test_plotly_is_sent_compressed_and_kept_by_the_browser(client):
    plotly_url = re.search(r'src="(/static/plotly-[^"]+)"', client.get("/").text).group(1)
    gzipped = client.get(plotly_url, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert int(gzipped.headers["content-length"]) < len(gzipped.content) / 2
    assert "immutable" in gzipped.headers["cache-control"]  # the name changes with the version
    plain = client.get(plotly_url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == gzipped.content  # the same script, decompressed by the client
    assert plain.content.startswith(b"//# allFunctionsCalledOnLoad\n")  # compiled off-thread


def test_info(client):
    info = client.get("/api/info").json()
    assert info["name"] == "small.bin"
    assert (info["words"], info["vector_size"], info["plotted"]) == (313, 24, 200)
    assert info["methods"]["pca"] and info["methods"]["tsne"]


def test_projection_lists_the_most_frequent_words_with_coordinates(client):
    body = client.get("/api/projection", params={"method": "pca", "dims": 2}).json()
    assert body["state"] == "ready" and body["dims"] == 2
    assert body["words"][:3] == ["king", "monarch", "queen"]
    assert len(body["words"]) == len(body["x"]) == len(body["y"]) == 200
    assert "z" not in body
    assert np.isfinite(body["x"]).all()
    assert sum(body["explained"]) <= 1.0 + 1e-9


def test_neighbours_come_from_the_whole_vocabulary(client):
    body = client.get("/api/neighbors", params={"word": "king", "topn": 2}).json()
    assert [n["word"] for n in body["neighbors"]] == ["monarch", "queen"]
    assert body["neighbors"][1]["cosine"] == pytest.approx(2**-0.5, abs=1e-5)
    # a filler outside the 200 plotted words is answered, and its neighbours too
    far = client.get("/api/neighbors", params={"word": "w299", "topn": 300})
    assert far.status_code == 200 and len(far.json()["neighbors"]) == 300


def test_korean_words(client):
    body = client.get("/api/neighbors", params={"word": "한국", "topn": 2}).json()
    assert body["word"] == "한국"
    assert {n["word"] for n in body["neighbors"]} == {"서울", "일본"}
    response = client.get("/api/analogy", params={"a": "한국", "b": "서울", "c": "도쿄"})
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["results"][0]["word"] == "일본"


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy(client, method):
    params = {"a": "king", "b": "man", "c": "woman", "method": method, "topn": 3}
    body = client.get("/api/analogy", params=params).json()
    assert body["method"] == method
    assert body["results"][0]["word"] == "queen"
    assert len(body["results"]) == 3


def test_doesnt_match_and_similarity(client):
    words = ["breakfast", "cereal", "dinner", "lunch"]
    body = client.get("/api/doesnt_match", params={"words": words}).json()
    assert body["odd_one"] == "cereal"
    assert body["cosines"][0]["word"] == "cereal"  # lowest cosine with the mean first
    assert sorted(c["word"] for c in body["cosines"]) == sorted(words)
    sim = client.get("/api/similarity", params={"w1": "king", "w2": "queen"}).json()
    assert sim["cosine"] == pytest.approx(2**-0.5, abs=1e-6)


def test_word_axes(client):
    body = client.get("/api/axes", params={"x0": "man", "x1": "woman"}).json()
    words = client.get("/api/projection").json()["words"]
    x = dict(zip(words, body["x"], strict=True))
    assert body["x_label"] == "man → woman"
    assert x["woman"] > x["man"] and x["queen"] > x["king"]  # the female direction
    both = client.get(
        "/api/axes", params={"x0": "man", "x1": "woman", "y0": "서울", "y1": "한국"}
    ).json()
    y = dict(zip(words, both["y"], strict=True))
    assert y["한국"] > y["서울"] and y["일본"] > y["도쿄"]  # country minus capital
    assert len(both["x"]) == len(both["y"]) == 200


def test_unknown_word_is_a_404_naming_it_with_close_spellings(client):
    response = client.get("/api/neighbors", params={"word": "kng"})
    assert response.status_code == 404
    body = response.json()
    assert "'kng'" in body["detail"] and "313 words" in body["detail"]
    assert body["unknown"] == ["kng"]
    assert "king" in body["suggestions"]["kng"]
    response = client.get("/api/analogy", params={"a": "King", "b": "xyzzy", "c": "한굮"})
    assert response.status_code == 404
    assert sorted(response.json()["unknown"]) == sorted(["King", "xyzzy", "한굮"])
    assert response.json()["suggestions"]["King"][0] == "king"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"word": "king", "topn": 0}, "topn"),
        ({"word": "king", "topn": 100000}, "topn"),
        ({"word": "king", "topn": "ten"}, "topn"),
        ({"topn": 3}, "word"),
        ({"word": ""}, "word"),
        ({"word": "x" * 201}, "word"),
    ],
)
def test_bad_query_is_a_422_naming_the_parameter(client, params, parameter):
    response = client.get("/api/neighbors", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith(f"bad query: {parameter}:")
    assert body["errors"][0]["parameter"] == parameter
    assert "Traceback" not in response.text


def test_other_bad_queries(client):
    bad_method = client.get(
        "/api/analogy", params={"a": "king", "b": "man", "c": "woman", "method": "3cosfoo"}
    )
    assert bad_method.status_code == 422 and "method" in bad_method.json()["detail"]
    one_word = client.get("/api/doesnt_match", params={"words": ["king"]})
    assert one_word.status_code == 422
    same = client.get("/api/axes", params={"x0": "king", "x1": "king"})
    assert same.status_code == 400 and "two different words" in same.json()["detail"]
    half_y = client.get("/api/axes", params={"x0": "man", "x1": "woman", "y0": "king"})
    assert half_y.status_code == 422
    assert client.get("/api/projection", params={"dims": 4}).status_code == 422
    assert client.get("/api/projection", params={"method": "lda"}).status_code == 422
    assert client.get("/api/nothing").status_code == 404


def test_unexpected_failure_is_a_json_500_without_traceback(kv):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire at /secret/path")

    app = create_app(kv, top=20, allowed_hosts=("127.0.0.1",))
    app.state.search.nearest = broken
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        response = client.get("/api/neighbors", params={"word": "king"})
        assert response.status_code == 500
        assert response.json()["detail"].startswith("internal error (RuntimeError)")
        assert "/secret/path" not in response.text and "Traceback" not in response.text
        assert client.get("/api/similarity", params={"w1": "king", "w2": "man"}).status_code == 200


def test_only_loopback_host_names_are_answered(kv):
    app = create_app(kv, top=20)
    with TestClient(app, base_url="http://evil.example") as client:
        assert client.get("/api/info").status_code == 400
    with TestClient(app, base_url="http://localhost:8000") as client:
        assert client.get("/api/info").status_code == 200


def test_the_vectors_file_is_never_written(kv, vectors_file, tmp_path):
    from seqlab.explore import ProjectionCache

    before = Path(vectors_file).stat().st_mtime_ns, _sha(vectors_file)
    app = create_app(kv, top=50, cache=ProjectionCache(vectors_file, tmp_path))
    app.state.jobs.wait("pca", 3)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/api/projection", params={"dims": 3}).json()["state"] == "ready"
        client.get("/api/neighbors", params={"word": "king"})
    assert (Path(vectors_file).stat().st_mtime_ns, _sha(vectors_file)) == before
    stored = list(tmp_path.rglob("*.safetensors"))
    assert len(stored) == 2 and {p.parent for p in stored} == {tmp_path}  # PCA 2-D and 3-D
    assert list(Path(vectors_file).parent.iterdir()) == [Path(vectors_file)]


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_projection_answers_202_with_progress_while_computing(kv):
    app = create_app(kv, top=60, allowed_hosts=("127.0.0.1",))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        first = client.get("/api/projection", params={"method": "tsne", "dims": 2})
        assert first.status_code == 202  # t-SNE of 60 words takes far longer than one request
        body = first.json()
        assert body["state"] in ("queued", "computing") and body["message"]
        assert body["elapsed"] >= 0
        assert app.state.jobs.wait("tsne", 2).state == "ready"
        ready = client.get("/api/projection", params={"method": "tsne", "dims": 2}).json()
        assert ready["state"] == "ready" and len(ready["x"]) == 60 and not ready["cached"]


def test_fasttext_vectors_answer_for_unseen_words(tmp_path):
    from seqlab.embeddings import FastTextKeyedVectors
    from seqlab.embeddings.fasttext import ngram_buckets
    from seqlab.explore.server import load_vectors

    words = ["walking", "talking", "한국어", "other"]
    rng = np.random.default_rng(0)
    buckets = np.unique(np.concatenate([ngram_buckets(w, 3, 6, 2_000_000) for w in words]))
    model = FastTextKeyedVectors(
        words,
        rng.normal(size=(4, 8)).astype(np.float32),
        ngram_vectors=rng.normal(size=(len(buckets), 8)).astype(np.float32),
        ngram_buckets=buckets,
        bucket=2_000_000,
    )
    path = tmp_path / "ft.safetensors"
    model.save(path)
    kv = load_vectors(path)
    assert isinstance(kv, FastTextKeyedVectors)
    app = create_app(kv, name="ft", top=4, allowed_hosts=("127.0.0.1",))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/api/info").json()["out_of_vocabulary"] is True
        unseen = client.get("/api/neighbors", params={"word": "walked", "topn": 2})
        assert unseen.status_code == 200 and len(unseen.json()["neighbors"]) == 2
        assert client.get("/api/neighbors", params={"word": "zq"}).status_code == 404

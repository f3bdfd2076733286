"""The page in a real browser: Playwright driving the system's Chromium (never a downloaded one).

Outside CI the tests skip when Chromium is not installed (``apt-get install chromium``); in CI
(``CI=true``) a missing Chromium fails them, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil

import pytest

from seqlab.explore.server import BackgroundServer

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
CHROMIUM = os.environ.get("SEQLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.isfile(CHROMIUM):
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium (or set SEQLAB_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else None
    if sync_api is None:
        from playwright import sync_api
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def url(app):
    with BackgroundServer(app) as url:
        yield url


@pytest.fixture(scope="module")
def loaded_page(browser, url):
    """One page for all the tests (loading plotly.js is the slow part); they run in file order."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)  # a busy CI machine can be slow; nothing here should hang
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    yield page, errors
    page.close()


@pytest.fixture
def page(loaded_page):
    page, errors = loaded_page
    yield page
    assert not errors, errors  # no script error on the page


def plotted(page, trace: int, key: str):
    return page.evaluate(f"document.getElementById('plot').data[{trace}].{key}")


def search_for(page, word: str, topn: int | None = None) -> None:
    """Search through the page's form, as a person would."""
    page.fill("#search-word", word)
    if topn is not None:
        page.fill("#search-topn", str(topn))
    page.click("#search-form button")


def highlighted(page) -> list[str]:
    return page.evaluate("window.highlighted()")


def test_page_loads_and_the_scatter_renders(page):
    assert page.title() == "seqlab explore"
    assert "small.bin: 313 words × 24 dims" in page.inner_text("#info")
    assert page.locator("#plot.js-plotly-plot").count() == 1
    # headless Chromium renders WebGL in software (SwiftShader): the page draws SVG instead
    assert plotted(page, 0, "type") == "scatter"
    assert len(plotted(page, 0, "x")) == 200
    assert plotted(page, 0, "text")[:3] == ["king", "monarch", "queen"]
    # drawn, not only set: every point is in the page
    assert page.locator("#plot .scatterlayer .trace").first.locator(".point").count() == 200
    assert page.inner_text("#error") == "" and page.locator("#error").is_hidden()


def test_search_lists_and_highlights_the_nearest_words(page):
    search_for(page, "king", topn=3)
    page.wait_for_selector("#neighbors li")
    rows = page.locator("#neighbors li").all_inner_texts()
    assert [r.split()[0] for r in rows[:2]] == ["monarch", "queen"]
    assert rows[1].split()[-1] == "0.7071"
    # the third is a filler word from the whole vocabulary, beyond the 200 plotted ones
    assert rows[2].startswith("w") and "(not on the map)" in rows[2]
    assert highlighted(page) == ["king", "monarch", "queen"]
    # in the layout, not as traces: the 200 points are not redrawn for a search
    shown = "document.getElementById('plot').layout.shapes.filter((s) => s.opacity)"
    assert page.evaluate(f"{shown}.map((s) => s.type)") == ["line"] * 2 + ["circle"] * 3
    # a fixed number of shapes: moving them redraws only them, adding one would redraw all
    assert page.evaluate("document.getElementById('plot').layout.shapes.length") == 2 * 32
    assert len(page.evaluate("document.getElementById('plot').data")) == 2


def test_a_long_search_makes_room_for_its_highlights(page):
    search_for(page, "king", topn=150)
    page.wait_for_function("document.querySelectorAll('#neighbors li').length === 150")
    on_map = page.locator("#neighbors li:not(:has(.off))").count()
    assert on_map > 32  # more than the shapes the page starts with
    assert len(highlighted(page)) == 1 + on_map
    assert page.evaluate("document.getElementById('plot').layout.shapes.length") == 2 * (1 + on_map)
    page.fill("#search-topn", "10")


def test_korean_words(page):
    page.fill("#search-word", "한국")
    page.press("#search-word", "Enter")
    page.wait_for_selector("#neighbors li[data-word='서울']")  # not the last test's list
    words = [r.split()[0] for r in page.locator("#neighbors li").all_inner_texts()[:2]]
    assert sorted(words) == ["서울", "일본"]
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK KR" in font


def test_clicking_a_result_searches_it(page):
    page.fill("#search-word", "king")
    page.click("#search-form button")
    page.click("#neighbors li[data-word='queen']")
    page.wait_for_function("document.getElementById('search-word').value === 'queen'")
    page.wait_for_selector("#neighbors li[data-word='king']")


def test_clicking_a_point_searches_its_word(page):
    search_for(page, "한국", topn=2)  # the map's first word (king) is not highlighted...
    page.wait_for_selector("#neighbors li[data-word='서울']")
    # ...but the spare, transparent highlights sit on it: they must not take the click
    x, y = page.evaluate(
        """() => {
          const plot = document.getElementById("plot");
          const { xaxis, yaxis } = plot._fullLayout;
          const box = plot.getBoundingClientRect();
          return [box.left + xaxis._offset + xaxis.l2p(plot.data[0].x[0]),
                  box.top + yaxis._offset + yaxis.l2p(plot.data[0].y[0])];
        }"""
    )
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function("document.getElementById('search-word').value !== '한국'")
    # king and its synonym monarch have the same vector, so the same place on the map
    assert page.input_value("#search-word") in ("king", "monarch")
    page.wait_for_selector("#neighbors li[data-word='queen']")


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy_returns_the_expected_word(page, method):
    page.fill("#analogy-a", "king")
    page.fill("#analogy-b", "man")
    page.fill("#analogy-c", "woman")
    page.select_option("#analogy-method", method)
    page.click("#analogy-form button")
    first = page.locator("#analogy-results li").first
    first.wait_for()
    assert first.inner_text().split()[0] == "queen"
    assert highlighted(page) == ["queen", "king", "man", "woman"]


def test_doesnt_match_similarity_and_word_axes(page):
    page.fill("#odd-words", "breakfast, lunch dinner cereal")
    page.click("#odd-form button")
    page.wait_for_selector("#odd-results li.odd")
    assert page.inner_text("#odd-results li.odd").split()[0] == "cereal"
    page.fill("#similarity-w1", "king")
    page.fill("#similarity-w2", "queen")
    page.click("#similarity-form button")
    page.wait_for_function("document.getElementById('similarity-result').textContent !== ''")
    assert page.inner_text("#similarity-result") == "cos(king, queen) = 0.7071"
    page.fill("#axes-x0", "man")
    page.fill("#axes-x1", "woman")
    page.click("#axes-form button:not([type=button])")
    page.wait_for_selector("#axes-off:not([hidden])")
    assert page.evaluate("document.getElementById('plot').layout.xaxis.title.text") == (
        "man → woman"
    )
    page.click("#axes-off")
    assert page.evaluate("document.getElementById('plot').layout.xaxis.title.text") == ""


def test_bad_queries_show_the_error_message(page):
    page.fill("#search-word", "kng")
    page.click("#search-form button")
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "unknown word 'kng'" in error.inner_text()
    assert "Did you mean (for kng): king?" in error.inner_text()
    page.fill("#odd-words", "breakfast")
    page.click("#odd-form button")
    # the previous message also says "words": wait for this query's own message
    page.wait_for_function("document.getElementById('error').textContent.includes('bad query')")
    assert "bad query: words: List should have at least 2 items" in error.inner_text()
    page.fill("#search-word", "king")
    page.click("#search-form button")
    error.wait_for(state="hidden")  # a good query clears the message


def test_labels_name_the_most_frequent_words(page):
    assert plotted(page, 1, "visible") is False
    page.check("#labels")
    page.wait_for_function("document.getElementById('plot').data[1].visible === true")
    assert plotted(page, 1, "text")[:2] == ["king", "monarch"]
    assert len(plotted(page, 1, "text")) == 200  # all of them: fewer than 300 are plotted
    page.uncheck("#labels")


def test_switching_to_3d(page):
    page.select_option("#dims", "3")
    page.wait_for_function("document.getElementById('plot').data[0].type === 'scatter3d'")
    assert len(plotted(page, 0, "z")) == 200
    assert "PCA 3-D" in page.inner_text("#status")
    search_for(page, "king", topn=2)
    page.wait_for_function("window.highlighted().length === 3")  # 3-D: highlights are traces
    assert highlighted(page) == ["king", "monarch", "queen"]
    assert len(plotted(page, 2, "x")) == 2 * 3  # a line (two points and a gap) per neighbour


def test_a_gpu_gets_the_webgl_map(browser, url):
    """Where WebGL runs on a GPU the words are drawn by plotly's scattergl (smooth pan and zoom
    of thousands of points). Headless Chromium has no GPU: the renderer's name is faked."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(
        """(() => {
          const real = WebGLRenderingContext.prototype.getParameter;
          WebGLRenderingContext.prototype.getParameter = function (name) {
            const info = this.getExtension("WEBGL_debug_renderer_info");
            if (info && name === info.UNMASKED_RENDERER_WEBGL) return "ANGLE (NVIDIA GeForce)";
            return real.call(this, name);
          };
        })()"""
    )
    try:
        page.goto(url)
        page.wait_for_selector("body[data-ready]", timeout=60_000)
        assert plotted(page, 0, "type") == "scattergl"
        # drawn, not only set: plotly took all the points and drew its WebGL scene
        assert page.evaluate("document.getElementById('plot')._fullData[0]._length") == 200
        scene = "document.getElementById('plot')._fullLayout._plots.xy._scene"
        assert page.evaluate(f"{scene}.count > 0 && !{scene}.dirty")
        search_for(page, "king")
        page.wait_for_function("window.highlighted().length > 0")
        assert highlighted(page)[:3] == ["king", "monarch", "queen"]
    finally:
        page.close()

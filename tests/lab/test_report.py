"""The report writer: self-contained HTML, strict JSON, tables as in the terminal."""

import base64
import io
import json
import math

from hypothesis import given
from hypothesis import strategies as st

from seqlab.lab.report import Report, format_cell, format_table, json_safe


def tiny_png() -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_report_is_self_contained_and_json_mirrors_data(tmp_path):
    png = tiny_png()
    report = Report("title <&>")
    section = report.section("first", "intro")
    section.table(["name", "value"], [["a", 0.5], ["b", None]], "caption")
    section.image(png, "a plot")
    section.checks({"holds": True, "fails": False})
    report.data["numbers"] = {"x": 1.0, "bad": float("nan")}
    html_path, json_path = report.write(tmp_path)

    page = html_path.read_text(encoding="utf-8")
    assert "title &lt;&amp;&gt;" in page  # escaped
    encoded = base64.b64encode(png).decode("ascii")
    assert f"data:image/png;base64,{encoded}" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from the network
    assert '<td class="num">0.5</td>' in page and '<td class="num">—</td>' in page  # right-aligned
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["title"] == "title <&>"
    assert data["numbers"] == {"x": 1.0, "bad": "nan"}
    assert not list(tmp_path.glob(".*part"))  # no temporary files left behind


def test_format_table_aligns_columns():
    text = format_table(["cell", "loss"], [["lstm", 0.25], ["rnn-tanh", float("inf")]])
    lines = text.splitlines()
    assert lines[0].startswith("cell      loss")
    assert lines[2] == "lstm      0.25"
    assert lines[3] == "rnn-tanh  inf"


def test_format_cell_numbers():
    assert format_cell(1 / 6) == "0.1667"
    assert format_cell(1.2e-30) == "1.2e-30"
    assert format_cell(True) == "yes"
    import numpy as np

    assert format_cell(np.float32(0.5)) == "0.5"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=3), children, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_json_safe_always_gives_strict_json(value):
    text = json.dumps(json_safe(value), allow_nan=False)
    back = json.loads(text)
    if isinstance(value, float) and math.isfinite(value):
        assert back == value


def test_captions_are_above_their_tables(tmp_path):
    report = Report("t")
    report.section("s").table(["a"], [[1]], "what the table shows")
    page = report.write(tmp_path)[0].read_text(encoding="utf-8")
    assert page.index("what the table shows") < page.index("<table>") < page.index("<th>a</th>")


def test_move_to_end_puts_reference_after_results(tmp_path):
    report = Report("t")
    reference = report.section("Datasets")
    report.section("Results")
    report.move_to_end(reference)
    page = report.write(tmp_path)[0].read_text(encoding="utf-8")
    assert page.index("<h2>Results</h2>") < page.index("<h2>Datasets</h2>")

"""What the long-range text must say, read back from its own table."""

from seqlab.lab import long_range
from seqlab.lab.long_range import LEARNED


def ratios_from_table(result):
    """{task: {cell: {T: error / baseline}}}, read from the rows of the long-range table."""
    cells = result["headers"][3:]
    ratios = {}
    for task, T, baseline, *errors in result["rows"]:
        for cell, error in zip(cells, errors, strict=True):
            ratios.setdefault(task, {}).setdefault(cell, {})[T] = error / baseline
    return ratios


def assert_finding_follows_the_table(result):
    """The long-range text says, for every cell, exactly where its table shows it learned and
    where it does no better than the trivial baseline."""
    ratios = ratios_from_table(result)
    text = result["finding"]
    assert text == long_range.finding(ratios)
    for cell, by_length in ratios["adding"].items():
        learned = [T for T, r in by_length.items() if r < LEARNED]
        where = f"T = {', '.join(map(str, learned))}" if learned else "no T"
        assert f"by {cell} at {where}" in text
        worse = [T for T, r in by_length.items() if r >= 1.0]
        if worse:
            assert f"{cell} at T = {', '.join(map(str, worse))}" in text.split("No better")[1]
    rnn = max((T for T, r in ratios["adding"]["rnn-tanh"].items() if r < LEARNED), default=0)
    for cell in ("lstm", "gru"):
        longest = max((T for T, r in ratios["adding"][cell].items() if r < LEARNED), default=0)
        if longest <= rnn:
            assert "Both gated cells" not in text and f"The {cell} learns" not in text

"""The demo's task sections: one small trained model for each shape of RNN (many-to-one,
many-to-many, one-to-many, ...), each sized so that the whole of ``seqlab demo`` stays within
ten minutes on two cores.

Each entry of ``SECTIONS`` is ``(key, title, run)``. ``run(report, settings, echo)`` adds its
section to ``report`` (a `seqlab.lab.report.Report`), prints its progress with ``echo`` and
returns the figures that ``report.json`` keeps under ``tasks[key]``; ``settings`` is the
demo's `seqlab.lab.demo.DemoSettings` (``out``, ``quick``, ``seed``, ``workers``). A section
whose dataset is missing returns ``{"skipped": "<why>"}`` instead of failing the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seqlab.lab import demo_classify, demo_generate, demo_korean, demo_lm, demo_translate

Section = Callable[..., dict[str, Any]]

#: (key, title, run), in report order
SECTIONS: list[tuple[str, str, Section]] = [
    ("classify", "many-to-one: sentiment (MR)", demo_classify.section),
    ("korean", "Korean word vectors: the slide's analogies", demo_korean.section),
    ("lm", "many-to-many: a character language model (tinyshakespeare)", demo_lm.section),
    ("generate", "one-to-many: names from a language, captions of scenes", demo_generate.section),
    ("translate", "many-to-many with a delay: German to English", demo_translate.section),
]

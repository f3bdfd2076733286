"""Analogy and similarity scores: identical to gensim 4.4 on the same vectors and settings."""

from pathlib import Path

import gensim
import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKV

from seqlab.embeddings import KeyedVectors
from seqlab.embeddings.evaluate import (
    EvaluationFileError,
    evaluate_analogies,
    evaluate_pairs,
    evaluation_file,
    read_analogies,
    read_pairs,
)

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
GENSIM_DATA = Path(gensim.__file__).parent / "test" / "test_data"


def analogy_vectors(sections, dim=16, filler=800, noise=0.6, keep=0.8, seed=0):
    """Vectors where b ~ a + r_section, so that roughly half the analogies come out right.

    Only ``keep`` of the words get a vector (the rest are out of vocabulary), some words get a
    capitalized twin (to exercise case folding) and random filler words compete as answers.
    """
    rng = np.random.default_rng(seed)
    vec = {}
    for _, questions in sections:
        offset = rng.normal(size=dim)
        for a, b, c, d in questions:
            for x, y in ((a.lower(), b.lower()), (c.lower(), d.lower())):
                vec.setdefault(x, rng.normal(size=dim))
                vec.setdefault(y, vec[x] + offset + noise * rng.normal(size=dim))
    words = [w for w in vec if rng.random() < keep]
    twins = [w.capitalize() for w in words[::9]]
    vocab = words + twins + [f"filler{i}" for i in range(filler)]
    vectors = np.concatenate(
        [
            np.stack([vec[w] for w in words]),
            np.stack([vec[w.lower()] + rng.normal(size=dim) for w in twins]),
            rng.normal(size=(filler, dim)),
        ]
    ).astype(np.float32)
    order = rng.permutation(len(vocab))
    vocab = [vocab[i] for i in order]
    gensim_kv = GensimKV(dim)
    gensim_kv.add_vectors(vocab, vectors[order])
    return KeyedVectors(vocab, vectors[order]), gensim_kv


def gensim_sections(sections):
    return [
        (s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections
    ]


def check_same_as_gensim(kv, g, path, restrict_vocab, case_insensitive):
    ours = evaluate_analogies(kv, path, restrict_vocab, case_insensitive)
    score, sections = g.evaluate_word_analogies(
        str(path), restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
    )
    assert [(s.name, s.correct, s.answered) for s in ours.sections] == gensim_sections(
        sections[:-1]
    )
    assert sections[-1]["section"] == "Total accuracy"
    assert ours.accuracy == score
    assert ours.correct == len(sections[-1]["correct"])
    assert ours.answered + ours.skipped_oov == ours.questions
    return ours


@pytest.fixture(scope="module")
def google(mirror):
    path = mirror / "google_analogy" / "questions-words.txt"
    sections = read_analogies(path)
    # A third of every section keeps the test fast while covering all 14 sections.
    small = [(name, qs[::3]) for name, qs in sections]
    return path, small, analogy_vectors(small)


def test_google_file_has_14_sections(google):
    path, _, _ = google
    sections = read_analogies(path)
    assert len(sections) == 14 and sum(len(q) for _, q in sections) == 19544
    assert sections[0][0] == "capital-common-countries" and sections[-1][0] == "gram9-plural-verbs"


@pytest.mark.parametrize(
    ("restrict_vocab", "case_insensitive"), [(30000, True), (30000, False), (700, True)]
)
def test_google_analogies_equal_gensim(google, restrict_vocab, case_insensitive):
    path, _, (kv, g) = google
    result = check_same_as_gensim(kv, g, path, restrict_vocab, case_insensitive)
    assert 0.1 < result.accuracy < 0.95  # a meaningful mix of right and wrong answers
    assert result.skipped_oov > 0


SYNTHETIC = """\
: capitals
seoul korea tokyo japan
tokyo japan seoul korea
seoul korea paris france
: gender
man woman king queen
Man Woman King Queen
king queen man woman
"""


@pytest.fixture
def synthetic(tmp_path):
    path = tmp_path / "tiny-questions.txt"
    path.write_text(SYNTHETIC, encoding="utf-8")
    return path, analogy_vectors(read_analogies(path), dim=6, filler=30, noise=0.3, keep=1.0)


@pytest.mark.parametrize(
    ("restrict_vocab", "case_insensitive"), [(100, True), (100, False), (12, True)]
)
def test_synthetic_analogies_equal_gensim(synthetic, restrict_vocab, case_insensitive):
    path, (kv, g) = synthetic
    result = check_same_as_gensim(kv, g, path, restrict_vocab, case_insensitive)
    assert result.questions == 6
    text = str(result)
    assert f"restrict_vocab={restrict_vocab}" in text and "Total accuracy" in text


def gensim_cosmul_correct(g, path, case_insensitive=True):
    """gensim's evaluate_word_analogies loop with most_similar_cosmul as the solver.

    gensim 4.4 accepts ``similarity_function`` but ignores it, so this is its loop verbatim
    with the one call swapped (restrict_vocab covers the whole vocabulary here).
    """
    fold = str.upper if case_insensitive else str
    ok_vocab = {fold(k): g.get_index(k) for k in reversed(g.index_to_key)}
    correct = []
    for _, questions in read_analogies(path):
        right = 0
        for question in questions:
            a, b, c, expected = (fold(w) for w in question)
            if not {a, b, c, expected} <= ok_vocab.keys():
                continue
            original, g.key_to_index = g.key_to_index, ok_vocab
            sims = g.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
            g.key_to_index = original
            predicted = None
            for word, _ in sims:
                predicted = fold(word)
                if predicted not in {a, b, c}:
                    break
            right += predicted == expected
        correct.append(right)
    return correct


def test_3cosmul_equals_gensim_cosmul(google):
    path, _, (kv, g) = google
    ours = evaluate_analogies(kv, path, restrict_vocab=len(kv), method="3cosmul")
    assert [s.correct for s in ours.sections] == gensim_cosmul_correct(g, path)
    assert ours.settings["method"] == "3cosmul"


def test_3cosmul_synthetic(synthetic):
    path, (kv, g) = synthetic
    ours = evaluate_analogies(kv, path, restrict_vocab=len(kv), method="3cosmul")
    assert [s.correct for s in ours.sections] == gensim_cosmul_correct(g, path)


def test_kv_method_delegates(synthetic):
    path, (kv, _) = synthetic
    assert kv.evaluate_analogies(path, restrict_vocab=100).accuracy == pytest.approx(
        evaluate_analogies(kv, path, 100).accuracy
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b c d\n", r":1: expected a section header"),
        (": s\na b c\n", r":2: expected 4 words"),
        (": s\n", "no analogy questions"),
    ],
)
def test_malformed_analogy_files(tmp_path, text, message):
    path = tmp_path / "q.txt"
    path.write_text(text)
    with pytest.raises(EvaluationFileError, match=message):
        read_analogies(path)


# --------------------------------------------------------------------------- similarity pairs
def pair_vectors(files, dim=12, keep=0.85, seed=1):
    rng = np.random.default_rng(seed)
    words = sorted({w.lower() for f in files for a, b, _ in read_pairs(f) for w in (a, b)})
    words = [w for w in words if rng.random() < keep] + ["Tiger"]
    vectors = rng.normal(size=(len(words), dim)).astype(np.float32)
    g = GensimKV(dim)
    g.add_vectors(words, vectors)
    return KeyedVectors(words, vectors), g


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
@pytest.mark.parametrize("case_insensitive", [True, False])
def test_pairs_equal_gensim(name, case_insensitive):
    path = GENSIM_DATA / name
    kv, g = pair_vectors([path])
    ours = evaluate_pairs(kv, path, case_insensitive=case_insensitive)
    pearson, spearman, oov_ratio = g.evaluate_word_pairs(
        str(path), case_insensitive=case_insensitive
    )
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-9)
    assert ours.pearson == pytest.approx(pearson.statistic, rel=1e-6)
    assert ours.oov_ratio == pytest.approx(oov_ratio)
    assert ours.skipped_oov > 0 and "case_insensitive" in str(ours)


def test_mirror_pair_sets(mirror):
    expected_pairs = {"wordsim353": 353, "simlex999": 999, "men": 3000, "rareword": 2034}
    for name, count in expected_pairs.items():
        pairs = read_pairs(evaluation_file(name))
        assert len(pairs) == count, name
        assert all(isinstance(score, float) for _, _, score in pairs)
    simlex = read_pairs(evaluation_file("simlex999"))
    assert simlex[0] == ("old", "new", 1.58)  # the SimLex999 column, not POS or conc(w1)


def test_mirror_wordsim_equals_gensim_copy(mirror):
    """Our reader on the official combined.tab == gensim on its own re-formatted copy."""
    official = mirror / "wordsim353" / "combined.tab"
    kv, g = pair_vectors([official])
    ours = evaluate_pairs(kv, official)
    _, spearman, oov_ratio = g.evaluate_word_pairs(str(GENSIM_DATA / "wordsim353.tsv"))
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-9)
    assert ours.oov_ratio == pytest.approx(oov_ratio)


def test_dataset_names_resolve_through_the_mirror(mirror, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA", str(mirror))
    men = evaluation_file("men")
    assert men == mirror / "men" / "MEN" / "MEN_dataset_natural_form_full"
    kv, _ = pair_vectors([men])
    result = evaluate_pairs(kv, "men")
    assert result.pairs + result.skipped_oov == 3000


def test_a_missing_benchmark_dataset_names_the_fix(tmp_path, monkeypatch):
    (tmp_path / "mirror").mkdir()
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("urllib.request.urlopen", _offline)
    with pytest.raises(ValueError, match=r"simlex999.*SEQLAB_DATA"):
        evaluation_file("simlex999")


def _offline(*args, **kwargs):
    raise OSError("offline")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\tb\n", "found 2 field"),
        ("a\tb\t1\nc\td\tx\n", r":2: expected a number in column 3"),
        ("# only a comment\n", "no word pairs"),
    ],
)
def test_malformed_pair_files(tmp_path, text, message):
    path = tmp_path / "p.tsv"
    path.write_text(text)
    with pytest.raises(EvaluationFileError, match=message):
        read_pairs(path)


def test_all_pairs_out_of_vocabulary(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("x\ty\t1\n")
    with pytest.raises(EvaluationFileError, match="1 of 1 pairs"):
        evaluate_pairs(KeyedVectors(["a"], np.ones((1, 2))), path)

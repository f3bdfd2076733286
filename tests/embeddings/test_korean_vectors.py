"""Korean vectors: jamo fastText, the Korean readers, test words from subwords, the slide."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from seqlab.cli.embed import embed
from seqlab.embeddings import FastTextKeyedVectors, KeyedVectors
from seqlab.embeddings.evaluate import read_analogies, read_pairs
from seqlab.embeddings.fasttext import FastText, subword_ngrams
from seqlab.embeddings.keyedvectors import UnknownWordError
from seqlab.embeddings.korean import (
    evaluate_korean_set,
    is_tagged,
    lookup,
    slide_analogy,
    untagged,
    with_test_words,
)

SEMANTIC = "# 국가 - 수도 (2 pairs)\n대한민국 서울 일본 도쿄\n일본 도쿄 대한민국 서울\n"
SYNTACTIC = "# 명사 - 명사+조사 (2 pairs)\n밥 밥을 물 물을\n물 물을 밥 밥을\n"


def run(*args):
    return CliRunner().invoke(embed, [str(a) for a in args], catch_exceptions=False)


def test_kor2vec_headers_and_a_byte_order_mark(tmp_path):
    analogies = tmp_path / "a.txt"
    analogies.write_text(SEMANTIC, encoding="utf-8")
    assert read_analogies(analogies) == [
        (
            "국가 - 수도 (2 pairs)",
            [("대한민국", "서울", "일본", "도쿄"), ("일본", "도쿄", "대한민국", "서울")],
        )
    ]
    pairs = tmp_path / "ws.csv"
    pairs.write_bytes("\ufeff사랑,섹스,6.77\n호랑이,고양이,7.35".encode())
    assert read_pairs(pairs) == [("사랑", "섹스", 6.77), ("호랑이", "고양이", 7.35)]


def test_jamo_ngrams_share_the_particle():
    grams_a, grams_b = (
        set(subword_ngrams("밥을", 3, 6, "jamo")),
        set(subword_ngrams("물을", 3, 6, "jamo")),
    )
    assert "ㅇㅡㄹ>" in grams_a & grams_b
    with pytest.raises(ValueError, match="jamo"):
        FastText(subwords="bytes")


@pytest.fixture(scope="module")
def jamo_model():
    text = [["밥", "을", "먹", "는다"], ["물", "을", "마시", "ㄴ다"], ["밥", "과", "물"]] * 200
    return FastText(
        vector_size=16, min_count=1, epochs=2, workers=1, seed=1, subwords="jamo"
    ).train(text, progress=False)


def test_jamo_fasttext_answers_eojeols_and_saves_its_setting(jamo_model, tmp_path):
    assert "밥을" not in jamo_model and jamo_model["밥을"].shape == (16,)
    path = tmp_path / "ko.safetensors"
    jamo_model.save(path)
    loaded = FastTextKeyedVectors.load(path)
    assert loaded.subwords == "jamo"
    np.testing.assert_allclose(loaded["물을"], jamo_model["물을"], rtol=1e-6)


def test_test_words_from_subwords_are_all_answered(jamo_model, tmp_path):
    path = tmp_path / "syn.txt"
    path.write_text(SYNTACTIC, encoding="utf-8")
    result = evaluate_korean_set(jamo_model, str(path), "analogies")
    assert result.answered == result.questions == 2
    assert result.settings["test_words_from_subwords"] == 2  # 밥을, 물을
    ext, added = with_test_words(jamo_model, ["밥", "밥을"], restrict_vocab=3)
    assert added == 1 and ext.index_to_key[-1] == "밥을"


def test_morpheme_vectors_skip_eojeols(tmp_path):
    kv = KeyedVectors(["밥", "물", "을"], np.eye(3, dtype=np.float32))
    path = tmp_path / "syn.txt"
    path.write_text(SYNTACTIC, encoding="utf-8")
    result = evaluate_korean_set(kv, str(path), "analogies")
    assert result.answered == 0 and result.skipped_oov == 2


def test_tagged_vectors_are_looked_up_by_form():
    kv = KeyedVectors(["이/JKS", "일본/Noun", "이/VCP", "도쿄/Noun"], np.eye(4, dtype=np.float32))
    assert is_tagged(kv) and untagged(kv).index_to_key == ["이", "일본", "도쿄"]


def test_the_slide_format():
    line = slide_analogy("한국/Noun", "서울/Noun", "도쿄/Noun", [("일본/Noun", 0.8)])
    assert line == "+한국/Noun +도쿄/Noun −서울/Noun → 일본/Noun"
    assert slide_analogy("여자", "여왕", "왕", [("남자", 0.7)]) == (
        "+여자/Noun +왕/Noun −여왕/Noun → 남자/Noun"
    )


def test_a_word_split_into_morphemes_is_explained():
    kv = KeyedVectors(["밥", "물"], np.eye(2, dtype=np.float32))
    with pytest.raises(UnknownWordError, match=r"밥/Noun \+ 을/Josa.*ask for its morphemes \(밥\)"):
        lookup(kv, "밥을")
    with pytest.raises(UnknownWordError):
        lookup(kv, "pizza")  # no Hangul: plainly unknown


@pytest.fixture
def korean_vectors(tmp_path):
    words = ["한국", "서울", "일본", "도쿄", "피자", "여자", "여왕", "왕", "남자", "대한민국"]
    rows = [[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1],
            [0, 0, 2], [0, 2, 2], [2, 2, 0], [2, 0, 0.1], [1.1, 0, 0]]  # fmt: skip
    path = tmp_path / "ko.bin"
    KeyedVectors(words, np.array(rows, np.float32)).save(path)
    return path


def test_cli_prints_the_slide(korean_vectors):
    result = run("analogy", korean_vectors, "한국", "서울", "도쿄", "--topn", "2")
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("+한국/Noun +도쿄/Noun −서울/Noun → 일본/Noun")
    result = run("analogy", korean_vectors, "여자", "여왕", "왕", "--topn", "1")
    assert "→ 남자/Noun" in result.output
    result = run("analogy", korean_vectors, "한국은", "서울", "도쿄")
    assert result.exit_code == 1 and "한국/Noun + 은/Josa" in result.output


def test_cli_eval_lang_ko_reports_answered_and_settings(korean_vectors, tmp_path):
    analogies = tmp_path / "sem.txt"
    analogies.write_text(SEMANTIC, encoding="utf-8")
    report = tmp_path / "r.json"
    result = run("eval", korean_vectors, "--lang", "ko", "--analogies", analogies, "--json", report)
    assert result.exit_code == 0, result.output
    assert "answered 2" in result.output and "restrict_vocab=30000" in result.output
    assert json.loads(report.read_text())["analogies"][str(analogies)]["answered"] == 2


def test_cli_eval_names_eojeols_when_nothing_is_answered(korean_vectors, tmp_path):
    syntactic = tmp_path / "syn.txt"
    syntactic.write_text(SYNTACTIC, encoding="utf-8")
    result = run("eval", korean_vectors, "--lang", "ko", "--analogies", syntactic)
    assert result.exit_code == 1 and "jamo subwords" in result.output


def test_the_korean_recipe_fills_what_is_not_typed(tmp_path, monkeypatch):
    from seqlab.cli.embed_korean import KOREAN_FASTTEXT, KOREAN_RECIPE

    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "ko.txt"
    corpus.write_text("한국의 수도는 서울이다.\n일본의 수도는 도쿄이다.\n" * 20, encoding="utf-8")
    common = ["train", corpus, "--lang", "ko", "--min-count", 1, "--epochs", 1, "--workers", 1]
    common += ["--no-progress"]
    result = run(*common, "--out", tmp_path / "sg.bin")
    assert result.exit_code == 0, result.output
    assert f"x {KOREAN_RECIPE['vector_size']} dims" in result.output
    assert "content tokens" in result.output
    assert "input + output vector" in result.output  # the recipe writes W + C
    result = run(*common, "--dim", 8, "--out", tmp_path / "typed.bin")
    assert "x 8 dims" in result.output  # typed options win
    result = run(
        *common, "--algo", "fasttext", "--bucket", 100, "--out", tmp_path / "ft.safetensors"
    )
    assert result.exit_code == 0, result.output
    assert f"x {KOREAN_FASTTEXT['vector_size']} dims" in result.output
    assert "form tokens" in result.output
    assert "input + output vector" not in result.output  # fastText keeps its n-gram vectors


def test_the_korean_recipe_trains_on_one_thread_and_analyses_on_all(tmp_path, monkeypatch):
    """Skip-gram on Korean trains on one thread (two gave worse vectors); the morpheme analysis
    keeps --workers (default 2); fastText keeps the two threads it was measured with."""
    import seqlab.cli.embed_train as embed_train

    seen = {}
    analyse, build = embed_train.korean_corpus_file, embed_train._build_model

    def korean_corpus_file(corpus, token, workers, progress):
        seen["analysis"] = workers
        return analyse(corpus, token, workers, progress)

    def _build_model(**settings):
        seen["training"] = settings["workers"]
        seen["negative"] = settings["negative"]
        return build(**settings)

    monkeypatch.setattr(embed_train, "korean_corpus_file", korean_corpus_file)
    monkeypatch.setattr(embed_train, "_build_model", _build_model)
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "ko.txt"
    corpus.write_text("한국의 수도는 서울이다.\n일본의 수도는 도쿄이다.\n" * 20, encoding="utf-8")
    common = ["train", corpus, "--lang", "ko", "--min-count", 1, "--epochs", 1, "--dim", 8]
    common += ["--no-progress"]
    assert run(*common, "--out", tmp_path / "sg.bin").exit_code == 0
    assert seen == {"analysis": 2, "training": 1, "negative": 15}
    assert (
        run(*common, "--workers", 2, "--negative", 5, "--out", tmp_path / "typed.bin").exit_code
        == 0
    )
    assert seen == {"analysis": 2, "training": 2, "negative": 5}  # typed options win
    result = run(
        *common, "--algo", "fasttext", "--bucket", 100, "--out", tmp_path / "ft.safetensors"
    )
    assert result.exit_code == 0, result.output
    assert seen == {"analysis": 2, "training": 2, "negative": 5}  # fastText keeps its 5

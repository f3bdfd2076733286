"""Korean word vectors end to end: tokeniser speed, each stage's time, the slide, kor2vec.

Stages, in one run:

1. **Tokeniser throughput**: the first ``--sample-chars`` characters of kowiki_extract's
   paragraphs, analysed by seqlab's :class:`~seqlab.text.korean.KoreanTokenizer` (Kiwi plus
   writing the tokens) and by Kiwi alone (its ``tokenize`` on the same lines, same threads),
   interleaved ``--repeats`` times; characters/s of each and ``ratio`` = seqlab ÷ Kiwi (the
   cost of seqlab's layer; 1.0 means none).
2. **Corpus**: the morpheme corpus of both kowiki parts (``korean_corpus``). It is cached: the
   time shown is this run's, and a cached corpus takes seconds (its analysis time is printed
   where this run did the analysis).
3. **Training**: ``seqlab embed train kowiki_extract --lang ko`` as a user types it, for each
   ``--algo`` (plus ``--extra`` options, e.g. ``--epochs 10``); wall time from the command's
   own report.
   With ``--peer``, gensim 4.4's skip-gram then trains on the same morpheme corpus file with
   the recipe's settings (same threads, input + output vectors written), and ``ratio`` =
   seqlab's speed ÷ gensim's; its vectors go through stage 4 too.
4. **The slide and the test sets**: 한국 − 서울 + 도쿄 and 여자 − 여왕 + 왕 (top 5, and the rank
   of 일본 / 남자), the nearest words of 공부 and 기술, and kor2vec's sets with answered/total.

Recipes are compared on a small **development set** (:data:`DEV_PAIRS`: 24 country–capital and
24 male–female pairs, none of them among kor2vec's, every ordered pair of pairs a question), so
that kor2vec stays a test set. kor2vec weighs its two sections equally (210 questions each), so
the development set's figure to compare is the mean of its two sections' accuracies.

Usage::

    python benchmarks/korean.py --out-dir /tmp/ko --json ko.json
    python benchmarks/korean.py --algos fasttext --extra="--epochs 3" --out-dir /tmp/ko
    python benchmarks/korean.py --algos skipgram --peer --dev-only --out-dir /tmp/ko
    python benchmarks/korean.py --only-tokenizer           # stage 1 alone (about a minute)
    python benchmarks/korean.py --vectors ko.bin --dev-only  # stage 4 of trained vectors, dev only

``--dev-only`` leaves kor2vec unread: that is how recipes are compared.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The development set: pairs disjoint from kor2vec's (its 15 capitals, its 15 gender pairs).
DEV_PAIRS = {
    "capitals (dev)": "스페인 마드리드;캐나다 오타와;태국 방콕;베트남 하노이;포르투갈 리스본;"
    "네덜란드 암스테르담;스웨덴 스톡홀름;노르웨이 오슬로;핀란드 헬싱키;덴마크 코펜하겐;"
    "폴란드 바르샤바;헝가리 부다페스트;쿠바 아바나;페루 리마;케냐 나이로비;이란 테헤란;"
    "이라크 바그다드;아일랜드 더블린;체코 프라하;몽골 울란바토르;인도 뉴델리;북한 평양;"
    "대만 타이베이;호주 캔버라",
    "gender (dev)": "남학생 여학생;아저씨 아줌마;황제 황후;사위 며느리;수컷 암컷;장인 장모;"
    "시아버지 시어머니;형제 자매;신사 숙녀;배우 여배우;남신 여신;삼촌 숙모;부친 모친;장남 장녀;"
    "차남 차녀;남자부 여자부;총각 처녀;수도사 수녀;왕세자 세자빈;외할아버지 외할머니;"
    "외손자 외손녀;승려 비구니;부왕 모후;국왕 왕비",
}


def write_dev_set(path: Path) -> Path:
    """:data:`DEV_PAIRS` as an analogy file: every ordered pair of pairs of a section."""
    with open(path, "w", encoding="utf-8") as f:
        for section, pairs in DEV_PAIRS.items():
            f.write(f": {section}\n")
            pairs_ = [p.split() for p in pairs.split(";")]
            for (a, b), (c, d) in itertools.permutations(pairs_, 2):
                f.write(f"{a} {b} {c} {d}\n")
    return path


def sample_lines(chars: int) -> list[str]:
    """The first paragraphs of kowiki_extract, about ``chars`` characters in all."""
    from seqlab import data
    from seqlab.text.korean_corpus import read_paragraphs

    lines, total = [], 0
    for line in read_paragraphs(Path(data.load("kowiki_extract", progress=False).files[0])):
        lines.append(line)
        total += len(line)
        if total >= chars:
            break
    return lines


def tokenizer_throughput(lines: list[str], workers: int, repeats: int) -> dict:
    """characters/s of seqlab's tokenizer and of Kiwi alone on ``lines``, interleaved."""
    from seqlab.text.korean import KoreanTokenizer, kiwi

    chars = sum(map(len, lines))
    analyser = kiwi(workers)  # loaded before the clock starts
    seqlab_tok = KoreanTokenizer("form", workers=workers)
    list(analyser.tokenize(lines[:200]))  # Kiwi's first calls warm its caches: not timed
    times: dict[str, list[float]] = {"seqlab": [], "kiwi": []}
    for _ in range(repeats):
        started = time.perf_counter()
        n_seqlab = sum(len(t) for t in seqlab_tok.tokenize_many(lines))
        times["seqlab"].append(time.perf_counter() - started)
        started = time.perf_counter()
        n_kiwi = sum(len(t) for t in analyser.tokenize(lines))
        times["kiwi"].append(time.perf_counter() - started)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "characters": chars,
        "lines": len(lines),
        "workers": workers,
        "seqlab_chars_per_s": chars / medians["seqlab"],
        "kiwi_chars_per_s": chars / medians["kiwi"],
        "ratio": medians["kiwi"] / medians["seqlab"],
        "tokens_seqlab": n_seqlab,
        "tokens_kiwi": n_kiwi,
    }


def corpus_stage(token: str, workers: int) -> dict:
    from seqlab.text.korean_corpus import korean_corpus

    started = time.perf_counter()
    build = korean_corpus("kowiki_extract", token=token, workers=workers, progress=False)
    return {
        "seconds": time.perf_counter() - started,
        "analysed_in_this_run": build.characters_analysed > 0,
        "analyse_seconds": build.analyse_seconds,
        "characters_analysed": build.characters_analysed,
        "chars_per_s": build.characters_per_second,
        "tokens": build.tokens,
        "lines": build.lines,
        "path": str(build.path),
    }


def train_stage(algo: str, out: Path, extra: list[str]) -> dict:
    """Run ``seqlab embed train kowiki_extract --lang ko`` and read its report."""
    seqlab = Path(sys.executable).with_name("seqlab")  # the console script of this environment
    command = [
        str(seqlab) if seqlab.is_file() else "seqlab", "embed", "train", "kowiki_extract",
        "--lang", "ko", "--algo", algo, "--out", str(out), "--no-progress", *extra,
    ]  # fmt: skip
    print("$", shlex.join(["seqlab", *command[1:]]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    print(done.stdout + done.stderr, flush=True)
    if done.returncode:
        raise SystemExit(f"training failed (exit {done.returncode})")
    reported = re.search(r"(\d[\d,]*) words x (\d+) dims -> .* \(([\d.]+) s\)", done.stdout)
    return {
        "command": shlex.join(["seqlab", *command[1:]]),
        "wall_seconds": wall,
        "train_seconds": float(reported[3]) if reported else None,
        "words": int(reported[1].replace(",", "")) if reported else None,
    }


def gensim_stage(corpus: Path, out: Path, recipe: dict, seed: int) -> dict:
    """gensim 4.4's skip-gram on the same morpheme corpus file with the recipe's settings, the
    same thread count and the same vectors written (input + output when the recipe adds them),
    timed as seqlab's command is: reading the file, counting, training and writing."""
    import numpy as np
    from gensim.models import Word2Vec as GensimWord2Vec
    from gensim.models.word2vec import LineSentence

    from seqlab.embeddings.keyedvectors import KeyedVectors

    started = time.perf_counter()
    model = GensimWord2Vec(
        LineSentence(str(corpus)), sg=1, hs=0, negative=recipe["negative"],
        vector_size=recipe["vector_size"], window=5, sample=1e-3,
        min_count=recipe["min_count"], epochs=recipe["epochs"], workers=recipe["workers"],
        seed=seed,
    )  # fmt: skip
    vectors = model.wv.vectors + (model.syn1neg if recipe["add_output_vectors"] else 0)
    counts = np.array([model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key])
    KeyedVectors(list(model.wv.index_to_key), vectors.astype(np.float32), counts).save(out)
    wall = time.perf_counter() - started  # as seqlab's report: reading, training, writing
    return {"wall_seconds": wall, "words": len(model.wv), "workers": recipe["workers"]}


def quality(path: Path, test_sets: bool = True) -> dict:
    """The slide's analogies and nearest words, the development set, and (``test_sets``)
    kor2vec's sets."""
    from seqlab.cli.embed import _load
    from seqlab.embeddings.korean import (
        KOREAN_DEFAULT_SETS,
        SLIDE_ANALOGIES,
        SLIDE_NEAREST,
        evaluate_korean_set,
        lookup,
        slide_analogy,
        tagged,
    )

    kv = _load(str(path), None)
    report: dict = {"slide": [], "nearest": {}, "sets": {}}
    for a, b, c, expected in SLIDE_ANALOGIES:
        rows = kv.analogy(lookup(kv, a), lookup(kv, b), lookup(kv, c), topn=10)
        words = [w for w, _ in rows]
        rank = words.index(expected) + 1 if expected in words else None
        print(slide_analogy(a, b, c, rows), f"   (rank of {expected}: {rank})")
        for i, (w, s) in enumerate(rows[:5], start=1):
            print(f"{i:>4}  {s:8.4f}  {tagged(w)}")
        report["slide"].append({"query": [a, b, c], "expected": expected, "rank": rank,
                                "top5": rows[:5]})  # fmt: skip
    for word in SLIDE_NEAREST:
        rows = kv.nearest([lookup(kv, word)], topn=10)[0]
        print(f"{word}: " + ", ".join(f"{w} {s:.2f}" for w, s in rows))
        report["nearest"][word] = rows
    with tempfile.TemporaryDirectory() as tmp:
        dev = evaluate_korean_set(kv, str(write_dev_set(Path(tmp) / "dev.txt")), "analogies")
    section_mean = statistics.fmean(s.correct / s.answered for s in dev.sections if s.answered)
    print(f"development set: {dev}\nmean of its sections: {section_mean:.1%}\n")
    report["dev"] = {"section_mean": section_mean, "accuracy": dev.accuracy,
                     "answered": dev.answered,
                     "questions": dev.questions,
                     "sections": {s.name: [s.correct, s.answered]
                                  for s in dev.sections}}  # fmt: skip
    for name in KOREAN_DEFAULT_SETS if test_sets else ():
        kind = "pairs" if name.endswith("ws353") else "analogies"
        restrict = 30000 if kind == "analogies" else 300000
        result = evaluate_korean_set(kv, name, kind, restrict)
        print(f"{name}: {result}\n")
        if kind == "pairs":
            report["sets"][name] = {
                "spearman": result.spearman,
                "pairs": result.pairs,
                "skipped": result.skipped_oov,
                "settings": result.settings,
            }
        else:
            report["sets"][name] = {"accuracy": result.accuracy, "answered": result.answered,
                                    "questions": result.questions, "settings": result.settings,
                                    "sections": {s.name: [s.correct, s.answered]
                                                 for s in result.sections}}  # fmt: skip
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algos", nargs="+", default=["skipgram", "fasttext"])
    parser.add_argument("--extra", default="", help="more `seqlab embed train` options")
    parser.add_argument("--token", default="form", help="the corpus stage's token form")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample-chars", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, default=Path("korean-vectors"))
    parser.add_argument("--only-tokenizer", action="store_true")
    parser.add_argument(
        "--vectors", type=Path, nargs="+", help="score these vectors (stage 4 alone)"
    )
    parser.add_argument(
        "--dev-only", action="store_true", help="stage 4 without kor2vec: to compare recipes"
    )
    parser.add_argument(
        "--peer",
        action="store_true",
        help="also train gensim's skip-gram with the recipe's settings on the same corpus",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    report: dict = {
        "settings": vars(args)
        | {
            "out_dir": str(args.out_dir),
            "json": None,
            "vectors": list(map(str, args.vectors or [])),
        }
    }
    if args.vectors:
        report["vectors"] = {}
        for path in args.vectors:
            print(f"== {path}", flush=True)
            report["vectors"][str(path)] = quality(path, test_sets=not args.dev_only)
        _write_json(report, args.json)
        return
    lines = sample_lines(args.sample_chars)
    tok = tokenizer_throughput(lines, args.workers, args.repeats)
    report["tokenizer"] = tok
    print(
        f"tokenizer, {tok['characters']:,} characters, {tok['workers']} threads: seqlab "
        f"{tok['seqlab_chars_per_s']:,.0f} chars/s, Kiwi alone {tok['kiwi_chars_per_s']:,.0f} "
        f"chars/s, ratio {tok['ratio']:.2f}",
        flush=True,
    )
    if not args.only_tokenizer:
        corpus = corpus_stage(args.token, args.workers)
        report["corpus"] = corpus
        how = (
            f"analysed {corpus['characters_analysed']:,} characters in "
            f"{corpus['analyse_seconds']:.0f} s ({corpus['chars_per_s']:,.0f} chars/s)"
            if corpus["analysed_in_this_run"]
            else "analyses from the cache"
        )
        print(
            f"corpus stage: {corpus['seconds']:.1f} s ({how}); {corpus['tokens']:,} tokens, "
            f"{corpus['lines']:,} lines",
            flush=True,
        )
        args.out_dir.mkdir(parents=True, exist_ok=True)
        report["models"] = {}
        for algo in args.algos:
            suffix = ".safetensors" if algo == "fasttext" else ".bin"
            out = args.out_dir / f"ko-{algo}{suffix}"
            stage = train_stage(algo, out, shlex.split(args.extra))
            stage["quality"] = quality(out, test_sets=not args.dev_only)
            report["models"][algo] = stage
            if args.peer and algo == "skipgram":
                report["peer"] = peer_stage(args, stage)
        print("\nstage                      seconds")
        print(f"tokenizer sample           {tok['characters'] / tok['seqlab_chars_per_s']:8.1f}")
        print(f"corpus (this run)          {corpus['seconds']:8.1f}")
        for algo, stage in report["models"].items():
            print(f"train {algo:<20} {stage['wall_seconds']:8.1f}")
        if "peer" in report:
            print(f"train gensim skipgram      {report['peer']['wall_seconds']:8.1f}   "
                  f"ratio {report['peer']['ratio']:.2f}")  # fmt: skip
    _write_json(report, args.json)


def peer_stage(args, stage: dict) -> dict:
    """gensim on the corpus file seqlab's skip-gram read (the recipe's tokens unless ``--extra``
    names others), after seqlab's run; ``ratio`` = seqlab's speed ÷ gensim's (wall time of
    the whole training, reading the corpus file included)."""
    from seqlab.cli.embed_korean import KOREAN_RECIPE
    from seqlab.text.korean_corpus import korean_corpus

    extra = shlex.split(args.extra)
    token = extra[extra.index("--token") + 1] if "--token" in extra else KOREAN_RECIPE["token"]
    corpus = korean_corpus("kowiki_extract", token=token, workers=args.workers, progress=False)
    out = args.out_dir / "ko-gensim-skipgram.bin"
    print(f"$ gensim skip-gram on {corpus.path} ({KOREAN_RECIPE})", flush=True)
    peer = gensim_stage(Path(corpus.path), out, KOREAN_RECIPE, seed=1)
    peer["ratio"] = peer["wall_seconds"] / stage["train_seconds"]
    peer["quality"] = quality(out, test_sets=not args.dev_only)
    return peer


def _write_json(report: dict, path: Path | None) -> None:
    if path:
        from seqlab.io import atomic_write

        with atomic_write(path, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

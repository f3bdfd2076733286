"""Translation: seqlab.nn against torch.nn in training, beam-search decoding speed, BLEU / chrF.

1. **Training speed**: the same `seqlab.tasks.translate.Seq2Seq` built on seqlab.nn and on
   torch.nn (``backend="torch"``: torch.nn.GRU / LSTM, same initial weights), trained with the
   same step (`TranslationStep`, Adam, clipping) on the same Multi30k batches, interleaved (who
   goes first alternates), ``--rounds`` times. Figures: median sentences/s and target tokens/s
   by wall clock and by process CPU time (the less noisy on a busy machine); ``ratio`` =
   seqlab ÷ torch.
2. **Decoding**: with a trained model (``--model DIR``), greedy and beam-``--beam`` search over
   the first ``--limit`` sentences of ``--split``: sentences/s, and sacreBLEU's BLEU and chrF
   with their signatures. Without ``--model`` only the training speed is measured (with fresh
   codecs and the default model shape).

    .venv/bin/python benchmarks/translate.py --model runs/de-en --json bench-translate.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path

import torch

from seqlab.tasks.translate import Seq2Seq, TranslateConfig, TranslationStep
from seqlab.tasks.translate_data import Codec, PairDataset, collate, load_split
from seqlab.tasks.translate_run import Translator, score
from timing import timed_training_pass


def pair(config: TranslateConfig, src_vocab: int, tgt_vocab: int) -> dict[str, Seq2Seq]:
    """The model on both backends, with the same initial weights."""
    torch.manual_seed(0)
    seqlab_model = Seq2Seq(src_vocab, tgt_vocab, config)
    torch_model = Seq2Seq(src_vocab, tgt_vocab, dataclasses.replace(config, backend="torch"))
    torch_model.load_state_dict(seqlab_model.state_dict())
    return {"seqlab": seqlab_model, "torch": torch_model}


def train_steps(model: Seq2Seq, batches: list) -> tuple[float, float]:
    """Wall and CPU seconds of one pass of training steps over ``batches``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=model.config.lr)
    step = TranslationStep(model.config.label_smoothing)
    return timed_training_pass(model, optimizer, step, model.config.clip, batches)


def training_speed(config, source, target, batches: int, rounds: int) -> dict:
    pairs = load_split("multi30k", "de", "en", "train")
    data = PairDataset(pairs[: batches * config.batch_size], source, target, config.max_tokens)
    chunks = [
        collate([data[i] for i in range(start, min(start + config.batch_size, len(data)))])
        for start in range(0, len(data), config.batch_size)
    ]
    sentences = sum(len(b[0]) for b in chunks)
    tokens = sum(int((b[2][:, 1:] != 0).sum()) for b in chunks)
    models = pair(config, len(source), len(target))
    times = {name: {"wall": [], "cpu": []} for name in models}
    for model in models.values():  # numba compiles its kernels on first use: not timed
        train_steps(model, chunks[:2])
    for r in range(rounds):
        order = list(models) if r % 2 == 0 else list(reversed(models))
        for name in order:
            wall, cpu = train_steps(models[name], chunks)
            times[name]["wall"].append(wall)
            times[name]["cpu"].append(cpu)
            print(
                f"round {r + 1}: {name:6s} {sentences / wall:7.1f} sentences/s (wall)", flush=True
            )
    result = {"batches": len(chunks), "sentences": sentences, "target_tokens": tokens}
    for name, t in times.items():
        wall, cpu = statistics.median(t["wall"]), statistics.median(t["cpu"])
        result[name] = {
            "sentences_per_s": round(sentences / wall, 2),
            "target_tokens_per_s": round(tokens / wall, 1),
            "sentences_per_cpu_s": round(sentences / cpu, 2),
        }
    result["ratio"] = round(
        result["seqlab"]["sentences_per_s"] / result["torch"]["sentences_per_s"], 3
    )
    result["ratio_cpu"] = round(
        result["seqlab"]["sentences_per_cpu_s"] / result["torch"]["sentences_per_cpu_s"], 3
    )
    return result


def decoding(model_dir: Path, split: str, limit: int, beam: int) -> dict:
    translator = Translator.load(model_dir)
    origin = translator.origin
    pairs = load_split(origin["dataset"], origin["src"], origin["tgt"], split)[:limit]
    sources = [translator.source.encode(s) or [1] for s, _ in pairs]
    references = [t for _, t in pairs]
    result = {"split": split, "sentences": len(pairs)}
    for name, width in (("greedy", 1), (f"beam{beam}", beam)):
        wall = time.perf_counter()
        ids = translator.translate_ids(sources, width)
        seconds = time.perf_counter() - wall
        figures = score([translator.target.decode(t) for t in ids], references)
        figures.pop("bleu_detail")
        result[name] = {"sentences_per_s": round(len(pairs) / seconds, 1), **figures}
        print(
            f"{name}: {len(pairs) / seconds:.1f} sentences/s, BLEU {figures['bleu']:.2f}, "
            f"chrF {figures['chrf']:.2f}",
            flush=True,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="A trained translator directory.")
    parser.add_argument("--batches", type=int, default=20, help="Training batches per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--split", default="val")
    parser.add_argument("--limit", type=int, default=500, help="Sentences decoded.")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--attention", default=None, help="Override the model's attention.")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    if args.model:
        translator = Translator.load(args.model)
        config, source, target = translator.config, translator.source, translator.target
    else:
        config = TranslateConfig()
        pairs = load_split("multi30k", "de", "en", "train")
        source = Codec.train([s for s, _ in pairs], config.vocab_size, config.level)
        target = Codec.train([t for _, t in pairs], config.vocab_size, config.level)
    if args.attention:
        config = dataclasses.replace(config, attention=args.attention)
    report = {
        "config": dataclasses.asdict(config),
        "threads": torch.get_num_threads(),
        "training": training_speed(config, source, target, args.batches, args.rounds),
    }
    print(f"training ratio (seqlab / torch, sentences/s): {report['training']['ratio']}")
    if args.model:
        report["decoding"] = decoding(args.model, args.split, args.limit, args.beam)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

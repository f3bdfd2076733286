"""Why word2vec's epoch loss rose in the last epochs: the loss seen while training vs the model's.

Trains word2vec on the first ``--mb`` MB of wiki_text8 (90 % for training, the last 10 % held
out) and prints, after every epoch, three figures on one scale (mean loss per example):

- ``online``: the mean over the epoch's examples, each measured just before its own update
  (word2vec's and gensim's running loss; ``Word2Vec.online_loss_history``);
- ``model, training text``: the model at the end of the epoch, frozen, on a fixed sample of
  the training text with fixed examples (``Word2Vec.loss_history``);
- ``model, held-out text``: the same on the held-out 10 % (``Word2Vec.evaluate_loss``).

``--min-alpha`` equal to alpha keeps the learning rate constant; ``--shuffle-blocks N`` puts the
text's blocks of N words in a random order first, which keeps the windows but breaks up the
articles. One worker and a fixed seed: the run is deterministic.

Usage::

    python benchmarks/word2vec_loss.py --mb 20 --epochs 5 --json loss.json
    python benchmarks/word2vec_loss.py --mb 20 --epochs 5 --min-alpha 0.025
    python benchmarks/word2vec_loss.py --mb 20 --epochs 5 --shuffle-blocks 50
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from seqlab import data
from seqlab.embeddings.training import encode_corpus, prepare_corpus
from seqlab.embeddings.word2vec import Word2Vec


def split_text(mb: int, shuffle_blocks: int | None) -> tuple[list[list[str]], list[list[str]]]:
    """The first ``mb`` MB of wiki_text8 as 10,000-word sentences: 90 % to train, 10 % held out."""
    with open(data.path("wiki_text8"), "rb") as f:
        words = f.read(mb * 1_000_000).decode("utf-8").split()[:-1]  # the last may be cut
    if shuffle_blocks:
        blocks = [words[i : i + shuffle_blocks] for i in range(0, len(words), shuffle_blocks)]
        order = np.random.default_rng(0).permutation(len(blocks))
        words = [w for k in order for w in blocks[k]]
    cut = int(len(words) * 0.9)

    def sentences(part):
        return [part[i : i + 10_000] for i in range(0, len(part), 10_000)]

    return sentences(words[:cut]), sentences(words[cut:])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=int, default=20, help="MB of wiki_text8 to use")
    p.add_argument("--algo", choices=("skipgram", "cbow"), default="skipgram")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--alpha", type=float, default=None, help="default: Word2Vec's")
    p.add_argument("--min-alpha", type=float, default=1e-4)
    p.add_argument("--shuffle-blocks", type=int, default=None, metavar="N")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)

    train_text, held_text = split_text(args.mb, args.shuffle_blocks)
    corpus = prepare_corpus(train_text, min_count=5)
    held = encode_corpus(held_text, corpus.vocab)
    model = Word2Vec(
        args.algo,
        vector_size=100,
        window=5,
        negative=5,
        epochs=args.epochs,
        alpha=args.alpha,
        min_alpha=args.min_alpha,
        workers=1,
        seed=1,
    )
    print(
        f"wiki_text8 first {args.mb} MB: {len(corpus.ids):,} training tokens, {len(held.ids):,} "
        f"held-out; {model!r}; shuffle_blocks={args.shuffle_blocks}"
    )
    print("| epoch | online (while training) | model, training text | model, held-out text |")
    print("|---:|---:|---:|---:|")
    rows = []

    def report(model, epoch, loss):
        row = {
            "epoch": epoch,
            "online": model.online_loss_history[-1],
            "model_training_text": loss,
            "model_held_out": model.evaluate_loss(held),
        }
        rows.append(row)
        print(
            f"| {epoch} | {row['online']:.4f} | {row['model_training_text']:.4f} | "
            f"{row['model_held_out']:.4f} |",
            flush=True,
        )

    model.train(corpus, progress=False, callbacks=[report])
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": None}, "rows": rows}))


if __name__ == "__main__":
    main()

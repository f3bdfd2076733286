"""``seqlab classify train | eval | predict``: many-to-one text classification.

``train`` fits a recurrent classifier on a public set (rt_polarity/mr, sst2, imdb, names) or on
TSV files and saves a model directory; running it again on the same ``--out`` resumes.
``eval`` scores a saved model (accuracy, macro-F1, confusion matrix PNG). ``predict`` loads only
the model directory and prints label, probability and, with ``--explain``, each token's part.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from seqlab.cli.options import FiniteFloat, FiniteFloatOrAuto, writable

DATASET_NAMES = ("rt_polarity", "mr", "sst2", "imdb", "names")


def _fail(err: Exception) -> click.ClickException:
    return click.ClickException(str(err))


def _vectors_file_or_recipe(ctx, param, value):
    """A recipe name passes as is; anything else must be an existing file."""
    from seqlab.embeddings.recipes import RECIPES

    if value is None or value in RECIPES:
        return value
    if not Path(value).is_file():
        raise click.BadParameter(
            f"{value!r} is neither a vectors file nor one of {', '.join(RECIPES)}"
        )
    return value


@click.group()
def classify() -> None:
    """Many-to-one classification: sentiment of a review, language of a name."""


@classify.command(context_settings={"max_content_width": 100})
@click.argument("dataset", required=False, type=click.Choice(DATASET_NAMES, case_sensitive=False))
@click.option("--train-file", type=click.Path(dir_okay=False), help="TSV text<TAB>label lines.")
@click.option("--valid-file", type=click.Path(dir_okay=False), help="TSV; default 10% of train.")
@click.option("--test-file", type=click.Path(dir_okay=False), help="TSV, for eval later.")
@click.option(
    "--level",
    type=click.Choice(["word", "char"]),
    default=None,
    show_default="char for names, else word",
    help="Tokens: words (lowercased, markup removed) or characters.",
)
@click.option(
    "--cell",
    type=click.Choice(["lstm", "gru", "rnn"]),
    default=None,
    help="Recurrent layer. [lstm]",
)
@click.option(
    "--embed-dim",
    type=click.IntRange(min=1),
    default=None,
    help="Embedding size (the vectors' with --vectors). [64; names 32]",
)
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    default=None,
    help="Units per direction. [64; names 128]",
)
@click.option("--layers", type=click.IntRange(min=1), default=None, help="Stacked layers. [1]")
@click.option("--bidirectional/--unidirectional", default=None, help="[bidirectional]")
@click.option(
    "--dropout",
    type=FiniteFloat(0, 1, max_open=True),
    default=None,
    help="On embeddings, between layers, before the output. [0.3]",
)
@click.option(
    "--pooling",
    type=click.Choice(["last", "max", "mean", "attention"]),
    default=None,
    help="How the steps' outputs become one vector. [max]",
)
@click.option(
    "--vectors",
    callback=_vectors_file_or_recipe,
    help="Pretrained word vectors to start the embedding from: a file (word2vec/GloVe/fastText/"
    "seqlab) or enwiki-fasttext (built by `seqlab classify vectors`).",
)
@click.option("--freeze", is_flag=True, help="Keep the pretrained vectors fixed.")
@click.option(
    "--max-tokens", type=click.IntRange(min=1), default=None, help="Keep the first N. [400]"
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=None, help="Examples per batch. [64]"
)
@click.option(
    "--lr", type=FiniteFloat(min=0, min_open=True), default=None, help="AdamW. [5e-3; names 2e-3]"
)
@click.option(
    "--embed-lr-scale",
    type=FiniteFloat(0, 1),
    default=None,
    help="The embedding's learning rate as a share of --lr. [1]",
)
@click.option(
    "--lr-decay",
    type=FiniteFloat(0, 1, min_open=True),
    default=None,
    help="The learning rate is multiplied by this after each epoch. [1; mr 0.7]",
)
@click.option(
    "--sentence-repeat",
    type=click.IntRange(min=1),
    default=None,
    help="Each whole sentence of a training set of parse-tree phrases (SST) counts N times "
    "per epoch. [1; sst2 3]",
)
@click.option(
    "--ngram-weight",
    type=FiniteFloatOrAuto(0, 1, max_open=True),
    default=None,
    metavar="W|auto",
    help="Average the probabilities with a bag-of-n-grams model's (NB-weighted logistic "
    "regression; two classes), which gets the share W; auto: the share with the least "
    "validation log-loss; 0: off. [0; mr, sst2 auto]",
)
@click.option(
    "--ngram-c",
    type=FiniteFloat(min=0, min_open=True),
    default=None,
    help="The n-gram model's inverse L2 penalty (scikit-learn's C). [1; sst2 0.1]",
)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="At most. [5; sst2 3]")
@click.option("--patience", type=click.IntRange(min=1), default=None, help="Early stop. [2]")
@click.option(
    "--class-weight",
    type=click.Choice(["none", "balanced"]),
    default=None,
    help="balanced: rare classes weigh as much as frequent ones in the loss. [none]",
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--ensemble",
    type=click.IntRange(min=1),
    default=None,
    help="Train N models (seeds SEED..SEED+N-1) and average their probabilities. [1; mr 6, sst2 5]",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    show_default="torch's default: all cores",
    help="CPU threads; 1 is faster on a machine other jobs keep busy.",
)
def train(dataset, train_file, valid_file, test_file, level, out, quiet, threads, **options):
    """Train a classifier on DATASET (or --train-file) and save it to --out.

    \b
    DATASET: rt_polarity (alias mr), sst2, imdb (word level) or names (characters).
    Running again with the same --out resumes the run (raise --epochs to train longer).
    Example: seqlab classify train sst2 --out runs/sst2
    """
    # imported when the command runs: `seqlab --help` stays fast
    import torch

    from seqlab.data import DatasetNotFoundError
    from seqlab.embeddings.recipes import VectorsNotBuiltError
    from seqlab.tasks import classify_data
    from seqlab.tasks.classify import ClassifyInputError, RunMismatchError, train_run
    from seqlab.train import TrainingError

    if threads:
        torch.set_num_threads(threads)
    if (dataset is None) == (train_file is None):
        raise click.UsageError("give either a DATASET or --train-file (TSV), not both")
    writable(out, folder=True)
    try:
        if dataset is not None:
            data = classify_data.load(dataset)
        else:
            data = classify_data.from_files(train_file, valid_file, test_file, level or "word")
        options = {k: v for k, v in options.items() if v is not None}
        _, summary = train_run(data, out, options, level=level, quiet=quiet)
    except (
        classify_data.DataFileError,
        ClassifyInputError,
        RunMismatchError,
        TrainingError,
        DatasetNotFoundError,
        VectorsNotBuiltError,
        ValueError,
    ) as err:
        raise _fail(err) from None
    if not summary:  # another process than torchrun's rank 0: it reports nothing
        return
    if "members_valid_accuracy" in summary:
        members = ", ".join(f"{a:.4f}" for a in summary["members_valid_accuracy"])
        what = f"mean of {len(summary['members_valid_accuracy'])} models ({members})"
    else:
        what = f"epoch {summary['best_epoch']} of {summary['epochs_run']}"
    if summary.get("ngram_weight"):
        what += f", n-gram vote's share {summary['ngram_weight']:g}"
    click.echo(
        f"saved {out}: valid accuracy {summary['valid_accuracy']:.4f} ({what}), "
        f"{summary['train_time_s']:.0f} s training, {summary['examples_per_s']:.0f} examples/s"
    )


@classify.command(name="eval")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--split", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True
)
@click.option("--file", "tsv", type=click.Path(dir_okay=False), help="Score a TSV file instead.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the metrics.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False),
    show_default="MODEL_DIR/confusion_SPLIT.png",
    help="Confusion matrix plot.",
)
def evaluate(model_dir, split, tsv, json_path, png) -> None:
    """Accuracy, macro-F1 and confusion matrix of the model in MODEL_DIR."""
    from seqlab.data import DatasetNotFoundError
    from seqlab.tasks.classify import Classifier, ClassifyInputError, evaluate_split
    from seqlab.tasks.classify_data import DataFileError
    from seqlab.tasks.model_dir import ModelDirError

    png = Path(png) if png else Path(model_dir) / f"confusion_{'file' if tsv else split}.png"
    writable(json_path)
    try:
        clf = Classifier.load(model_dir)
        writable(png)
        metrics = evaluate_split(clf, split, tsv, png)
    except (ModelDirError, DataFileError, ClassifyInputError, DatasetNotFoundError) as err:
        raise _fail(err) from None
    click.echo(
        f"{metrics['source']}: {metrics['examples']:,} examples, accuracy "
        f"{metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}; confusion matrix {png}"
    )
    if json_path:
        from seqlab.io import atomic_write

        with atomic_write(json_path, "w", encoding="utf-8") as f:
            json.dump(metrics, f, indent=1, ensure_ascii=False)


@classify.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1)
@click.option("--file", "text_file", type=click.Path(dir_okay=False), help="One text per line.")
@click.option("--explain", is_flag=True, help="Colour each token by its attribution.")
@click.option("--html", type=click.Path(dir_okay=False), help="Write the attributions as HTML.")
@click.option(
    "--color/--no-color",
    default=None,
    show_default="colours on a terminal, scores in brackets otherwise",
    help="Colour the tokens, or write each score in brackets.",
)
def predict(model_dir, texts, text_file, explain, html, color) -> None:
    """Label and probability of each TEXT (or line of --file) by the model in MODEL_DIR.

    Example: seqlab classify predict runs/sst2 "a gorgeous, witty film" --explain
    """
    from seqlab.tasks.classify import Classifier, ClassifyInputError
    from seqlab.tasks.classify_data import DataFileError, read_lines
    from seqlab.tasks.explain import attribute, terminal_line, write_html
    from seqlab.tasks.model_dir import ModelDirError

    writable(html)
    try:
        texts = list(texts) + (read_lines(text_file) if text_file else [])
        if not texts:
            raise click.UsageError("give texts to classify as arguments or with --file")
        clf = Classifier.load(model_dir)
        for text in texts:
            clf.encode(text)  # every text is checked before any output
        attrs = []
        for text, pred in zip(texts, clf.predict(texts), strict=True):
            click.echo(f"{pred.label}\t{pred.probability:.4f}\t{text}")
            if explain or html:
                attrs.append(attribute(clf, text))
            if explain:
                colored = sys.stdout.isatty() if color is None else color
                click.echo("  " + terminal_line(attrs[-1], color=colored), color=colored)
        if html:
            write_html(html, attrs)
            click.echo(f"attributions: {html}")
    except (ModelDirError, ClassifyInputError, DataFileError) as err:
        raise _fail(err) from None


@classify.command()
@click.argument("name", default="enwiki-fasttext", type=click.Choice(["enwiki-fasttext"]))
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True)
def vectors(name, workers) -> None:
    """Build the pretrained vectors NAME once and cache them, for `train --vectors NAME`.

    \b
    enwiki-fasttext: fastText skip-gram (100 dimensions, character 3..6-grams, 3 epochs) on all
    of enwiki_extract (48.8M words), in the classifier's word tokens. About half an hour on
    2 cores; an interrupted build resumes from its last epoch.
    """
    from seqlab.data import DatasetNotFoundError
    from seqlab.embeddings import recipes

    path = recipes.recipe_path(name)
    if path.is_file():
        click.echo(f"{name}: already built, {path}")
        return
    try:
        path = recipes.build(name, workers=workers)
    except (DatasetNotFoundError, OSError) as err:
        raise _fail(err) from None
    click.echo(f"{name}: {path}")

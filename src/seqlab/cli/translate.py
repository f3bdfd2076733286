"""``seqlab translate train | eval | text``: an encoder-decoder with attention on sentence pairs.

``train`` fits a translator on multi30k (German-English, either direction) or tatoeba_eng_fra
and saves a model directory; running it again on the same ``--out`` resumes. ``eval`` scores a
saved model on a split with sacreBLEU (BLEU and chrF, with their signatures). ``text``
translates sentences and can draw what the attention looked at.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from seqlab.cli.options import FiniteFloat, training_run_options, writable

DATASETS = ("multi30k", "tatoeba_eng_fra")
LANGS = ("de", "en", "fr")


@click.group()
def translate() -> None:
    """Translation: encoder, decoder, attention, beam search, BLEU."""


@translate.command(context_settings={"max_content_width": 100})
@click.argument("dataset", type=click.Choice(DATASETS))
@click.option("--src", type=click.Choice(LANGS), required=True, help="Source language.")
@click.option("--tgt", type=click.Choice(LANGS), required=True, help="Target language.")
@click.option(
    "--tokens",
    "level",
    type=click.Choice(["subword", "word"]),
    default="subword",
    show_default=True,
    help="Sentencepiece unigram subwords, or whole words (rare ones become <unk>).",
)
@click.option(
    "--vocab-size",
    type=click.IntRange(min=8),
    default=8000,
    show_default=True,
    help="Pieces (or words) per language, specials included.",
)
@click.option(
    "--cell",
    type=click.Choice(["gru", "lstm"]),
    default="gru",
    show_default=True,
    help="Recurrent cell of the encoder and the decoder.",
)
@click.option(
    "--attention",
    type=click.Choice(["general", "dot", "bahdanau", "none"]),
    default="general",
    show_default=True,
    help="Luong general / dot, Bahdanau additive, or none (plain encoder-decoder).",
)
@click.option(
    "--embed-dim",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Embedding size; also the output features (tied to the target embedding).",
)
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Encoder units per direction.",
)
@click.option(
    "--decoder-hidden",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Decoder units (dot attention: 2 × --hidden).",
)
@click.option(
    "--dropout",
    type=FiniteFloat(0, 1, max_open=True),
    default=0.3,
    show_default=True,
    help="On embeddings and output features.",
)
@click.option(
    "--label-smoothing",
    type=FiniteFloat(0, 1, max_open=True),
    default=0.1,
    show_default=True,
    help="Probability mass spread over the other target tokens in the loss.",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="Pairs."
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=12, show_default=True, help="At most."
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Stop after this many epochs without a better validation BLEU.",
)
@click.option(
    "--lr",
    type=FiniteFloat(min=0, min_open=True),
    default=2e-3,
    show_default=True,
    help="Adam learning rate (halved after an epoch without progress).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Train on the first N pairs only (quick runs).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Seed of the weights and the batch order.",
)
@training_run_options
def train(dataset, src, tgt, limit, device, checkpoint_every, out, quiet, **options):
    """Train a translator from --src to --tgt on DATASET and save it to --out.

    \b
    DATASET: multi30k (de <-> en; official train / val) or tatoeba_eng_fra (en <-> fr; 1 % of
    the English sentences for val, 1 % for test, by a hash of the sentence).
    The best epoch is the one of highest validation BLEU (greedy). Running again with the same
    --out resumes the run (raise --epochs to train longer).
    Example: seqlab translate train multi30k --src de --tgt en --out runs/de-en
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.data import DatasetError
    from seqlab.tasks import translate_run
    from seqlab.tasks.translate import TranslateConfig, TranslateInputError
    from seqlab.tasks.translate_data import TranslateDataError, check_direction
    from seqlab.train import TrainingError

    try:
        check_direction(dataset, src, tgt)
        config = TranslateConfig(**options)
    except (TranslateDataError, TranslateInputError) as e:
        raise click.UsageError(str(e)) from None
    writable(out, folder=True)
    try:
        _, summary = translate_run.train(
            dataset, src, tgt, config, out, quiet, device, checkpoint_every, limit
        )
    except (DatasetError, TranslateDataError, TranslateInputError, TrainingError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"best epoch {summary['best_epoch']} of {summary['epochs_run']}: validation BLEU "
        f"{summary['valid_bleu_greedy']:.2f} (greedy), {summary['target_tokens_per_s']:,.0f} "
        f"target tokens/s, {summary['train_time_s'] / 60:.1f} min"
    )
    click.echo(f"saved {out}  (seqlab translate eval {out} --split val)")


@translate.command(name="eval")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--split",
    default="val",
    show_default=True,
    help="train, val, test_2016_flickr, test_2017_flickr, test_2017_mscoco, test_2018_flickr "
    "(multi30k); train, val, test (tatoeba_eng_fra).",
)
@click.option(
    "--beam", type=click.IntRange(min=1), default=5, show_default=True, help="1 = greedy."
)
@click.option(
    "--length-penalty",
    type=FiniteFloat(min=0),
    default=1.0,
    show_default=True,
    help="alpha in score / length**alpha; 0 = raw log-probability.",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="Sentences."
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="First N pairs only.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the figures.")
def eval_command(model_dir, split, beam, length_penalty, batch_size, limit, json_path) -> None:
    """BLEU and chrF (sacreBLEU, with signatures) of a saved translator on --split."""
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.data import DatasetError
    from seqlab.io import atomic_write
    from seqlab.tasks.beam import BeamSearchError
    from seqlab.tasks.model_dir import ModelDirError
    from seqlab.tasks.translate_data import TranslateDataError
    from seqlab.tasks.translate_run import evaluate

    writable(json_path)
    try:
        figures = evaluate(model_dir, split, beam, length_penalty, batch_size, limit)
    except (DatasetError, TranslateDataError, ModelDirError, BeamSearchError) as e:
        raise click.ClickException(str(e)) from None
    search = "greedy" if beam == 1 else f"beam {beam}"
    click.echo(
        f"{figures['dataset']} {figures['direction']} {split} ({figures['sentences']:,} "
        f"sentences, {search}): BLEU {figures['bleu']:.2f}  chrF {figures['chrf']:.2f}  "
        f"({figures['sentences_per_s']:,.1f} sentences/s)"
    )
    click.echo(f"BLEU: {figures['bleu_signature']}")
    click.echo(f"chrF: {figures['chrf_signature']}")
    if json_path:
        with atomic_write(json_path, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=1, ensure_ascii=False)


@translate.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("sentences", nargs=-1, required=True)
@click.option(
    "--beam", type=click.IntRange(min=1), default=5, show_default=True, help="1 = greedy."
)
@click.option(
    "--attention",
    "picture",
    type=click.Path(dir_okay=False),
    help="Draw the first sentence's attention (source × output pieces) into this PNG.",
)
def text(model_dir, sentences, beam, picture) -> None:
    """Translate SENTENCES (each argument one sentence) with a saved translator.

    \b
    Example: seqlab translate text runs/de-en "Ein Mann fährt Fahrrad." --attention att.png
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.tasks.beam import BeamSearchError
    from seqlab.tasks.model_dir import ModelDirError
    from seqlab.tasks.translate import TranslateInputError
    from seqlab.tasks.translate_plot import attention_heatmap
    from seqlab.tasks.translate_run import Translator

    writable(picture)
    try:
        translator = Translator.load(model_dir)
        translations = translator.translate(list(sentences), beam)
        notes = translator.notes
        if picture:
            source, output, weights = translator.attention(sentences[0], beam)
            attention_heatmap(source, output, weights, picture)
    except (ModelDirError, TranslateInputError, BeamSearchError) as e:
        raise click.ClickException(str(e)) from None
    for note in notes:
        click.echo(f"note: {note}", err=True)
    for translation in translations:
        click.echo(translation)
    if picture:
        click.echo(f"attention: {picture}", err=True)

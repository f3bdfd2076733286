"""``seqlab caption train | eval | image``: one-to-many image captioning.

``train`` fits a CNN encoder and a recurrent decoder (optionally with attention) on the
generated shapes scenes or on Flickr8k (its pictures from the user's archive) and saves a
model directory; running it again on the same ``--out`` resumes. ``eval`` prints BLEU-1 … 4
of greedy and beam-search captions. ``image`` captions one picture file.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from seqlab.cli.options import FiniteFloat, seed_option, warn_if_mirror_unusable, writable


def _errors():
    from seqlab.data import DatasetNotFoundError
    from seqlab.data.images import ImageError
    from seqlab.tasks.caption import CaptionInputError
    from seqlab.tasks.model_dir import ModelDirError
    from seqlab.train import TrainingError

    return (DatasetNotFoundError, ImageError, CaptionInputError, ModelDirError, TrainingError)


@click.group()
def caption() -> None:
    """One-to-many: a sentence that describes a picture."""


@caption.command(context_settings={"max_content_width": 100})
@click.argument("dataset", type=click.Choice(["shapes", "flickr8k"]))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--attention/--no-attention", default=None, help="Show, Attend and Tell. [off]")
@click.option("--cell", type=click.Choice(["lstm", "gru"]), default=None, help="[lstm]")
@click.option("--hidden", type=click.IntRange(min=1), default=None, help="Decoder units. [256]")
@click.option("--channels", type=click.IntRange(min=1), default=None, help="First conv layer. [32]")
@click.option(
    "--side",
    type=click.IntRange(min=16),
    default=None,
    help="Pictures are read at SIDE x SIDE (a multiple of 8). [40; flickr8k 64]",
)
@click.option("--lr", type=FiniteFloat(min=0, min_open=True), default=None, help="Adam. [2e-3]")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="At most. [12]")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Pictures. [32]")
@click.option(
    "--scenes", type=click.IntRange(min=10), default=None, help="Training scenes (shapes). [8000]"
)
@click.option(
    "--images",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Flickr8k_Dataset.zip or a folder of its .jpg files (flickr8k).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Use the first N pictures of each split (flickr8k, a quick run).",
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@seed_option
def train(dataset, out, scenes, images, limit, threads, quiet, seed, **options) -> None:
    """Train a captioner on DATASET and save it to --out.

    \b
    DATASET: shapes (generated scenes, any machine) or flickr8k (captions from the data
    mirror, pictures from Flickr8k_Dataset.zip: see `--images`).
    Example: seqlab caption train shapes --out runs/caption-shapes --attention
    """
    import torch

    from seqlab.tasks.caption_eval import train_run

    if threads:
        torch.set_num_threads(threads)
    if dataset == "shapes" and (images or limit):
        raise click.UsageError("--images and --limit are for flickr8k")
    if dataset == "flickr8k" and scenes:
        raise click.UsageError("--scenes is for shapes")
    writable(out, folder=True)
    warn_if_mirror_unusable()
    options = {k: v for k, v in options.items() if v is not None}
    if dataset == "shapes":
        data_options = {"scenes": scenes}
    else:
        data_options = {"images": str(images) if images else None, "limit": limit}
    try:
        _, summary = train_run(dataset, out, {**options, "seed": seed}, data_options, quiet=quiet)
    except _errors() as err:
        raise click.ClickException(str(err)) from None
    click.echo(
        f"saved {out}: valid loss {summary['valid_loss']:.3f} (epoch {summary['best_epoch']} of "
        f"{summary['epochs_run']}), {summary['train_time_s']:.0f} s training"
    )


@caption.command(name="eval")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--split", type=click.Choice(["test", "valid"]), default="test", show_default=True)
@click.option("--beam", type=click.IntRange(min=2), default=3, show_default=True)
@click.option(
    "--images",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Flickr8k pictures, if not where the model was trained.",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the metrics.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False),
    default=None,
    help="Draw eight pictures of the split with their beam-search captions.",
)
def evaluate(model_dir, split, beam, images, json_path, png) -> None:
    """BLEU-1 … BLEU-4 of greedy and beam-search captions against all references."""
    from seqlab.tasks.caption_eval import evaluate as run_eval

    writable(json_path)
    writable(png)
    try:
        metrics = run_eval(model_dir, split, beam, images, png)
    except _errors() as err:
        raise click.ClickException(str(err)) from None
    click.echo(
        f"{'decoding':<8} {'scenes':<7} {'n':>5} {'BLEU-1':>7} {'BLEU-2':>7} "
        f"{'BLEU-3':>7} {'BLEU-4':>7}"
    )
    for mode in ("greedy", "beam"):
        for group in ("all", "seen", "unseen"):
            row = metrics.get(f"{mode}_{group}")
            if row:
                name = mode if mode == "greedy" else f"beam {beam}"
                scores = " ".join(f"{row[f'bleu{n}']:7.3f}" for n in range(1, 5))
                click.echo(f"{name:<8} {group:<7} {row['pictures']:5d} {scores}")
    if json_path:
        from seqlab.io import atomic_write

        with atomic_write(json_path, "w", encoding="utf-8") as f:
            json.dump(metrics, f, indent=1, ensure_ascii=False)


@caption.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("picture", type=click.Path(path_type=Path))
@click.option("--beam", type=click.IntRange(min=1), default=3, show_default=True, help="1: greedy.")
@click.option(
    "--attention",
    "attention_png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw where the model looked for each word into this PNG (models with attention).",
)
def image(model_dir, picture, beam, attention_png) -> None:
    """Print a caption of PICTURE (PNG, JPEG, ...; any size up to 50 megapixels).

    \b
    Grayscale pictures are read as gray RGB, transparent ones over black.
    Example: seqlab caption image runs/caption-shapes scene.png --attention looked.png
    """
    from seqlab.data.images import read_image
    from seqlab.tasks.caption import Captioner, CaptionInputError
    from seqlab.tasks.caption_eval import draw_attention

    writable(attention_png)
    try:
        cap = Captioner.load(model_dir)
        if attention_png and not cap.config.attention:
            raise CaptionInputError(
                f"{model_dir} was trained without attention, so there is nothing to draw: "
                "train with --attention, or leave out --attention PNG"
            )
        pixels = read_image(picture, cap.config.side)
        found = cap.caption(pixels[None], beam=beam, attention=attention_png is not None)[0]
        click.echo(found.text)
        if attention_png:
            draw_attention(pixels, found.text, found.attention, attention_png)
            click.echo(f"attention: {attention_png}")
    except _errors() as err:
        raise click.ClickException(str(err)) from None

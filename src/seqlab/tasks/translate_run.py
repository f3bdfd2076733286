"""A trained translator, and the runs ``seqlab translate train`` / ``eval`` / ``text`` do.

``train`` writes into ``out``:

    out/run.json          the settings and data of the run (a second ``train`` on ``out`` must
                          agree with them, except ``epochs``: it resumes)
    out/source.spm, target.spm
                          the two sentencepiece models, learned once from the training pairs
    out/training/         the Trainer's run (checkpoints, history, curves, train.log)
    out/model.json, model.safetensors, vocab.json
                          the model directory (`seqlab.tasks.model_dir`), written when training
                          ends; model.json also names the two .spm files' SHA-256

The best epoch is the one of highest validation BLEU (greedy translations); ``eval`` scores a
split with greedy or beam search and reports sacreBLEU's BLEU and chrF with their signatures.

Inputs to `Translator.translate`: an empty sentence, or one whose tokens are all unknown
(characters never seen in training), raises `TranslateInputError`; some unknown tokens are
translated as ``<unk>``, and a sentence longer than the longest training source is translated
(up to 1.5 × its length + 10 tokens) with a note in `Translator.notes`, since the model never
learnt to attend that far.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path

import numpy as np
import torch
from sacrebleu.metrics import BLEU, CHRF

from seqlab.io import atomic_write
from seqlab.tasks import model_dir, run_record
from seqlab.tasks.translate import (
    Seq2Seq,
    TranslateConfig,
    TranslateInputError,
    TranslationStep,
    decode,
)
from seqlab.tasks.translate_data import (
    BOS_ID,
    Codec,
    PairDataset,
    TranslateDataError,
    check_direction,
    collate,
    load_split,
    loader,
)
from seqlab.train import TrainConfig, Trainer

TASK = "translate"
CODEC_FILES = {"source": "source.spm", "target": "target.spm"}
RESUMABLE = ("epochs",)  # settings that may change when train runs again on the same out
CONFIG_DEFAULTS = run_record.defaults_of(TranslateConfig)
TIED = "output.weight"  # the target embedding again when tie_embeddings


class Translator:
    """A `Seq2Seq` with its two codecs: raw sentences in, raw translations out."""

    def __init__(self, model, source: Codec, target: Codec, config, origin: dict, info=None):
        self.model, self.source, self.target = model, source, target
        self.config, self.origin, self.info = config, origin, info or {}
        self.notes: list[str] = []

    # --- translating ---

    def encode_sources(self, sentences: list[str]) -> list[list[int]]:
        """Source ids of each sentence; `TranslateInputError` for one that cannot be translated."""
        self.notes = []
        encoded = []
        longest = self.origin.get("longest_source")
        for n, sentence in enumerate(sentences, 1):
            where = f"sentence {n}" if len(sentences) > 1 else "the sentence"
            if not isinstance(sentence, str) or not sentence.strip():
                raise TranslateInputError(f"{where} is empty: give text in {self.origin['src']}")
            ids = self.source.encode(sentence)
            unknown = self.source.unknown(ids)
            if unknown == len(ids):
                raise TranslateInputError(
                    f"{where} ({sentence[:60]!r}) holds nothing the model knows: none of its "
                    f"{'characters' if self.config.level == 'subword' else 'words'} occur in "
                    f"the {self.origin['src']} training text. Give a {self.origin['src']} sentence"
                )
            if unknown:
                self.notes.append(f"{where}: {unknown} of {len(ids)} tokens unknown (<unk>)")
            if longest and len(ids) > longest:
                self.notes.append(
                    f"{where} has {len(ids)} tokens, more than any training source "
                    f"({longest}): expect a worse translation"
                )
            encoded.append(ids)
        return encoded

    def translate(
        self,
        sentences: list[str],
        beam: int = 5,
        length_penalty: float = 1.0,
        batch_size: int = 64,
    ) -> list[str]:
        """The translation of each sentence (detokenised text)."""
        ids = self.translate_ids(self.encode_sources(sentences), beam, length_penalty, batch_size)
        return [self.target.decode(t) for t in ids]

    def translate_ids(self, sources, beam=5, length_penalty=1.0, batch_size=64):
        """Target ids of each source (lists of ids), batched by length, in the given order."""
        self.model.eval()
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        out: list[list[int]] = [[] for _ in sources]
        device = next(self.model.parameters()).device
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            src, lengths, _, _ = collate(
                [(np.asarray(sources[i], dtype=np.int64), np.zeros(1, np.int64), i) for i in chunk]
            )
            found = decode(self.model, src.to(device), lengths, beam, length_penalty)
            for i, ids in zip(chunk, found, strict=True):
                out[i] = ids
        return out

    def attention(self, sentence: str, beam: int = 5):
        """``(source pieces, output pieces, weights (output, source))`` of one translation.

        The weights come from running the decoder once more on its own output, teacher-forced
        (the same numbers the search computed for the hypothesis it kept).
        """
        if self.model.attention is None:
            raise TranslateInputError(
                "this model has no attention (trained with --attention none): there is no "
                "attention matrix to draw"
            )
        (src_ids,) = self.encode_sources([sentence])
        (out_ids,) = self.translate_ids([src_ids], beam)
        device = next(self.model.parameters()).device
        src = torch.tensor([src_ids], device=device)
        tgt_in = torch.tensor([[BOS_ID, *out_ids]], device=device)  # the last predicts <eos>
        with torch.no_grad():
            _, weights = self.model(src, torch.tensor([len(src_ids)]), tgt_in, True)
        labels = [*self.target.pieces(out_ids), "<eos>"]
        return self.source.pieces(src_ids), labels, weights[0].cpu().numpy()

    # --- persistence ---

    def save(self, path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        hashes = {}
        for side, codec in (("source", self.source), ("target", self.target)):
            with atomic_write(path / CODEC_FILES[side]) as f:
                f.write(codec.model)
            hashes[side] = hashlib.sha256(codec.model).hexdigest()
        settings = {
            "config": dataclasses.asdict(self.config),
            "origin": self.origin,
            "codecs": hashes,
            "info": self.info,
        }
        state = self.model.state_dict()
        if self.config.tie_embeddings:  # one tensor under two names: safetensors stores it once
            del state[TIED]
        return model_dir.save(path, TASK, settings, state, self.target.vocab())

    @classmethod
    def load(cls, path, device: str = "cpu") -> Translator:
        settings, state, _ = model_dir.load(path, TASK)
        path = Path(path)
        try:
            config = TranslateConfig(**settings["config"])
            codecs = {}
            for side, name in CODEC_FILES.items():
                blob = _read(path / name)
                if hashlib.sha256(blob).hexdigest() != settings["codecs"][side]:
                    raise model_dir.ModelDirError(
                        f"{path / name} is not the file the model was saved with; copy the "
                        "whole directory again or retrain"
                    )
                codecs[side] = Codec(blob, config.level)
            model = Seq2Seq(len(codecs["source"]), len(codecs["target"]), config)
            if config.tie_embeddings:
                state[TIED] = state["tgt_embed.weight"]
            model.load_state_dict(state)
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            if isinstance(e, model_dir.ModelDirError):
                raise
            raise model_dir.settings_mismatch(path, e) from None
        model = model.to(device).eval()
        return cls(
            model, codecs["source"], codecs["target"], config, settings["origin"], settings["info"]
        )


def _read(file: Path) -> bytes:
    if not file.is_file():
        raise model_dir.ModelDirError(f"{file} is missing; copy the whole directory")
    return file.read_bytes()


# --- scoring ---


def score(hypotheses: list[str], references: list[str]) -> dict:
    """sacreBLEU's BLEU and chrF (defaults: 13a tokens, case-sensitive) with their signatures.

    Examples
    --------
    >>> figures = score(["The cat sat on the mat."], ["The cat sat on the mat."])
    >>> figures["bleu"], figures["chrf"]
    (100.0, 100.0)
    >>> figures["bleu_signature"]
    'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0'
    """
    bleu, chrf = BLEU(), CHRF()
    b = bleu.corpus_score(hypotheses, [references])
    c = chrf.corpus_score(hypotheses, [references])
    return {
        "bleu": round(b.score, 2),
        "chrf": round(c.score, 2),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "bleu_detail": str(b),
    }


# --- the runs ---


def train(
    dataset: str,
    src: str,
    tgt: str,
    config: TranslateConfig,
    out,
    quiet: bool = False,
    device: str = "auto",
    checkpoint_every: int | None = None,
    limit: int | None = None,
) -> tuple[Translator, dict]:
    """Train ``src``→``tgt`` on ``dataset``'s train split, validate (loss, greedy BLEU) per epoch.

    ``limit`` keeps only the first ``limit`` training pairs (quick runs, tests). Running it
    again on the same ``out`` with the same settings resumes (more ``epochs``: trains further).
    Returns the translator (best epoch) and the summary saved in its ``info``.
    """
    check_direction(dataset, src, tgt)
    out = Path(out)
    origin = {"dataset": dataset, "src": src, "tgt": tgt, "limit": limit}
    check_run(out, origin, config)
    train_pairs = load_split(dataset, src, tgt, "train", progress=not quiet)[:limit]
    val_pairs = load_split(dataset, src, tgt, "val")
    source, target = _codecs(out, train_pairs, config)
    train_set = PairDataset(train_pairs, source, target, config.max_tokens)
    val_set = PairDataset(val_pairs, source, target)
    if not len(train_set) or not len(val_set):
        raise TranslateDataError(f"{dataset} {src}-{tgt}: no usable training or validation pairs")
    origin |= {
        "train_pairs": len(train_set),
        "longest_source": max(len(s) for s, _ in train_set.items),
    }
    torch.manual_seed(config.seed)
    model = Seq2Seq(len(source), len(target), config)
    references = [val_pairs[i][1] for i in val_set.index]
    step = TranslationStep(config.label_smoothing, references, target.decode)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=0.5, patience=0
    )
    trainer = Trainer(
        model,
        optimizer=optimizer,
        config=TrainConfig(
            epochs=config.epochs,
            clip_norm=config.clip,
            patience=config.patience,
            metric="bleu",
            seed=config.seed,
            device=device,
            quiet=quiet,
            item_name="tokens",
            checkpoint_every=checkpoint_every,
        ),
        scheduler=scheduler,
        step=step,
        evaluate=step.evaluate,
    )
    write_run(out, origin, config)
    history = trainer.fit(
        loader(train_set, config.batch_size, shuffle=True, seed=config.seed),
        loader(val_set, 128, shuffle=False),
        out=out / "training",
    )
    train_time = sum(r.get("train_time_s", 0.0) for r in history.epochs)
    summary = {
        "epochs_run": len(history.epochs),
        "best_epoch": history.best_epoch,
        "valid_bleu_greedy": history.best_value,
        "train_time_s": round(train_time, 1),
        "target_tokens_per_s": round(
            sum(r.get("items", 0) for r in history.epochs) / max(train_time, 1e-9), 1
        ),
        "source_vocab": len(source),
        "target_vocab": len(target),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    translator = Translator(model.cpu().eval(), source, target, config, origin, summary)
    translator.save(out)
    return translator, summary


def evaluate(
    path,
    split: str = "test_2016_flickr",
    beam: int = 5,
    length_penalty: float = 1.0,
    batch_size: int = 64,
    limit: int | None = None,
    progress: bool = True,
) -> dict:
    """BLEU and chrF of the model in ``path`` on ``split`` of its dataset (and direction)."""
    translator = Translator.load(path)
    origin = translator.origin
    pairs = load_split(origin["dataset"], origin["src"], origin["tgt"], split, progress)[:limit]
    if not pairs:
        raise TranslateDataError(f"{split} of {origin['dataset']} holds no pairs")
    sources = [translator.source.encode(s) or [1] for s, _ in pairs]  # empty -> one <unk>
    started = time.perf_counter()
    ids = translator.translate_ids(sources, beam, length_penalty, batch_size)
    seconds = time.perf_counter() - started
    hypotheses = [translator.target.decode(t) for t in ids]
    figures = score(hypotheses, [t for _, t in pairs])
    return {
        "dataset": origin["dataset"],
        "direction": f"{origin['src']}-{origin['tgt']}",
        "split": split,
        "sentences": len(pairs),
        "beam": beam,
        "length_penalty": length_penalty,
        **figures,
        "decode_time_s": round(seconds, 2),
        "sentences_per_s": round(len(pairs) / seconds, 1),
        "examples": [
            {"source": s, "reference": t, "translation": h}
            for (s, t), h in list(zip(pairs, hypotheses, strict=True))[:5]
        ],
    }


def _codecs(out: Path, train_pairs, config: TranslateConfig) -> tuple[Codec, Codec]:
    """The run's two codecs: learned once from the training pairs, then read back on resume."""
    codecs = []
    for side, index in (("source", 0), ("target", 1)):
        file = out / CODEC_FILES[side]
        if file.is_file():
            codecs.append(Codec(file.read_bytes(), config.level))
            continue
        codec = Codec.train([p[index] for p in train_pairs], config.vocab_size, config.level)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_write(file) as f:
            f.write(codec.model)
        codecs.append(codec)
    return codecs[0], codecs[1]


# --- the run file: what a second `train` on the same out must agree with ---


def run_settings(origin: dict, config: TranslateConfig) -> dict:
    return {"config": dataclasses.asdict(config), "origin": {k: origin[k] for k in ORIGIN_KEYS}}


def check_run(out: Path, origin: dict, config: TranslateConfig) -> None:
    """Refuse to resume ``out`` with other data or settings (other than ``epochs``)."""
    run_record.check(
        out, run_settings(origin, config), TranslateInputError, RESUMABLE, CONFIG_DEFAULTS
    )


def write_run(out: Path, origin: dict, config: TranslateConfig) -> None:
    run_record.write(out, run_settings(origin, config))


ORIGIN_KEYS = ("dataset", "src", "tgt", "limit")

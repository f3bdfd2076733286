"""A trained model as a directory: weights, settings and vocabulary, loadable without its data.

Layout::

    model.safetensors   the model's state_dict
    vocab.json          the `seqlab.text.Vocab` (tokens <-> ids)
    model.json          written last: format, task, settings, and the size and SHA-256 of the
                        two files above

Each file is written atomically, and ``model.json`` only after the others, naming their
checksums: a directory whose copy or save was cut off, or whose files come from two different
saves, is refused with a message instead of giving wrong predictions. Other tasks use the same
layout with their own ``task`` name, so a directory of another task is recognised as such.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from seqlab.io import atomic_write
from seqlab.text import Vocab

FORMAT = "seqlab model directory"
VERSION = 1
MANIFEST = "model.json"
WEIGHTS = "model.safetensors"
VOCAB = "vocab.json"


class ModelDirError(ValueError):
    """A model directory is missing, incomplete, corrupt or of another task; says which and why."""


def settings_mismatch(path: str | os.PathLike, err: Exception) -> ModelDirError:
    """The error for saved settings that do not rebuild a model fitting the saved weights."""
    return ModelDirError(
        f"{path}: the saved settings do not fit the weights ({err}); the directory is "
        "damaged or from another seqlab version: retrain"
    )


def save(path: str | os.PathLike, task: str, settings: dict, state: dict, vocab: Vocab) -> Path:
    """Write ``state`` (a state_dict), ``vocab`` and ``settings`` (JSON-ready) into ``path``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    weights = safetensors_bytes({k: v.detach().cpu().contiguous() for k, v in state.items()})
    vocab_bytes = json.dumps(vocab.to_dict(), ensure_ascii=False).encode("utf-8")
    files = {}
    for name, blob in ((WEIGHTS, weights), (VOCAB, vocab_bytes)):
        with atomic_write(path / name) as f:
            f.write(blob)
        files[name] = {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    manifest = {"format": FORMAT, "version": VERSION, "task": task, "files": files}
    manifest["settings"] = settings
    with atomic_write(path / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    return path


def read_manifest(path: str | os.PathLike, task: str) -> dict:
    """The manifest of a model directory of ``task``; `ModelDirError` for anything else."""
    path = Path(path)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise ModelDirError(
            f"{path} {what}: give the folder that `seqlab {task} train --out` wrote"
        )
    manifest_file = path / MANIFEST
    if not manifest_file.is_file():
        hint = (
            " It holds a training run that has not finished its first epoch: train on."
            if (path / "training").is_dir()
            else ""
        )
        raise ModelDirError(
            f"{path} is not a seqlab model directory (no {MANIFEST}).{hint} Give the folder that "
            f"`seqlab {task} train --out` wrote"
        )
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelDirError(
            f"{manifest_file} is not valid JSON ({e}): the directory is damaged; train again "
            "or copy it again from its source"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelDirError(f"{manifest_file} is not a seqlab model manifest")
    if manifest.get("version") != VERSION:
        raise ModelDirError(
            f"{path}: model directory version {manifest.get('version')} is not supported by this "
            f"seqlab (version {VERSION}); use the seqlab version that wrote it"
        )
    if manifest.get("task") != task:
        raise ModelDirError(
            f"{path} holds a {manifest.get('task')!r} model, not a {task!r} one; use "
            f"`seqlab {manifest.get('task')} ...` with it, or give a {task} model directory"
        )
    return manifest


def load(path: str | os.PathLike, task: str) -> tuple[dict, dict, Vocab]:
    """``(settings, state_dict, vocab)`` of a directory written by `save` for ``task``."""
    path = Path(path)
    manifest = read_manifest(path, task)
    blobs = {}
    for name, expected in manifest["files"].items():
        file = path / name
        if not file.is_file():
            raise ModelDirError(f"{path}: {name} is missing; copy the whole directory")
        blob = file.read_bytes()
        if len(blob) != expected["bytes"] or hashlib.sha256(blob).hexdigest() != expected["sha256"]:
            raise ModelDirError(
                f"{file} is truncated or not the file {MANIFEST} was saved with ({len(blob):,} "
                f"bytes, expected {expected['bytes']:,}); copy the directory again or retrain"
            )
        blobs[name] = blob
    state = _tensors(path / WEIGHTS)
    vocab_dict = json.loads(blobs[VOCAB].decode("utf-8"))
    vocab = Vocab(
        vocab_dict["itos"],
        vocab_dict["counts"],
        vocab_dict["specials"],
        vocab_dict["total"],
        lowercase=vocab_dict.get("lowercase", False),
    )
    return manifest["settings"], state, vocab


def _tensors(file: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(file))
    except Exception as e:  # safetensors raises its own error type
        raise ModelDirError(f"{file} cannot be read as safetensors ({e}); retrain") from None

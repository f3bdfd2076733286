"""Checkpoints: a directory of safetensors + JSON, replaced atomically, never pickle.

Layout of ``out/last/`` (the newest checkpoint, written after every epoch and every
``checkpoint_every`` steps)::

    model.safetensors      the model's state_dict, loadable on its own
    training.safetensors   every tensor of the training state: optimizer moments and steps,
                           scheduler/scaler tensors if any, each rank's torch/CUDA RNG states
    checkpoint.json        the rest: format, model signature (names, shapes, dtypes), config,
                           progress (epoch, position in the epoch, step, the epoch's running
                           sums), history, and the training state's tree, whose tensors are
                           references into training.safetensors

``out/best/`` holds ``model.safetensors`` and ``checkpoint.json`` of the best epoch.

A checkpoint is first written into a temporary directory beside its target, every file through
`seqlab.io.atomic_write` (flushed and synced), and then renamed into place; a run killed at any
moment leaves the previous checkpoint or the new one, never a mix (see `recover`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes
from torch import nn

from seqlab.io import atomic_write
from seqlab.train.errors import CheckpointMismatchError

FORMAT = "seqlab.train checkpoint 1"
MODEL_FILE = "model.safetensors"
TENSORS_FILE = "training.safetensors"
META_FILE = "checkpoint.json"


def model_signature(model: nn.Module) -> dict[str, list]:
    """``{name: [shape, dtype]}`` of every entry of the model's state_dict."""
    return {
        name: [list(t.shape), str(t.dtype).removeprefix("torch.")]
        for name, t in model.state_dict().items()
    }


def signature_differences(saved: dict[str, list], model: nn.Module, limit: int = 5) -> list[str]:
    """How ``model`` differs from the signature a checkpoint recorded (empty if it matches)."""
    current = model_signature(model)
    problems = [f"missing in the model: {n}" for n in saved if n not in current]
    problems += [f"not in the checkpoint: {n}" for n in current if n not in saved]
    problems += [
        f"{n}: checkpoint {saved[n][0]} {saved[n][1]}, model {current[n][0]} {current[n][1]}"
        for n in saved
        if n in current and saved[n] != current[n]
    ]
    if len(problems) > limit:
        problems = [*problems[:limit], f"... and {len(problems) - limit} more"]
    return problems


def flatten(tree, tensors: dict[str, torch.Tensor], path: str = ""):
    """``tree`` as JSON-ready data; its tensors move into ``tensors`` under their path.

    Tensors become ``{"__tensor__": path}``, tuples ``{"__tuple__": [...]}``, dicts with
    non-string keys (an optimizer's per-parameter state) ``{"__items__": [[key, value], ...]}``.
    """
    if isinstance(tree, torch.Tensor):
        tensors[path] = tree.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": path}
    if isinstance(tree, np.ndarray):
        return {"__ndarray__": tree.tolist(), "dtype": str(tree.dtype)}
    if isinstance(tree, dict):
        if all(isinstance(k, str) for k in tree):
            return {k: flatten(v, tensors, f"{path}.{k}") for k, v in tree.items()}
        items = [[k, flatten(v, tensors, f"{path}.{k}")] for k, v in tree.items()]
        return {"__items__": items}
    if isinstance(tree, tuple | list):
        if all(type(v) in (int, float) for v in tree):  # e.g. random's state: 625 ints
            flat = list(tree)
        else:
            flat = [flatten(v, tensors, f"{path}.{i}") for i, v in enumerate(tree)]
        return {"__tuple__": flat} if isinstance(tree, tuple) else flat
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    if isinstance(tree, np.generic):
        return tree.item()
    raise TypeError(
        f"cannot store {type(tree).__name__} at {path.lstrip('.')} in a checkpoint: only "
        "tensors, numbers, strings, lists, tuples and dicts (no pickle)"
    )


def unflatten(tree, tensors: dict[str, torch.Tensor]):
    """The inverse of `flatten`."""
    if isinstance(tree, list):
        return [v if type(v) in (int, float) else unflatten(v, tensors) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__tensor__" in tree:
        return tensors[tree["__tensor__"]]
    if "__ndarray__" in tree:
        return np.asarray(tree["__ndarray__"], dtype=tree["dtype"])
    if "__tuple__" in tree:
        return tuple(unflatten(v, tensors) for v in tree["__tuple__"])
    if "__items__" in tree:
        return {k: unflatten(v, tensors) for k, v in tree["__items__"]}
    return {k: unflatten(v, tensors) for k, v in tree.items()}


def save(directory: Path, model: nn.Module, meta: dict, training=None) -> None:
    """Write a checkpoint directory atomically: the model, ``training`` (a tree) and ``meta``."""
    tensors: dict[str, torch.Tensor] = {}
    files = {MODEL_FILE: _model_bytes(model)}
    meta = {"format": FORMAT, "model": model_signature(model), **meta}
    if training is not None:
        meta["training"] = flatten(training, tensors)
        files[TENSORS_FILE] = safetensors_bytes(tensors)
    files[META_FILE] = json.dumps(meta, indent=1).encode()
    _replace_directory(directory, files)


def load(directory: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """``(model_state, meta)`` of a checkpoint; ``meta["training"]`` is the unflattened tree."""
    meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise CheckpointMismatchError(
            f"{directory} holds no seqlab.train checkpoint (format {meta.get('format')!r}): "
            "choose another out directory"
        )
    model_state = load_file(str(directory / MODEL_FILE))
    if "training" in meta:
        meta["training"] = unflatten(meta["training"], load_file(str(directory / TENSORS_FILE)))
    return model_state, meta


def exists(directory: Path) -> bool:
    """Whether ``directory`` holds a complete checkpoint (after `recover`)."""
    return (directory / META_FILE).is_file()


def recover(directory: Path) -> None:
    """Finish or undo a replacement that a killed run left half done.

    `save` renames the old checkpoint to ``.<name>.old`` before renaming the new one into place;
    if only the old one is there, it goes back. Leftover temporary directories are removed.
    """
    old = directory.parent / f".{directory.name}.old"
    if old.is_dir():
        if directory.is_dir():
            shutil.rmtree(old)
        else:
            os.rename(old, directory)
    for partial in directory.parent.glob(f".{directory.name}.*.part"):
        shutil.rmtree(partial, ignore_errors=True)


def _model_bytes(model: nn.Module) -> bytes:
    # copies: tied weights share storage, which safetensors refuses to write twice
    state = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}
    return safetensors_bytes(state)


def _replace_directory(directory: Path, files: dict[str, bytes]) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    recover(directory)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".part", dir=directory.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        for name, data in files.items():
            with atomic_write(tmp / name) as f:
                f.write(data)
        old = directory.parent / f".{directory.name}.old"
        if directory.exists():
            os.rename(directory, old)
        os.rename(tmp, directory)
        _sync_directory(directory.parent)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _sync_directory(path: Path) -> None:
    """Make the renames durable (a directory's entries are synced through its descriptor)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""Checkpoint files: safetensors + JSON round trips, atomic replacement, recovery."""

import json
import os
import random

import numpy as np
import pytest
import torch
from torch import nn

from seqlab.train import checkpoint, rng


def trained_adam():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_optimizer_scheduler_and_rng_states_round_trip_without_pickle(tmp_path):
    model, optimizer = trained_adam()
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "max")
    random.seed(1)
    np.random.seed(2)
    tree = {
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng.capture(),
    }
    draws = (random.random(), np.random.rand(), torch.rand(1))
    checkpoint.save(tmp_path / "last", model, {"note": "x"}, tree)
    raw = json.loads((tmp_path / "last" / "checkpoint.json").read_text())
    assert raw["training"]["optimizer"]["state"]["__items__"][0][0] == 0  # int keys kept
    assert raw["model"] == {"weight": [[2, 3], "float32"], "bias": [[2], "float32"]}
    state, meta = checkpoint.load(tmp_path / "last")
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    loaded = meta["training"]
    fresh = torch.optim.Adam(nn.Linear(3, 2).parameters())
    fresh.load_state_dict(loaded["optimizer"])
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9)
    for a, b in zip(
        optimizer.state_dict()["state"].values(), fresh.state_dict()["state"].values(), strict=True
    ):
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert loaded["scheduler"]["best"] == -float("inf")
    rng.restore(loaded["rng"])
    assert draws == (random.random(), np.random.rand(), torch.rand(1))


def test_unsupported_objects_are_refused_rather_than_pickled():
    with pytest.raises(TypeError, match=r"cannot store object at scheduler\.f"):
        checkpoint.flatten({"scheduler": {"f": object()}}, {})


def test_a_replacement_killed_between_the_renames_is_recovered(tmp_path, monkeypatch):
    model = nn.Linear(2, 2)
    target = tmp_path / "last"
    checkpoint.save(target, model, {"version": 1})
    real_rename, calls = os.rename, []

    def rename_then_die(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the new directory would now move into place
            raise KeyboardInterrupt
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename_then_die)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(target, model, {"version": 2})
    monkeypatch.undo()
    assert not target.exists()  # the moment of the kill: only the old one, set aside
    checkpoint.recover(target)
    assert checkpoint.load(target)[1]["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last"]  # no temporary directories left


def test_signature_differences_name_the_parameters():
    saved = checkpoint.model_signature(nn.Linear(3, 2))
    assert checkpoint.signature_differences(saved, nn.Linear(3, 2)) == []
    problems = checkpoint.signature_differences(saved, nn.Linear(4, 2))
    assert problems == ["weight: checkpoint [2, 3] float32, model [2, 4] float32"]
    problems = checkpoint.signature_differences(saved, nn.Sequential(nn.Linear(3, 2)))
    assert "missing in the model: weight" in problems

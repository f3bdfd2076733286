"""Names from a language (seqlab.tasks.generate, seqlab generate)."""

import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.tasks.classify_data import ClassificationData
from seqlab.tasks.generate import (
    GenerateInputError,
    GeneratorConfig,
    NameGenerator,
    train,
)

TINY = dict(embed_dim=8, condition_dim=4, hidden=24, epochs=6, batch_size=8, lr=2e-2)


def toy_data():
    """Two "languages" whose names differ from the first letter on."""
    xs = [f"X{a}{b}" for a in "aeiou" for b in "kmt"]
    qs = [f"Q{a}{b}" for a in "aeiou" for b in "rsz"]
    rows = [(n, 0) for n in xs] + [(n, 1) for n in qs]
    return ClassificationData("toy", ("Xish", "Qish"), rows, rows[::3], None, "char", {})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    torch.manual_seed(0)
    gen, summary = train(toy_data(), GeneratorConfig(**TINY), out, quiet=True)
    return gen, summary, out


def test_the_condition_changes_the_distribution(trained):
    gen, _, _ = trained
    xish = gen.sample("Xish", n=40, temperature=0.5, seed=1)
    qish = gen.sample("Qish", n=40, temperature=0.5, seed=1)
    assert np.mean([n.startswith("X") for n in xish]) > 0.8
    assert np.mean([n.startswith("Q") for n in qish]) > 0.8


def test_sampling_is_reproducible_and_greedy_is_deterministic(trained):
    gen, _, _ = trained
    assert gen.sample("Xish", 5, seed=3) == gen.sample("Xish", 5, seed=3)
    assert len(set(gen.sample("Qish", 5, temperature=0))) == 1
    assert gen.sample("xish", 2, seed=0) == gen.sample("Xish", 2, seed=0)  # any case


def test_beam_finds_names_at_least_as_probable_as_greedy(trained):
    gen, _, _ = trained
    for language in gen.labels:
        greedy = gen.beam(language, width=1)[0]
        best = gen.beam(language, width=4, n=3)
        assert best[0][1] >= greedy[1] - 1e-6
        assert [p for _, p in best] == sorted((p for _, p in best), reverse=True)


def test_held_out_likelihood_per_language(trained):
    gen, summary, _ = trained
    scores = gen.nll([("Xak", 0), ("Qez", 1)])
    assert set(scores["per_label"]) == {"Xish", "Qish"}
    assert all(math.isfinite(v) and v > 0 for v in scores["per_label"].values())
    assert math.isfinite(summary["valid_nats_per_char"])


def test_an_unknown_language_names_the_known_ones(trained):
    gen, _, _ = trained
    with pytest.raises(GenerateInputError, match="Xish, Qish"):
        gen.sample("Klingon")


def test_a_saved_generator_samples_the_same_names(trained, tmp_path):
    gen, _, out = trained
    loaded = NameGenerator.load(out)
    assert loaded.sample("Qish", 6, seed=2) == gen.sample("Qish", 6, seed=2)


def test_cli_samples_and_refuses_unknown_conditions(trained):
    _, _, out = trained
    runner = CliRunner()
    result = runner.invoke(
        main, ["generate", "sample", str(out), "--condition", "Qish", "--n", "3"]
    )
    assert result.exit_code == 0, result.output
    assert len(result.output.split()) == 3
    result = runner.invoke(
        main, ["generate", "sample", str(out), "--condition", "Qish", "--n", "2", "--beam", "3"]
    )
    assert result.exit_code == 0 and result.output.count("\t") == 2
    result = runner.invoke(main, ["generate", "sample", str(out), "--condition", "Elvish"])
    assert result.exit_code == 1 and "unknown condition 'Elvish'" in result.output
    result = runner.invoke(
        main, ["generate", "sample", str(out), "--condition", "Qish", "--temperature", "nan"]
    )
    assert result.exit_code == 2


def test_config_is_checked():
    with pytest.raises(GenerateInputError, match="condition"):
        GeneratorConfig(condition="sometimes")


def test_agreement_asks_the_judge_about_every_language(trained):
    from seqlab.tasks.classify import Classifier, ClassifierConfig
    from seqlab.tasks.classify_data import Tokenizer
    from seqlab.tasks.generate_eval import agreement

    gen, _, _ = trained
    data = toy_data()
    judge = Classifier.untrained(
        [n for n, _ in data.train],
        list(data.labels),
        ClassifierConfig(embed_dim=4, hidden=4),
        Tokenizer("char", lowercase=False, strip_markup=False),
    )
    result = agreement(gen, judge, n=10, known={n for n, _ in data.train})
    assert set(result["per_label"]) == {"Xish", "Qish"}
    assert 0 <= result["agreement"] <= 1 and 0 <= result["novel"] <= 1
    other = Classifier(judge.model, judge.tokenizer, judge.vocab, ["Xish", "Other"], judge.config)
    with pytest.raises(GenerateInputError, match="does not know Qish"):
        agreement(gen, other, n=2)

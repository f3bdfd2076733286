"""Several classifiers of one kind, trained from different seeds, voting by mean probability.

Recurrent classifiers trained on a few thousand sentences differ by a point or two from one
seed to the next (MR's validation accuracy spreads over 2 points across six seeds), and their
errors differ too: the mean of their class probabilities is right more often than a typical
member. `Ensemble` is that mean as one ``nn.Module`` with the members' interface, so that
`seqlab.tasks.classify.Classifier` (prediction, evaluation, saving, loading) and
`seqlab.tasks.explain` use an ensemble as they use one model:

- ``forward`` returns ``log(mean_m softmax(z_m))``, whose softmax is the mean of the members'
  probabilities;
- ``embedding`` looks a token up in every member's embedding and concatenates the vectors, and
  ``from_embedded`` hands each member its own part. Its gradient is that of the members' mean
  logit ``mean_m z_m``, not of the log-probability above, so gradient × input on the
  concatenated vectors is the mean of the members' attributions, on the scale of one model's:
  the log of a confident ensemble's probability hardly moves (its gradient is ``1 - p``), and
  would give every token of a clear review a score of nearly zero.

`train_ensemble` trains member i with seed ``seed + i`` into ``out/members/i`` (a model
directory with its own resumable ``training/``), then saves the ensemble into ``out``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import torch
from torch import nn

MEMBERS_DIR = "members"


class ConcatEmbedding(nn.Module):
    """The members' embeddings side by side: ``(B, T)`` ids -> ``(B, T, sum of their dims)``."""

    def __init__(self, embeddings: list[nn.Embedding]):
        super().__init__()
        self.parts = nn.ModuleList(embeddings)
        self.dims = [e.embedding_dim for e in embeddings]
        self.embedding_dim = sum(self.dims)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.cat([part(ids) for part in self.parts], dim=-1)


class Ensemble(nn.Module):
    """Members ``RNNClassifier``s whose class probabilities are averaged.

    Examples
    --------
    >>> from seqlab.tasks.classify import ClassifierConfig, RNNClassifier
    >>> members = [RNNClassifier(20, 2, ClassifierConfig(embed_dim=8, hidden=6, seed=s))
    ...            for s in (0, 1)]
    >>> ids, lengths = torch.tensor([[3, 4, 5]]), torch.tensor([3])
    >>> mean = sum(torch.softmax(m.eval()(ids, lengths), -1) for m in members) / 2
    >>> torch.allclose(torch.softmax(Ensemble(members).eval()(ids, lengths), -1), mean)
    True
    """

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        # not a registered submodule: the weights stay under members.i in the state_dict
        self.__dict__["embedding"] = ConcatEmbedding([m.embedding for m in members])

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.from_embedded(self.embedding(ids), lengths)

    def from_embedded(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``log`` of the mean of the members' probabilities, from concatenated embeddings.

        The value is the log of the mean probability; the gradient is that of the members'
        mean logit (see the module doc): an ensemble is explained, never trained as a whole.
        """
        parts = torch.split(x, self.embedding.dims, dim=-1)
        logits = torch.stack(
            [
                m.from_embedded(part, lengths).float()
                for m, part in zip(self.members, parts, strict=True)
            ]
        )
        log_mean = torch.logsumexp(torch.log_softmax(logits, -1), dim=0) - math.log(len(logits))
        mean_logit = logits.mean(0)
        return mean_logit + (log_mean - mean_logit).detach()


def member_dir(out, index: int) -> Path:
    return Path(out) / MEMBERS_DIR / str(index)


def combine(members: list, info: dict | None = None):
    """One `Classifier` averaging ``members`` (trained on the same data and vocabulary)."""
    from seqlab.tasks.classify import Classifier

    first = members[0]
    for other in members[1:]:
        if other.vocab.itos != first.vocab.itos or other.labels != first.labels:
            raise ValueError("ensemble members must share their vocabulary and classes")
    config = dataclasses.replace(first.config, ensemble=len(members))
    model = Ensemble([m.model for m in members]).eval()
    return Classifier(model, first.tokenizer, first.vocab, first.labels, config, info)


def train_ensemble(data, config, out, tokenizer=None, quiet: bool = False, device: str = "cpu"):
    """Train ``config.ensemble`` members (seeds ``seed``, ``seed + 1``, …) and save their mean.

    Each member is trained by `seqlab.tasks.classify.train` into ``out/members/i`` and resumes
    there: calling again after an interruption continues with the unfinished member, and a
    larger ``config.ensemble`` adds members to the ones already trained. The ensemble's
    validation accuracy is measured once all members are done. Returns ``(classifier,
    summary)`` as `train` does, with each member's validation accuracy in the summary.
    """
    from seqlab.tasks.classify import evaluate, train

    out = Path(out)
    members, summaries = [], []
    for i in range(config.ensemble):
        member_config = dataclasses.replace(config, ensemble=1, seed=config.seed + i)
        if not quiet:
            print(f"member {i + 1} of {config.ensemble} (seed {member_config.seed})", flush=True)
        clf, summary = train(data, member_config, member_dir(out, i), tokenizer, quiet, device)
        if not summary:  # torchrun: ranks other than 0 save nothing
            return clf, {}
        members.append(clf)
        summaries.append(summary)
    ensemble = combine(members)
    valid_accuracy = evaluate(ensemble, data.valid)["accuracy"]
    train_time = sum(s["train_time_s"] for s in summaries)
    examples = sum(s["train_examples"] * s["epochs_run"] for s in summaries)
    summary = {
        "dataset": data.name,
        "valid_accuracy": valid_accuracy,
        "members_valid_accuracy": [s["valid_accuracy"] for s in summaries],
        "best_epoch": [s["best_epoch"] for s in summaries],
        "epochs_run": sum(s["epochs_run"] for s in summaries),
        "train_examples": summaries[0]["train_examples"],
        "vocab_size": summaries[0]["vocab_size"],
        "prepare_s": sum(s["prepare_s"] for s in summaries),
        "train_time_s": train_time,
        "examples_per_s": examples / max(train_time, 1e-9),
    }
    ensemble.info = {**summary, "source": data.source}
    ensemble.save(out)
    return ensemble, summary

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

`seqlab.tasks.classify.train_ensemble` trains member i with seed ``seed + i`` into
``out/members/i`` (`member_dir`: a model directory with its own resumable ``training/``), then
saves the ensemble into ``out``; `seqlab.tasks.classify.combine` makes one from trained members.
"""

from __future__ import annotations

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

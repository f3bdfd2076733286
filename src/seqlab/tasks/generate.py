"""One-to-many: a name, character by character, from one input — the language it should sound like.

The model (`ConditionalCharRNN`)::

    language -> embedding c (C) -> tanh(linear) = the recurrent layers' initial state
    <bos> n a m e -> char embedding, with c appended at every step -> GRU / LSTM -> linear
                  -> n a m e <eos>  (cross-entropy at every step)

``condition="init"`` only starts the state from the language, ``"input"`` only feeds it at
every step, ``"both"`` (the default) does both: a language given only at the start fades over
a long name. `NameGenerator` is the trained model with its characters and languages: it samples
names (temperature, top-k, top-p, seed; `seqlab.tasks.sampling`), finds the most probable ones
by beam search (`seqlab.tasks.beam`) and scores held-out names (negative
log-likelihood per character, ``<eos>`` included). `train` uses the names classifier's
de-duplicated split (`seqlab.tasks.classify_data`), so no test name was seen in training and
the classifier that judges the samples (`seqlab.tasks.generate_eval`) learned from the same
names.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqlab import nn as seqnn
from seqlab.tasks import model_dir
from seqlab.tasks.beam import beam_search
from seqlab.tasks.sampling import check_options, sample
from seqlab.text import Vocab
from seqlab.text.vocab import BOS, EOS, PAD, UNK
from seqlab.train import ResumableBatchSampler, TrainConfig, Trainer

TASK = "generate"
CELLS = ("gru", "lstm")
CONDITIONS = ("init", "input", "both")
SPECIALS = (PAD, UNK, BOS, EOS)
#: Longest name sampled (the longest training name has 20 characters).
MAX_LEN = 24


class GenerateInputError(ValueError):
    """A condition, option or text the generator cannot work with; the message says the fix."""


@dataclass(frozen=True)
class GeneratorConfig:
    """Model and training settings (saved with the model)."""

    cell: str = "gru"
    condition: str = "both"
    embed_dim: int = 32
    condition_dim: int = 32
    hidden: int = 256
    layers: int = 1
    dropout: float = 0.1
    batch_size: int = 64
    lr: float = 3e-3
    epochs: int = 20
    patience: int | None = 3
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.cell in CELLS, "cell", f"one of {CELLS}"),
            (self.condition in CONDITIONS, "condition", f"one of {CONDITIONS}"),
            (min(self.embed_dim, self.condition_dim, self.hidden) >= 1, "sizes", ">= 1"),
            (self.layers >= 1, "layers", ">= 1"),
            (0 <= self.dropout < 1, "dropout", "in [0, 1)"),
            (self.lr > 0 and math.isfinite(self.lr), "lr", "a finite number > 0"),
            (self.epochs >= 1 and self.batch_size >= 1, "epochs and batch_size", ">= 1"),
        ]
        for ok, name, expected in checks:
            if not ok:
                raise GenerateInputError(f"GeneratorConfig.{name} must be {expected}")


class ConditionalCharRNN(nn.Module):
    """Characters of a sequence, conditioned on one class id (see the module docstring).

    ``forward(ids, condition, lengths)`` returns the logits ``(B, T, V)`` of the next character
    at every step (teacher forcing); `run` does the same from a given state and returns the new
    state, one step at a time when decoding.

    Examples
    --------
    >>> model = ConditionalCharRNN(10, 3, GeneratorConfig(embed_dim=4, condition_dim=2, hidden=5))
    >>> model(torch.tensor([[2, 5, 6], [2, 7, 0]]), torch.tensor([0, 2])).shape
    torch.Size([2, 3, 10])
    """

    def __init__(self, vocab_size: int, n_conditions: int, config: GeneratorConfig):
        super().__init__()
        self.config = c = config
        self.embedding = nn.Embedding(vocab_size, c.embed_dim, padding_idx=0)
        self.conditions = nn.Embedding(n_conditions, c.condition_dim)
        states = c.layers * (2 if c.cell == "lstm" else 1)
        self.init = nn.Linear(c.condition_dim, states * c.hidden)
        feed = c.condition_dim if c.condition in ("input", "both") else 0
        layer = seqnn.GRU if c.cell == "gru" else seqnn.LSTM
        self.rnn = layer(
            c.embed_dim + feed,
            c.hidden,
            num_layers=c.layers,
            batch_first=True,
            dropout=c.dropout if c.layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.hidden, vocab_size)

    def initial_state(self, condition: torch.Tensor):
        """The recurrent layers' state before ``<bos>``: from the condition, or zeros."""
        c = self.config
        batch = condition.shape[0]
        if c.condition == "input":
            zeros = torch.zeros(c.layers, batch, c.hidden, device=condition.device)
            return (zeros, zeros.clone()) if c.cell == "lstm" else zeros
        start = torch.tanh(self.init(self.conditions(condition)))  # (B, states·H)
        start = start.view(batch, -1, c.hidden).transpose(0, 1).contiguous()
        if c.cell == "lstm":
            return start[: c.layers].contiguous(), start[c.layers :].contiguous()
        return start

    def run(self, ids: torch.Tensor, condition: torch.Tensor, state, lengths=None):
        """Logits ``(B, T, V)`` and the new state, from ``state``."""
        x = self.embedding(ids)
        if self.config.condition in ("input", "both"):
            cond = self.conditions(condition)[:, None, :].expand(-1, ids.shape[1], -1)
            x = torch.cat([x, cond], dim=-1)
        outputs, state = self.rnn(self.dropout(x), state, lengths=lengths)
        return self.out(self.dropout(outputs)), state

    def forward(self, ids, condition, lengths=None):
        lengths = None if lengths is None else lengths.cpu()
        return self.run(ids, condition, self.initial_state(condition), lengths)[0]


def rows_first(state):
    """A recurrent state ``(L, B, H)`` (or an LSTM's pair) as ``(B, L, H)``, and back: the
    layout `seqlab.tasks.beam` reorders."""
    if isinstance(state, tuple):
        return tuple(s.transpose(0, 1).contiguous() for s in state)
    return state.transpose(0, 1).contiguous()


class NameGenerator:
    """A trained `ConditionalCharRNN` with its characters and class names (languages).

    Examples
    --------
    >>> gen = NameGenerator.untrained(["Abe", "Kim"], ["English", "Korean"],
    ...                               GeneratorConfig(embed_dim=4, condition_dim=2, hidden=8))
    >>> names = gen.sample("Korean", n=3, seed=1)
    >>> len(names), all(set(n) <= set("AbeKim") for n in names)
    (3, True)
    """

    def __init__(self, model: ConditionalCharRNN, vocab: Vocab, labels, info=None):
        self.model, self.vocab, self.labels = model, vocab, tuple(labels)
        self.config, self.info = model.config, dict(info or {})
        self.bos, self.eos = vocab.stoi[BOS], vocab.stoi[EOS]
        self.banned = [vocab.stoi[t] for t in (PAD, UNK, BOS)]

    @classmethod
    def untrained(cls, names, labels, config: GeneratorConfig) -> NameGenerator:
        """A fresh model whose characters are those of ``names``."""
        vocab = Vocab.from_iterable((list(n) for n in names), specials=SPECIALS)
        torch.manual_seed(config.seed)
        return cls(ConditionalCharRNN(len(vocab), len(labels), config), vocab, labels)

    # --- conditions and names -> tensors ---

    def condition_id(self, condition: str) -> int:
        """The id of a language, matched case-insensitively; `GenerateInputError` if unknown."""
        lowered = {label.lower(): i for i, label in enumerate(self.labels)}
        if not isinstance(condition, str) or condition.strip().lower() not in lowered:
            raise GenerateInputError(
                f"unknown condition {condition!r}: the model knows {', '.join(self.labels)}"
            )
        return lowered[condition.strip().lower()]

    def encode(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(inputs, targets)``: ``<bos> n a m e`` and ``n a m e <eos>``."""
        ids = self.vocab.encode(list(name.strip()), bos=True, eos=True)
        return ids[:-1], ids[1:]

    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    # --- generation ---

    @torch.no_grad()
    def sample(
        self,
        condition: str,
        n: int = 10,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int = 0,
        max_len: int = MAX_LEN,
    ) -> list[str]:
        """``n`` names drawn for ``condition`` (``temperature=0``: the greedy name, n times).

        All ``n`` are drawn together, one step for all of them at a time; the same ``seed``
        gives the same names.
        """
        if not (isinstance(n, int) and n >= 1):
            raise GenerateInputError(f"n must be an int >= 1, got {n}")
        check_options(temperature, top_k, top_p)
        cond = torch.full((n,), self.condition_id(condition), device=self._device())
        self.model.eval()
        generator = torch.Generator(device=cond.device).manual_seed(seed)
        state = self.model.initial_state(cond)
        tokens = torch.full((n, 1), self.bos, device=cond.device)
        out = torch.zeros(n, max_len, dtype=torch.long)
        done = torch.zeros(n, dtype=torch.bool)
        for t in range(max_len):
            logits, state = self.model.run(tokens, cond, state)
            logits = logits[:, -1].float()
            logits[:, self.banned] = -math.inf
            token = sample(logits, temperature, top_k, top_p, generator)
            out[:, t] = torch.where(done, self.eos, token.cpu())
            done |= token.cpu() == self.eos
            if done.all():
                break
            tokens = token[:, None]
        return [self.decode(row) for row in out.tolist()]

    @torch.no_grad()
    def beam(self, condition: str, width: int = 5, n: int = 1, max_len: int = MAX_LEN):
        """The ``n`` most probable names for ``condition`` (n <= width), with their
        log-probabilities, best first."""
        cond = torch.tensor([self.condition_id(condition)], device=self._device())
        self.model.eval()

        def step(tokens, state):
            rows = cond.expand(tokens.shape[0])
            logits, state = self.model.run(tokens[:, None], rows, rows_first(state))
            logp = torch.log_softmax(logits[:, -1].float(), -1)
            logp[:, self.banned] = -math.inf
            return logp, rows_first(state)

        found = beam_search(
            step,
            rows_first(self.model.initial_state(cond)),
            batch_size=1,
            bos=self.bos,
            eos=self.eos,
            beam=width,
            max_len=max_len,
            length_penalty=0.0,
        )
        return [(self.decode(tokens), score) for tokens, score in found.n_best[0][:n]]

    def decode(self, ids) -> str:
        """The characters before the first ``<eos>``."""
        chars = []
        for i in ids:
            if i == self.eos:
                break
            chars.append(self.vocab.itos[i])
        return "".join(chars)

    # --- scoring ---

    @torch.no_grad()
    def nll(self, examples, batch_size: int = 512) -> dict:
        """Nats per character (``<eos>`` counts as one) of ``(name, label)`` pairs, per label."""
        self.model.eval()
        nats = np.zeros(len(self.labels))
        chars = np.zeros(len(self.labels), dtype=np.int64)
        for ids, cond, lengths, targets in collate_batches(self, examples, batch_size):
            logits = self.model(ids.to(self._device()), cond.to(self._device()), lengths)
            loss = nn.functional.cross_entropy(
                logits.transpose(1, 2).float(), targets.to(logits.device), reduction="none"
            )
            np.add.at(nats, cond.numpy(), loss.sum(1).cpu().numpy())
            np.add.at(chars, cond.numpy(), (targets != -100).sum(1).numpy())
        per = {label: float(nats[i] / chars[i]) for i, label in enumerate(self.labels) if chars[i]}
        total = float(nats.sum() / max(chars.sum(), 1))
        return {"nats_per_char": total, "chars": int(chars.sum()), "per_label": per}

    # --- persistence ---

    def save(self, path) -> Path:
        settings = {
            "config": dataclasses.asdict(self.config),
            "labels": list(self.labels),
            "info": self.info,
        }
        return model_dir.save(path, TASK, settings, self.model.state_dict(), self.vocab)

    @classmethod
    def load(cls, path, device: str = "cpu") -> NameGenerator:
        settings, state, vocab = model_dir.load(path, TASK)
        try:
            config = GeneratorConfig(**settings["config"])
            labels = settings["labels"]
            model = ConditionalCharRNN(len(vocab), len(labels), config)
            model.load_state_dict(state)
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            raise model_dir.settings_mismatch(path, e) from None
        return cls(model.to(device).eval(), vocab, labels, settings.get("info"))


# --- batches ---


def collate(batch) -> tuple[torch.Tensor, ...]:
    """``(ids (B, T), condition (B,), lengths (B,), targets (B, T))``; targets padded with -100."""
    lengths = torch.tensor([len(x) for x, _, _ in batch])
    ids = torch.zeros(len(batch), int(lengths.max()), dtype=torch.long)
    targets = torch.full_like(ids, -100)
    for row, (x, _, y) in enumerate(batch):
        ids[row, : len(x)] = torch.from_numpy(x)
        targets[row, : len(y)] = torch.from_numpy(y)
    condition = torch.tensor([c for _, c, _ in batch])
    return ids, condition, lengths, targets


def encode_examples(gen: NameGenerator, examples) -> list:
    return [(*gen.encode(name), label) for name, label in examples if name.strip()]


def collate_batches(gen: NameGenerator, examples, batch_size: int):
    encoded = [(x, label, y) for x, y, label in encode_examples(gen, examples)]
    for start in range(0, len(encoded), batch_size):
        yield collate(encoded[start : start + batch_size])


def loader(gen: NameGenerator, examples, batch_size: int, shuffle: bool, seed: int):
    encoded = [(x, label, y) for x, y, label in encode_examples(gen, examples)]
    sampler = ResumableBatchSampler(
        [len(x) for x, _, _ in encoded], batch_size, shuffle=shuffle, seed=seed
    )
    return torch.utils.data.DataLoader(encoded, batch_sampler=sampler, collate_fn=collate)


# --- training ---


def train(data, config: GeneratorConfig, out, quiet: bool = False, device: str = "cpu"):
    """Train on ``data.train`` (``(name, label)`` pairs), keep the epoch best on ``data.valid``.

    ``data`` is a `seqlab.tasks.classify_data.ClassificationData`. ``out/training`` holds the
    Trainer's checkpoints: calling again with the same ``out`` resumes. Returns the generator
    and a summary (validation nats per character, epochs, time).
    """
    out = Path(out)
    gen = NameGenerator.untrained([n for n, _ in data.train], data.labels, config)
    optimizer = torch.optim.Adam(gen.model.parameters(), lr=config.lr)
    train_config = TrainConfig(
        epochs=config.epochs,
        patience=config.patience,
        metric="loss",
        seed=config.seed,
        device=device,
        quiet=quiet,
        clip_norm=5.0,
        item_name="chars",
    )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    trainer = Trainer(
        gen.model, nn.CrossEntropyLoss(), optimizer, train_config, scheduler=scheduler
    )
    history = trainer.fit(
        loader(gen, data.train, config.batch_size, True, config.seed),
        loader(gen, data.valid, 512, False, config.seed),
        out=out / "training",
    )
    best = next(r for r in history.epochs if r["epoch"] == history.best_epoch)
    train_time = sum(r.get("train_time_s", 0.0) for r in history.epochs)
    summary = {
        "dataset": data.name,
        "valid_nats_per_char": best["valid_loss"],
        "best_epoch": history.best_epoch,
        "epochs_run": len(history.epochs),
        "train_names": len(data.train),
        "train_time_s": train_time,
    }
    gen.info = {**summary, "source": data.source}
    gen.model.eval()
    gen.save(out)
    return gen, summary

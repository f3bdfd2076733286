"""Language models: an output at every step, trained with truncated backpropagation through time.

The model is embedding → seqlab.nn LSTM / GRU / RNN → linear over the vocabulary, with dropout
on the non-recurrent connections only (input, between layers, output: Zaremba et al. 2014) and,
optionally, the output layer sharing the embedding's weights (Press & Wolf 2017).

Training reads each split as one long stream of ids cut into B parallel streams (`StreamWindows`):
batch j is window j — columns ``j·T … j·T+T-1`` — of every stream, so each row of a batch
continues the same row of the batch before. `TruncatedBPTT` is the Trainer's ``step``: it feeds
the hidden state of the previous window back in, detached (gradients flow through at most T
steps), and starts from zeros at each pass over a loader (``reset``). Its ``state_dict`` holds
the carried state, so a run killed mid-epoch resumes exactly: the Trainer restores the state
and `ResumableBatchSampler` (no shuffling) restarts at the next window.

Under torchrun the streams are B · world: the sampler deals window j's streams out to the ranks
(rank r takes streams r, r+W, …), the same ones for every window, so each rank carries its own
streams' state.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import seqlab.nn
from seqlab.tasks import model_dir
from seqlab.tasks.lm_data import EOS, LMData, LMDataError
from seqlab.tasks.sampling import check_options, sample
from seqlab.text import Vocab
from seqlab.train import ResumableBatchSampler

TASK = "lm"
TIED = "decoder.weight"  # the embedding matrix again when weights are tied
CELLS = ("lstm", "gru", "rnn")


class LMInputError(ValueError):
    """Settings or inputs a language model cannot work with; the message says the fix."""


@dataclass(frozen=True)
class LMConfig:
    """Model and training settings (saved with the model)."""

    level: str = "char"
    cell: str = "lstm"
    embed_dim: int = 64
    hidden: int = 512
    layers: int = 2
    dropout: float = 0.2
    tie_weights: bool = False
    init_range: float | None = None  # uniform(-r, r) for every weight (Zaremba: 0.1)
    batch_size: int = 64
    bptt: int = 100
    epochs: int = 8
    optimizer: str = "adam"
    lr: float = 2e-3
    decay: float = 0.5  # lr factor per epoch after the first `decay_after` epochs
    decay_after: int = 5
    clip: float = 5.0
    seed: int = 0
    backend: str = "seqlab"  # "torch": the same model on torch.nn (benchmarks)

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise LMInputError(what)

        need(self.level in ("char", "word"), f"level must be char or word, not {self.level!r}")
        need(self.cell in CELLS, f"cell must be one of {', '.join(CELLS)}, not {self.cell!r}")
        need(self.backend in ("seqlab", "torch"), "backend must be seqlab or torch")
        need(self.optimizer in ("sgd", "adam"), "optimizer must be sgd or adam")
        for name in ("embed_dim", "hidden", "layers", "batch_size", "bptt", "epochs"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        need(0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}")
        need(self.lr > 0 and math.isfinite(self.lr), f"lr must be > 0, got {self.lr}")
        need(0 < self.decay <= 1, f"decay must be in (0, 1], got {self.decay}")
        need(self.decay_after >= 0, f"decay_after must be >= 0, got {self.decay_after}")
        need(self.clip > 0, f"clip must be > 0, got {self.clip}")
        need(
            not self.tie_weights or self.embed_dim == self.hidden,
            f"tied weights need embed_dim == hidden (got {self.embed_dim} and {self.hidden}): "
            "set both to the same size, or do not tie",
        )


#: Defaults per level. Words: Zaremba et al. 2014 "small" (PTB: 2×200, T=20, B=20, uniform
#: ±0.1 init, SGD lr 1 halved after each epoch from epoch 5 on, clip 5, 13 epochs, no dropout)
#: plus tied weights. Zaremba's loss is summed over the T steps of a window (averaged over the
#: batch); ours is the mean over all B·T tokens, whose gradient is T times smaller, so the same
#: updates need lr 1·T = 20 and a clipping norm of 5/T = 0.25 (torch's word_language_model uses
#: the same pair). Characters: the `LMConfig` defaults, a 2×512 LSTM (T=100, B=64, Adam 2e-3
#: halved after each epoch from epoch 6 on, dropout 0.2, 8 epochs), sized for an hour on 2 cores.
PRESETS = {
    "word": dict(
        level="word",
        embed_dim=200,
        hidden=200,
        layers=2,
        dropout=0.0,
        tie_weights=True,
        init_range=0.1,
        batch_size=20,
        bptt=20,
        epochs=13,
        optimizer="sgd",
        lr=20.0,
        decay=0.5,
        decay_after=4,
        clip=0.25,
    ),
    "char": dict(level="char"),
}


def config_for(level: str, **overrides) -> LMConfig:
    """The preset of ``level`` with ``overrides`` (None values are ignored)."""
    return LMConfig(**{**PRESETS[level], **{k: v for k, v in overrides.items() if v is not None}})


class LanguageModel(nn.Module):
    """Embedding → dropout → recurrent layers (dropout between them) → dropout → linear.

    ``forward(ids (B, T), state) -> (logits (B, T, V), state)``; ``state`` is None (zeros),
    ``h`` (RNN, GRU) or ``(h, c)`` (LSTM), each (layers, B, hidden), as the layer returns it.

    Examples
    --------
    >>> model = LanguageModel(30, LMConfig(embed_dim=8, hidden=8, layers=2, tie_weights=True))
    >>> logits, (h, c) = model(torch.randint(0, 30, (4, 5)))
    >>> tuple(logits.shape), tuple(h.shape), model.decoder.weight is model.embedding.weight
    ((4, 5, 30), (2, 4, 8), True)
    """

    def __init__(self, vocab_size: int, config: LMConfig) -> None:
        super().__init__()
        self.config = config
        layers = seqlab.nn if config.backend == "seqlab" else nn
        rnn_class = {"lstm": layers.LSTM, "gru": layers.GRU, "rnn": layers.RNN}[config.cell]
        self.embedding = nn.Embedding(vocab_size, config.embed_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = rnn_class(
            config.embed_dim,
            config.hidden,
            config.layers,
            batch_first=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.decoder = nn.Linear(config.hidden, vocab_size)
        if config.init_range is not None:
            for p in self.parameters():
                nn.init.uniform_(p, -config.init_range, config.init_range)
        if config.tie_weights:
            self.decoder.weight = self.embedding.weight

    def forward(self, ids: torch.Tensor, state=None):
        x = self.dropout(self.embedding(ids))
        output, state = self.rnn(x, state)
        return self.decoder(self.dropout(output)), state


def detach(state):
    """The state with its history cut: the next window's gradient stops here."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class StreamWindows(torch.utils.data.Dataset):
    """One id stream as ``streams`` parallel streams, read in windows of ``bptt`` steps.

    Item ``j · streams + s`` is window j of stream s: ``(input, target)``, each of ``bptt`` ids
    (the last window may be shorter), target = input shifted by one. Batching ``streams``
    consecutive items in order gives window j of all streams: use `loader`.

    Examples
    --------
    >>> windows = StreamWindows(np.arange(11), streams=2, bptt=3)
    >>> windows.inputs.tolist()
    [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    >>> len(windows), [x.tolist() for x in windows[2]]  # window 1 of stream 0
    (4, [[3, 4], [4, 5]])
    """

    def __init__(self, ids: np.ndarray, streams: int, bptt: int) -> None:
        ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
        length = (len(ids) - 1) // streams
        if length < 1:
            raise LMDataError(
                f"{len(ids)} tokens cannot fill {streams} streams (each needs an input and its "
                f"next token: at least {streams + 1} tokens): give a longer text or a smaller "
                "--batch-size"
            )
        self.streams, self.bptt, self.length = streams, bptt, length
        self.inputs = ids[: streams * length].view(streams, length)
        self.targets = ids[1 : streams * length + 1].view(streams, length)
        self.windows = math.ceil(length / bptt)

    def __len__(self) -> int:
        return self.windows * self.streams

    def __getitem__(self, index: int):
        window, stream = divmod(index, self.streams)
        cols = slice(window * self.bptt, (window + 1) * self.bptt)
        return self.inputs[stream, cols], self.targets[stream, cols]

    @property
    def tokens(self) -> int:
        """Targets scored in one pass: the stream's tokens less at most ``streams`` at the end."""
        return self.streams * self.length


def loader(ids: np.ndarray, batch_size: int, bptt: int, world_size: int = 1):
    """Batches ``(inputs (B, T), targets (B, T))``: window after window, never shuffled.

    ``batch_size`` is per process; the streams are ``batch_size · world_size``, and
    `ResumableBatchSampler` gives each rank the same streams of every window.
    """
    windows = StreamWindows(ids, batch_size * world_size, bptt)
    sampler = ResumableBatchSampler(len(windows), batch_size, shuffle=False)
    return torch.utils.data.DataLoader(windows, batch_sampler=sampler)


class TruncatedBPTT:
    """The Trainer's ``step`` and ``evaluate`` for stream batches, carrying the hidden state.

    Each call runs one window from the state the previous window left (zeros after `reset`,
    which the Trainer calls before each pass over a loader), keeps the new state detached, and
    returns the mean cross-entropy over the window's tokens. ``evaluate`` keeps a state of its
    own, so validation never disturbs training. ``state_dict`` / ``load_state_dict`` save and
    restore the training state with each checkpoint (exact mid-epoch resume).
    """

    def __init__(self, level: str = "word") -> None:
        self.level = level
        self.state = None
        self.eval_state = None

    def reset(self) -> None:
        self.state = self.eval_state = None

    def __call__(self, model: nn.Module, batch) -> tuple[torch.Tensor, int]:
        inputs, targets = batch
        logits, state = model(inputs, _on(self.state, inputs.device))
        self.state = detach(state)
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten()), targets.numel()

    def evaluate(self, model: nn.Module, batch) -> dict:
        inputs, targets = batch
        logits, self.eval_state = model(inputs, self.eval_state)
        nats = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="sum")
        metrics = {"loss": (nats, targets.numel())}
        if self.level == "char":
            metrics["bits_per_char"] = (nats / math.log(2), targets.numel())
        return metrics

    def state_dict(self) -> dict:
        if self.state is None:
            return {}
        parts = self.state if isinstance(self.state, tuple) else (self.state,)
        return {f"state{i}": s.cpu() for i, s in enumerate(parts)}

    def load_state_dict(self, saved: dict) -> None:
        parts = tuple(saved[f"state{i}"] for i in range(len(saved)))
        self.state = None if not parts else parts[0] if len(parts) == 1 else parts


def _on(state, device: torch.device):
    """A restored state (saved on the CPU) on the batch's device."""
    if state is None or (state[0] if isinstance(state, tuple) else state).device == device:
        return state
    return tuple(s.to(device) for s in state) if isinstance(state, tuple) else state.to(device)


class HoldThenDecay:
    """Learning-rate factor of epoch e: 1 for the first ``hold`` epochs, then ``decay``^(e-hold+1).

    A callable object, not a lambda, so that LambdaLR saves it in the checkpoint.

    >>> [HoldThenDecay(4, 0.5)(e) for e in range(7)]
    [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125]
    """

    def __init__(self, hold: int, decay: float) -> None:
        self.hold, self.decay = hold, decay

    def __call__(self, epoch: int) -> float:
        return float(self.decay ** max(0, epoch - self.hold + 1))


def optimizer_and_schedule(model: nn.Module, config: LMConfig):
    """SGD or Adam at ``lr``, with the factor of `HoldThenDecay` applied per epoch."""
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    hold = HoldThenDecay(config.decay_after, config.decay)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, hold)


# --- a trained model: weights, vocabulary, settings ---


class TrainedLM:
    """A language model with its vocabulary: scores token streams, samples text, saves itself."""

    def __init__(self, model: LanguageModel, vocab: Vocab, source: dict, info: dict | None = None):
        self.model, self.vocab, self.source, self.info = model, vocab, source, info or {}
        self.config = model.config

    def save(self, path) -> Path:
        settings = {
            "config": dataclasses.asdict(self.config),
            "source": self.source,
            "info": self.info,
        }
        state = self.model.state_dict()
        if self.config.tie_weights:  # one tensor under two names: safetensors stores it once
            del state[TIED]
        return model_dir.save(path, TASK, settings, state, self.vocab)

    @classmethod
    def load(cls, path, device: str = "cpu") -> TrainedLM:
        settings, state, vocab = model_dir.load(path, TASK)
        try:
            config = LMConfig(**{**settings["config"], "backend": "seqlab"})
            model = LanguageModel(len(vocab), config)
            if config.tie_weights:
                state[TIED] = state["embedding.weight"]
            model.load_state_dict(state)
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            raise model_dir.settings_mismatch(path, e) from None
        return cls(model.to(device).eval(), vocab, settings["source"], settings.get("info"))

    @classmethod
    def untrained(cls, data: LMData, config: LMConfig) -> TrainedLM:
        torch.manual_seed(config.seed)
        return cls(LanguageModel(len(data.vocab), config), data.vocab, data.source)

    # --- scoring ---

    @torch.no_grad()
    def score(self, ids: np.ndarray, batch_size: int = 1, bptt: int = 200) -> dict:
        """Mean nats per token over ``ids`` (state carried through each of the streams).

        ``batch_size=1`` scores every token with the whole text before it, as the published
        figures do; more streams are faster and lose the context at each stream's start.
        """
        step = TruncatedBPTT(self.config.level)
        self.model.eval()
        device = next(self.model.parameters()).device
        nats, count = 0.0, 0
        for inputs, targets in loader(ids, batch_size, bptt):
            result = step.evaluate(self.model, (inputs.to(device), targets.to(device)))
            nats += float(result["loss"][0])
            count += result["loss"][1]
        return metrics_of(nats / count, count, self.config.level)

    # --- generation ---

    def encode_prompt(self, prompt: str) -> tuple[list[int], list[str]]:
        """Prompt ids, read from a line end, and the tokens the model never saw.

        Characters the vocabulary lacks are left out; words it lacks become ``<unk>``. The ids
        start with a line end (``<eos>`` for words, ``\\n`` for characters, when the vocabulary
        has it): generation starts from a zero state, which in training only ever preceded the
        start of a stream, so a prompt such as ``ROMEO:`` read from nothing is text the model
        never saw (a character model then writes ``ZZZ…``), while after a line end it is the
        start of a speech. An empty prompt is the line end alone.
        """
        if self.config.level == "char":
            tokens = list(prompt)
            unknown = [t for t in tokens if t not in self.vocab]
            ids = [self.vocab.stoi[t] for t in tokens if t in self.vocab]
        else:
            tokens = prompt.split()
            unknown = [t for t in tokens if t not in self.vocab]
            ids = self.vocab.encode(tokens).tolist() if tokens else []
        line_end = self.vocab.stoi.get(EOS if self.config.level == "word" else "\n")
        if line_end is not None and ids[:1] != [line_end]:
            ids = [line_end, *ids]
        if not ids:
            ids = [int(np.argmax(self.vocab.counts))]
        return ids, unknown

    @torch.no_grad()
    def generate(
        self,
        prompt_ids: list[int],
        tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int = 0,
    ) -> Iterator[str]:
        """Yield the text of ``tokens`` new tokens, one at a time, as they are drawn.

        The prompt runs through the model once; then each step feeds only the last token and
        the carried state (no re-running of the prefix). ``temperature=0`` is greedy; the same
        ``seed`` gives the same text.
        """
        if not isinstance(tokens, int) or tokens < 0:
            raise LMInputError(f"tokens must be an int >= 0, got {tokens}")
        check_options(temperature, top_k, top_p)
        self.model.eval()
        device = next(self.model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(seed)
        logits, state = self.model(torch.tensor([prompt_ids], device=device))
        for _ in range(tokens):
            token = sample(logits[:, -1], temperature, top_k, top_p, generator)
            yield self.text_of(int(token))
            logits, state = self.model(token.view(1, 1), state)

    def text_of(self, token_id: int) -> str:
        """A token as text: a character as is; a word with a space before, ``<eos>`` a line end."""
        token = self.vocab.itos[token_id]
        if self.config.level == "char":
            return token
        return "\n" if token == EOS else " " + token


def metrics_of(nats: float, tokens: int, level: str) -> dict:
    """Loss in nats per token, perplexity, and for characters bits per character."""
    metrics = {"tokens": tokens, "nats_per_token": nats, "perplexity": math.exp(min(nats, 700))}
    if math.isnan(nats):
        metrics["perplexity"] = math.nan  # NaN stays NaN
    if level == "char":
        metrics["bits_per_char"] = nats / math.log(2)
    return metrics

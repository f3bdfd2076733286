"""Image captioning, one-to-many: a picture in, a sentence out, word by word.

The model (`CaptionNet`) is Show and Tell (Vinyals et al. 2015) with a small CNN trained from
scratch, and optionally the soft attention of Show, Attend and Tell (Xu et al. 2015)::

    picture (S, S, 3) -> 3 × [conv 3×3, batch norm, ReLU, max-pool 2] -> grid (S/8 · S/8, C)
    grid + a learned embedding of each cell's position (what attention reads: where, not only what)
    mean of the grid -> tanh(linear) = the decoder's initial state (h0, and c0 for an LSTM)
    <bos> w1 w2 … -> embedding -> LSTM / GRU (seqlab.nn) -> linear -> w1 w2 … <eos>

With ``attention=True`` each step also looks at the grid: scores ``v·tanh(W_f f_i + W_h h)``
over the grid cells, softmax, their weighted mean (the context) is appended to the word's
embedding, and the step runs through a seqlab.nn cell (one step at a time). The weights of
each step are what ``seqlab caption image --attention`` draws.

A training example is one picture with all its reference captions: the picture is encoded once
and its grid is shared by its captions (``owner`` maps each caption to its picture), so a
pass costs one CNN forward per picture rather than per caption. `Captioner` is the trained
model with its vocabulary: greedy and beam-search decoding, saved as a model directory.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqlab import nn as seqnn
from seqlab.tasks import model_dir
from seqlab.tasks.beam import beam_search
from seqlab.tasks.generate import rows_first
from seqlab.text import Vocab
from seqlab.text.vocab import BOS, EOS, PAD, UNK
from seqlab.train import ResumableBatchSampler, TrainConfig, Trainer

TASK = "caption"
SPECIALS = (PAD, UNK, BOS, EOS)
#: beam search ranks finished captions by log-probability / length**alpha (mean per word)
LENGTH_PENALTY = 1.0
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


class CaptionInputError(ValueError):
    """Settings, pictures or captions the captioner cannot work with; the message says the fix."""


def words(caption: str) -> list[str]:
    """Lowercased words of a caption, punctuation dropped (as BLEU is scored here).

    >>> words("A dog's ball, in the grass .")
    ['a', "dog's", 'ball', 'in', 'the', 'grass']
    """
    return _WORD.findall(caption.lower())


@dataclass(frozen=True)
class CaptionConfig:
    """Model and training settings (saved with the model)."""

    cell: str = "lstm"
    attention: bool = False
    side: int = 40
    channels: int = 32
    embed_dim: int = 64
    hidden: int = 256
    attention_dim: int = 64
    dropout: float = 0.2
    min_freq: int = 1
    max_words: int = 20
    batch_size: int = 32
    lr: float = 2e-3
    epochs: int = 12
    patience: int | None = 3
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.cell in ("lstm", "gru"), "cell", '"lstm" or "gru"'),
            (self.side >= 16 and self.side % 8 == 0, "side", "a multiple of 8, >= 16"),
            (
                min(self.channels, self.embed_dim, self.hidden, self.attention_dim) >= 1,
                "sizes",
                ">= 1",
            ),
            (0 <= self.dropout < 1, "dropout", "in [0, 1)"),
            (self.lr > 0 and math.isfinite(self.lr), "lr", "a finite number > 0"),
            (
                min(self.epochs, self.batch_size, self.max_words, self.min_freq) >= 1,
                "counts",
                ">= 1",
            ),
        ]
        for ok, name, expected in checks:
            if not ok:
                raise CaptionInputError(f"CaptionConfig.{name} must be {expected}")


class ImageEncoder(nn.Module):
    """uint8 pictures ``(B, S, S, 3)`` -> grid features ``(B, (S/8)², 4·channels)``."""

    def __init__(self, channels: int):
        super().__init__()
        layers, width = [], 3
        for out in (channels, 2 * channels, 4 * channels):
            layers += [
                nn.Conv2d(width, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            width = out
        self.layers = nn.Sequential(*layers)
        self.out_channels = width

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return self.layers(x).flatten(2).transpose(1, 2)  # (B, cells, C)


class CaptionNet(nn.Module):
    """CNN encoder + recurrent decoder (module docstring).

    Examples
    --------
    >>> net = CaptionNet(12, CaptionConfig(side=16, channels=4, embed_dim=6, hidden=8))
    >>> images = torch.zeros(2, 16, 16, 3, dtype=torch.uint8)
    >>> ids = torch.tensor([[2, 5, 6], [2, 7, 0], [2, 4, 4]])
    >>> net(images, torch.tensor([0, 0, 1]), ids).shape
    torch.Size([3, 3, 12])
    """

    def __init__(self, vocab_size: int, config: CaptionConfig):
        super().__init__()
        self.config = c = config
        self.encoder = ImageEncoder(c.channels)
        features = self.encoder.out_channels
        cells = (c.side // 8) ** 2
        self.position = nn.Parameter(0.02 * torch.randn(cells, features))
        self.states = 2 if c.cell == "lstm" else 1
        # from the mean of the grid: an initial state read from the whole flattened grid
        # (25 × 128 inputs) was measured to leave the decoder blind to the picture for hundreds
        # of steps on the shapes scenes, where the mean starts to be used within about 100
        self.init = nn.Linear(features, self.states * c.hidden)
        self.embedding = nn.Embedding(vocab_size, c.embed_dim, padding_idx=0)
        if c.attention:
            cell = seqnn.LSTMCell if c.cell == "lstm" else seqnn.GRUCell
            self.cell = cell(c.embed_dim + features, c.hidden)
            self.attend_features = nn.Linear(features, c.attention_dim)
            self.attend_state = nn.Linear(c.hidden, c.attention_dim, bias=False)
            self.attend_score = nn.Linear(c.attention_dim, 1)
        else:
            layer = seqnn.LSTM if c.cell == "lstm" else seqnn.GRU
            self.rnn = layer(c.embed_dim, c.hidden, batch_first=True)
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.hidden, vocab_size)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Grid features ``(B, cells, C)`` with their positions added."""
        return self.encoder(images) + self.position

    def memory(self, grid: torch.Tensor) -> tuple:
        """What every step reads: ``(grid, attention keys W_f f_i or None)``, computed once."""
        return grid, self.attend_features(grid) if self.config.attention else None

    def initial_state(self, grid: torch.Tensor):
        """``(1, B, H)`` (a GRU) or a pair of them (an LSTM), from the mean of the grid."""
        start = torch.tanh(self.init(grid.mean(1)))  # (B, states·H)
        parts = start.view(grid.shape[0], self.states, -1).transpose(0, 1).contiguous()
        return (parts[0:1], parts[1:2]) if self.states == 2 else parts[0:1]

    def step(self, tokens: torch.Tensor, state, memory: tuple):
        """One word per row: ``(logits (B, V), state, attention weights (B, cells) or None)``.

        ``memory`` is what `memory` returned for the rows' pictures.
        """
        grid, keys = memory
        x = self.embedding(tokens)  # (B, E)
        if not self.config.attention:
            out, state = self.rnn(x[:, None], state)
            return self.out(self.dropout(out[:, 0])), state, None
        h = state[0][0] if self.states == 2 else state[0]
        scores = self.attend_score(torch.tanh(keys + self.attend_state(h)[:, None]))[..., 0]
        alpha = torch.softmax(scores, dim=1)
        context = (alpha[..., None] * grid).sum(1)
        inputs = self.dropout(torch.cat([x, context], dim=-1))
        if self.states == 2:
            h, c = self.cell(inputs, (state[0][0], state[1][0]))
            state = (h[None], c[None])
        else:
            h = self.cell(inputs, state[0])
            state = h[None]
        return self.out(self.dropout(h)), state, alpha

    def forward(self, images, owner, ids):
        """Logits ``(N, T, V)`` of the next word of N captions (teacher forcing).

        ``owner[n]`` is the row of ``images`` that caption n describes.
        """
        grid = self.encode(images)[owner]
        state = self.initial_state(grid)
        if not self.config.attention:
            out, _ = self.rnn(self.dropout(self.embedding(ids)), state)
            return self.out(self.dropout(out))
        logits, memory = [], self.memory(grid)
        for t in range(ids.shape[1]):
            step_logits, state, _ = self.step(ids[:, t], state, memory)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)


@dataclass
class Caption:
    """A caption, its log-probability / (words + 1)**`LENGTH_PENALTY`, and for a model with
    attention the weights of each step."""

    text: str
    score: float
    attention: np.ndarray | None = None  # (words + 1, cells) when the model attends


class Captioner:
    """A trained `CaptionNet` with its vocabulary: pictures in, captions out.

    Examples
    --------
    >>> cap = Captioner.untrained([["a red circle"]], CaptionConfig(side=16, channels=4, hidden=8))
    >>> picture = np.zeros((16, 16, 3), dtype=np.uint8)
    >>> [len(c.text.split()) <= 20 for c in cap.caption([picture], beam=2)]
    [True]
    """

    def __init__(self, model: CaptionNet, vocab: Vocab, info: dict | None = None):
        self.model, self.vocab, self.config = model, vocab, model.config
        self.info = dict(info or {})
        self.bos, self.eos = vocab.stoi[BOS], vocab.stoi[EOS]
        self.banned = [vocab.stoi[t] for t in (PAD, UNK, BOS)]

    @classmethod
    def untrained(cls, captions: list[list[str]], config: CaptionConfig) -> Captioner:
        """A fresh model whose words are those of ``captions`` seen ``min_freq`` times."""
        vocab = Vocab.from_iterable(
            (words(c) for refs in captions for c in refs),
            min_freq=config.min_freq,
            specials=SPECIALS,
        )
        torch.manual_seed(config.seed)
        return cls(CaptionNet(len(vocab), config), vocab)

    def encode(self, caption: str) -> tuple[np.ndarray, np.ndarray]:
        """``(<bos> w1 … wn, w1 … wn <eos>)``, cut to ``max_words`` words."""
        ids = self.vocab.encode(words(caption)[: self.config.max_words], bos=True, eos=True)
        return ids[:-1], ids[1:]

    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    def check_pictures(self, pictures) -> torch.Tensor:
        side = self.config.side
        pictures = np.asarray(pictures)
        if (
            pictures.ndim != 4
            or pictures.shape[1:] != (side, side, 3)
            or pictures.dtype != np.uint8
        ):
            raise CaptionInputError(
                f"pictures must be uint8 arrays ({side}, {side}, 3), got {pictures.dtype} "
                f"{pictures.shape[1:]}: read files with seqlab.data.images.read_image(path, {side})"
            )
        return torch.from_numpy(pictures).to(self._device())

    @torch.no_grad()
    def caption(
        self, pictures, beam: int = 1, batch_size: int = 256, attention: bool = False
    ) -> list[Caption]:
        """A caption for each picture: greedy (``beam=1``) or beam search, in batches.

        With ``attention`` (models with attention), beam-search captions get the weights of
        each step too (one more pass over each caption; greedy search has them anyway).
        """
        images = self.check_pictures(pictures)
        self.model.eval()
        found = []
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            found += self._greedy(chunk) if beam == 1 else self._beam(chunk, beam, attention)
        return found

    def _greedy(self, images: torch.Tensor) -> list[Caption]:
        grid = self.model.encode(images)
        state, memory = self.model.initial_state(grid), self.model.memory(grid)
        tokens = torch.full((len(images),), self.bos, device=images.device)
        limit = self.config.max_words + 1
        chosen = torch.zeros(len(images), limit, dtype=torch.long)
        logprob = torch.zeros(len(images))
        alphas = []
        done = torch.zeros(len(images), dtype=torch.bool)
        for t in range(limit):
            logits, state, alpha = self.model.step(tokens, state, memory)
            logp = torch.log_softmax(logits.float(), -1).cpu()
            logp[:, self.banned] = -math.inf
            if t == limit - 1:
                tokens = torch.full_like(tokens, self.eos)
            else:
                tokens = logp.argmax(-1).to(images.device)
            picked = logp.gather(1, tokens.cpu()[:, None])[:, 0]
            logprob += torch.where(done, 0.0, picked)
            chosen[:, t] = torch.where(done, self.eos, tokens.cpu())
            if alpha is not None:
                alphas.append(alpha.cpu())
            done |= tokens.cpu() == self.eos
            if done.all():
                break
        result = []
        for row in range(len(images)):
            ids = chosen[row].tolist()
            n = ids.index(self.eos) if self.eos in ids else len(ids)
            att = torch.stack([a[row] for a in alphas[: n + 1]]).numpy() if alphas else None
            score = float(logprob[row]) / (n + 1) ** LENGTH_PENALTY
            result.append(Caption(self.text(ids[:n]), score, att))
        return result

    def _beam(self, images: torch.Tensor, width: int, attention: bool) -> list[Caption]:
        grid = self.model.encode(images)

        def step(tokens, state, memory):
            logits, state, _ = self.model.step(tokens, rows_first(state), memory)
            logp = torch.log_softmax(logits.float(), -1)
            logp[:, self.banned] = -math.inf
            return logp, rows_first(state)

        found = beam_search(
            step,
            rows_first(self.model.initial_state(grid)),
            batch_size=len(images),
            bos=self.bos,
            eos=self.eos,
            beam=width,
            max_len=self.config.max_words + 1,
            length_penalty=LENGTH_PENALTY,
            context=self.model.memory(grid),
        )
        captions = []
        for row, ids in enumerate(found.without_eos(self.eos)):
            ids = ids[: self.config.max_words]  # a caption cut at the limit has no <eos>
            caption = Caption(self.text(ids), found.scores[row])
            if attention and self.config.attention:  # the weights along the chosen words
                caption.attention = self.attention_of(images[row : row + 1], ids)
            captions.append(caption)
        return captions

    def attention_of(self, image: torch.Tensor, ids: list[int]) -> np.ndarray:
        """Attention weights ``(len(ids) + 1, cells)`` while reading ``ids`` then ``<eos>``."""
        grid = self.model.encode(image)
        state, memory = self.model.initial_state(grid), self.model.memory(grid)
        weights = []
        for token in [self.bos, *ids]:
            _, state, alpha = self.model.step(
                torch.tensor([token], device=grid.device), state, memory
            )
            weights.append(alpha[0].cpu().numpy())
        return np.stack(weights)

    def text(self, ids) -> str:
        return " ".join(self.vocab.itos[i] for i in ids)

    # --- persistence ---

    def save(self, path) -> Path:
        settings = {"config": dataclasses.asdict(self.config), "info": self.info}
        return model_dir.save(path, TASK, settings, self.model.state_dict(), self.vocab)

    @classmethod
    def load(cls, path, device: str = "cpu") -> Captioner:
        settings, state, vocab = model_dir.load(path, TASK)
        try:
            config = CaptionConfig(**settings["config"])
            model = CaptionNet(len(vocab), config)
            model.load_state_dict(state)
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            raise model_dir.settings_mismatch(path, e) from None
        return cls(model.to(device).eval(), vocab, settings.get("info"))


# --- batches: one picture with all its captions ---


class CaptionSet(torch.utils.data.Dataset):
    """Pictures ``(N, S, S, 3)`` uint8 and each one's encoded captions."""

    def __init__(self, cap: Captioner, pictures: np.ndarray, captions: list[list[str]]):
        if len(pictures) != len(captions) or not len(pictures):
            raise CaptionInputError(
                f"{len(pictures)} pictures and {len(captions)} caption lists: need as many, >= 1"
            )
        self.pictures = torch.from_numpy(np.ascontiguousarray(pictures))
        self.captions = [[cap.encode(c) for c in refs if words(c)] for refs in captions]

    def __len__(self) -> int:
        return len(self.pictures)

    def __getitem__(self, index: int):
        return self.pictures[index], self.captions[index]


def collate(batch) -> tuple[torch.Tensor, ...]:
    """``(pictures (B, S, S, 3), owner (N,), ids (N, T), targets (N, T))`` for N captions."""
    pictures = torch.stack([p for p, _ in batch])
    pairs = [(row, x, y) for row, (_, refs) in enumerate(batch) for x, y in refs]
    width = max(len(x) for _, x, _ in pairs)
    ids = torch.zeros(len(pairs), width, dtype=torch.long)
    targets = torch.full_like(ids, -100)
    for n, (_, x, y) in enumerate(pairs):
        ids[n, : len(x)] = torch.from_numpy(x)
        targets[n, : len(y)] = torch.from_numpy(y)
    owner = torch.tensor([row for row, _, _ in pairs])
    return pictures, owner, ids, targets


def loader(dataset: CaptionSet, batch_size: int, shuffle: bool, seed: int):
    sampler = ResumableBatchSampler(len(dataset), batch_size, shuffle=shuffle, seed=seed)
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)


def train(
    pictures: dict,
    captions: dict,
    config: CaptionConfig,
    out,
    info: dict,
    quiet: bool = False,
    device: str = "cpu",
) -> tuple[Captioner, dict]:
    """Train on the ``"train"`` pictures and captions, keep the epoch best on ``"valid"``.

    ``pictures[split]`` is ``(N, side, side, 3)`` uint8, ``captions[split]`` the references of
    each picture. ``out/training`` holds the checkpoints (resume by calling again). ``info``
    (the data's name and settings) is saved with the model, so that ``eval`` finds the data.
    """
    out = Path(out)
    cap = Captioner.untrained(captions["train"], config)
    train_set = CaptionSet(cap, pictures["train"], captions["train"])
    valid_set = CaptionSet(cap, pictures["valid"], captions["valid"])
    optimizer = torch.optim.Adam(cap.model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    train_config = TrainConfig(
        epochs=config.epochs,
        patience=config.patience,
        metric="loss",
        seed=config.seed,
        device=device,
        quiet=quiet,
        clip_norm=5.0,
        item_name="words",
    )
    trainer = Trainer(
        cap.model, nn.CrossEntropyLoss(), optimizer, train_config, scheduler=scheduler
    )
    history = trainer.fit(
        loader(train_set, config.batch_size, True, config.seed),
        loader(valid_set, 128, False, config.seed),
        out=out / "training",
    )
    best = next(r for r in history.epochs if r["epoch"] == history.best_epoch)
    train_time = sum(r.get("train_time_s", 0.0) for r in history.epochs)
    summary = {
        "valid_loss": best["valid_loss"],
        "valid_accuracy": best.get("valid_accuracy"),
        "best_epoch": history.best_epoch,
        "epochs_run": len(history.epochs),
        "train_pictures": len(train_set),
        "vocab_size": len(cap.vocab),
        "train_time_s": train_time,
    }
    cap.info = {**info, **summary}
    cap.model.eval()
    cap.save(out)
    return cap, summary

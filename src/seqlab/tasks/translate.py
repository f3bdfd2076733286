"""Translation: an encoder reads the whole source, then a decoder writes the target token by token.

The outputs do not come at every input step: the decoder starts once the source is read
(many-to-many with a delay).

- **Encoder**: embedding → bidirectional seqlab.nn GRU or LSTM over the source (padding handled
  with ``lengths``); its outputs, forward and backward halves side by side, are the *memory*
  (B, S, 2H). A linear layer with tanh turns the two final states into the decoder's first.
- **Decoder**: a one-layer seqlab.nn GRU or LSTM of ``decoder_hidden`` units fed the previous
  target token (teacher forcing in training: the reference's previous token; the model's own
  when translating), with ``attention`` over the memory, padded source positions masked out:

  - ``"bahdanau"`` (additive, Bahdanau et al. 2015): the score of source position s is
    ``v·tanh(W h_{t-1} + U m_s)``; the context enters the recurrent step, so training steps the
    decoder one token at a time;
  - ``"dot"`` / ``"general"`` (Luong et al. 2015): ``h_t·m_s`` / ``h_t·W m_s`` with the state
    after the step, whose context joins only the output: in training the decoder runs over all
    target positions in one call, and the attention for all of them is one batched product;
  - ``"none"``: the plain encoder-decoder, the source reaching the decoder only through its
    first state.

- **Output**: ``tanh(W_c [h_t; context; (embedding)])`` of ``embed_dim`` features, then a linear
  layer over the target vocabulary that shares the target embedding's matrix
  (``tie_embeddings``, Press & Wolf 2017). The output layer costs most of the time on a CPU:
  features × vocabulary per target token, so this bottleneck of ``embed_dim`` features and a
  subword vocabulary keep it small.

`Seq2Seq.step` is the decoder's one-token function for `seqlab.tasks.beam`: greedy and beam
search run over it, batched. `TranslationStep` is the Trainer's step: cross-entropy with label
smoothing on the target tokens, and in validation the greedy translations' corpus BLEU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sacrebleu
import torch
import torch.nn.functional as F
from torch import nn

import seqlab.nn
from seqlab.tasks.translate_data import BOS_ID, EOS_ID, LEVELS, PAD_ID

CELLS = ("gru", "lstm")
ATTENTIONS = ("bahdanau", "dot", "general", "none")
NEVER_EMITTED = [PAD_ID, BOS_ID]  # targets never hold them after <bos>: decoding rules them out


class TranslateInputError(ValueError):
    """Settings or inputs a translator cannot work with; the message says the fix."""


@dataclass(frozen=True)
class TranslateConfig:
    """Model, tokenisation and training settings (saved with the model)."""

    level: str = "subword"
    vocab_size: int = 8000  # per language, specials included
    cell: str = "gru"
    attention: str = "general"
    embed_dim: int = 256
    hidden: int = 256  # per direction of the encoder
    decoder_hidden: int = 512
    dropout: float = 0.3
    tie_embeddings: bool = True
    label_smoothing: float = 0.1
    batch_size: int = 64
    epochs: int = 12  # under an hour on two cores; validation BLEU still rises (docs/tasks.md)
    patience: int | None = 4  # stop after this many epochs without a better validation BLEU
    lr: float = 2e-3
    clip: float = 1.0
    max_tokens: int = 100  # training pairs with a longer side are left out
    seed: int = 0
    backend: str = "seqlab"  # "torch": the same model on torch.nn (benchmarks)

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise TranslateInputError(what)

        need(self.level in LEVELS, f"level must be one of {', '.join(LEVELS)}, not {self.level!r}")
        need(self.cell in CELLS, f"cell must be one of {', '.join(CELLS)}, not {self.cell!r}")
        need(
            self.attention in ATTENTIONS,
            f"attention must be one of {', '.join(ATTENTIONS)}, not {self.attention!r}",
        )
        need(self.backend in ("seqlab", "torch"), "backend must be seqlab or torch")
        for name in ("vocab_size", "embed_dim", "hidden", "decoder_hidden", "batch_size"):
            value = getattr(self, name)
            need(isinstance(value, int) and value >= 1, f"{name} must be an int >= 1, not {value}")
        need(self.vocab_size >= 8, f"vocab_size must be >= 8, not {self.vocab_size}")
        need(isinstance(self.epochs, int) and self.epochs >= 1, "epochs must be an int >= 1")
        need(
            self.patience is None or (isinstance(self.patience, int) and self.patience >= 1),
            "patience must be an int >= 1, or None to train every epoch",
        )
        need(0 <= self.dropout < 1, f"dropout must be in [0, 1), not {self.dropout}")
        need(0 <= self.label_smoothing < 1, "label_smoothing must be in [0, 1)")
        need(self.lr > 0 and math.isfinite(self.lr), f"lr must be > 0, not {self.lr}")
        need(self.clip > 0 and math.isfinite(self.clip), f"clip must be > 0, not {self.clip}")
        need(self.max_tokens >= 1, f"max_tokens must be >= 1, not {self.max_tokens}")
        need(
            self.attention != "dot" or 2 * self.hidden == self.decoder_hidden,
            f"dot attention compares decoder states with encoder outputs, so decoder_hidden "
            f"({self.decoder_hidden}) must be 2 × hidden ({2 * self.hidden}); or use general",
        )


class Attention(nn.Module):
    """Scores of a decoder state against every memory position, softmax over the unpadded ones.

    ``prepare(memory)`` computes the per-source part once per sentence (``U m`` or ``W m``);
    ``forward(query (B, T, Q), keys, memory (B, S, K), pad (B, S))`` returns the context
    (B, T, K) and the weights (B, T, S), which are exactly 0 at padded positions.

    Examples
    --------
    >>> attention = Attention("general", query_dim=4, key_dim=6)
    >>> memory, pad = torch.randn(2, 3, 6), torch.tensor([[False, False, True], [False] * 3])
    >>> context, weights = attention(torch.randn(2, 1, 4), attention.prepare(memory), memory, pad)
    >>> context.shape, weights[0, 0, 2].item(), round(weights[0, 0].sum().item(), 4)
    (torch.Size([2, 1, 6]), 0.0, 1.0)
    """

    def __init__(self, kind: str, query_dim: int, key_dim: int) -> None:
        super().__init__()
        self.kind = kind
        if kind in ("bahdanau", "general"):
            self.key_proj = nn.Linear(key_dim, query_dim, bias=False)
        if kind == "bahdanau":
            self.query_proj = nn.Linear(query_dim, query_dim)
            self.energy = nn.Linear(query_dim, 1, bias=False)

    def prepare(self, memory: torch.Tensor) -> torch.Tensor:
        return memory if self.kind == "dot" else self.key_proj(memory)

    def forward(self, query, keys, memory, pad):
        if self.kind == "bahdanau":
            hidden = torch.tanh(keys.unsqueeze(1) + self.query_proj(query).unsqueeze(2))
            scores = self.energy(hidden).squeeze(-1)  # (B, T, S)
        else:
            scores = torch.bmm(query, keys.transpose(1, 2))
        weights = torch.softmax(scores.masked_fill(pad.unsqueeze(1), -math.inf), dim=-1)
        return torch.bmm(weights, memory), weights


class Seq2Seq(nn.Module):
    """The encoder-decoder of the module docstring, over ``src_vocab`` and ``tgt_vocab`` ids."""

    def __init__(self, src_vocab: int, tgt_vocab: int, config: TranslateConfig) -> None:
        super().__init__()
        self.config = c = config
        layers = seqlab.nn if c.backend == "seqlab" else nn
        rnn = {"gru": layers.GRU, "lstm": layers.LSTM}[c.cell]
        self.src_embed = nn.Embedding(src_vocab, c.embed_dim, padding_idx=PAD_ID)
        self.tgt_embed = nn.Embedding(tgt_vocab, c.embed_dim, padding_idx=PAD_ID)
        self.encoder = rnn(c.embed_dim, c.hidden, bidirectional=True)
        self.bridge = nn.Linear(2 * c.hidden, c.decoder_hidden)
        memory_dim = 2 * c.hidden
        self.feeds_context = c.attention == "bahdanau"
        self.decoder = rnn(
            c.embed_dim + (memory_dim if self.feeds_context else 0), c.decoder_hidden
        )
        self.attention = (
            None if c.attention == "none" else Attention(c.attention, c.decoder_hidden, memory_dim)
        )
        features = c.decoder_hidden + (0 if self.attention is None else memory_dim)
        features += c.embed_dim if self.feeds_context else 0
        self.combine = nn.Linear(features, c.embed_dim)
        self.output = nn.Linear(c.embed_dim, tgt_vocab)
        if c.tie_embeddings:
            self.output.weight = self.tgt_embed.weight
        self.drop = nn.Dropout(c.dropout)

    # --- encoder ---

    def encode(self, src: torch.Tensor, lengths: torch.Tensor):
        """``(state, context)`` for the decoder: its first state, and (memory, keys, pad)."""
        x = self.drop(self.src_embed(src)).transpose(0, 1)  # (S, B, E)
        if self.config.backend == "seqlab":
            out, final = self.encoder(x, lengths=lengths)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
            out, final = self.encoder(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])
        memory = out.transpose(0, 1)  # (B, S, 2H)
        h = final[0] if self.config.cell == "lstm" else final
        first = torch.tanh(self.bridge(torch.cat([h[-2], h[-1]], dim=-1))).unsqueeze(0)
        state = (first, torch.zeros_like(first)) if self.config.cell == "lstm" else first
        pad = src == PAD_ID
        keys = self.attention.prepare(memory) if self.attention is not None else memory
        return state, (memory, keys, pad)

    # --- decoder ---

    def forward(self, src, lengths, tgt_in, return_attention: bool = False):
        """Teacher-forced logits (B, T, V) of the tokens after each of ``tgt_in`` (B, T)."""
        state, context = self.encode(src, lengths)
        embedded = self.drop(self.tgt_embed(tgt_in))  # (B, T, E)
        if self.feeds_context:  # the context enters each step: one step at a time
            features, weights = [], []
            for t in range(embedded.shape[1]):
                f, state, w = self._step(embedded[:, t : t + 1], state, context)
                features.append(f)
                weights.append(w)
            features, weights = torch.cat(features, 1), torch.cat(weights, 1)
        else:  # every step at once, then attention for all positions in one product
            features, _, weights = self._step(embedded, state, context)
        logits = self.output(self.drop(features))
        return (logits, weights) if return_attention else logits

    def _step(self, embedded, state, context):
        """Decoder over ``embedded`` (B, T, E) from ``state``: features, state, weights."""
        memory, keys, pad = context
        parts, weights = [], None
        if self.feeds_context:
            h = state[0] if self.config.cell == "lstm" else state
            ctx, weights = self.attention(h[-1].unsqueeze(1), keys, memory, pad)
            out, state = self.decoder(torch.cat([embedded, ctx], -1).transpose(0, 1), state)
            out = out.transpose(0, 1)
            parts = [out, ctx, embedded]
        else:
            out, state = self.decoder(embedded.transpose(0, 1).contiguous(), state)
            out = out.transpose(0, 1)
            parts = [out]
            if self.attention is not None:
                ctx, weights = self.attention(out, keys, memory, pad)
                parts.append(ctx)
        return torch.tanh(self.combine(torch.cat(parts, -1))), state, weights

    def step(self, tokens, state, context):
        """Tokens (N,) -> (log-probabilities (N, V), next state): a `seqlab.tasks.beam` step."""
        features, state, _ = self._step(self.tgt_embed(tokens).unsqueeze(1), state, context)
        logits = self.output(features[:, 0]).float()
        logits[:, NEVER_EMITTED] = -math.inf
        return torch.log_softmax(logits, -1), _batch_first(state)


def _batch_first(state):
    """Decoder states are (1, N, H); beam search reorders dimension 0, so it gets (N, 1, H)."""
    if isinstance(state, tuple):
        return tuple(s.transpose(0, 1) for s in state)
    return state.transpose(0, 1)


def decode(
    model: Seq2Seq,
    src: torch.Tensor,
    lengths: torch.Tensor,
    beam: int = 1,
    length_penalty: float = 1.0,
    max_len_a: float = 1.5,
    max_len_b: int = 10,
) -> list[list[int]]:
    """Translate a batch: the target ids of each source, ``<eos>`` removed.

    A translation has at most ``max_len_a · source length + max_len_b`` tokens; ``beam=1`` is
    greedy search.
    """
    from seqlab.tasks.beam import beam_search, greedy_search

    with torch.no_grad():
        state, context = model.encode(src, lengths)
        limits = (max_len_a * lengths.float() + max_len_b).long().clamp(min=1).cpu()

        def step(tokens, batch_first_state, ctx):
            return model.step(tokens, _batch_first(batch_first_state), ctx)

        options = dict(
            batch_size=len(src),
            bos=BOS_ID,
            eos=EOS_ID,
            max_len=limits,
            length_penalty=length_penalty,
            context=context,
        )
        if beam == 1:
            found = greedy_search(step, _batch_first(state), **options)
        else:
            found = beam_search(step, _batch_first(state), beam=beam, **options)
    return found.without_eos(EOS_ID)


class TranslationStep:
    """The Trainer's ``step`` and ``evaluate`` for batches of `seqlab.tasks.translate_data`.

    Training: mean cross-entropy (with ``label_smoothing``) over the target tokens. Validation:
    the plain cross-entropy (``loss``; its exp is the perplexity), and ``bleu``, the sacreBLEU
    corpus BLEU of the greedy translations against ``references`` (raw text of the pairs the
    batches' ``index`` points at). BLEU is not a sum over batches: the translations are kept until
    the last one arrives, which reports the corpus figure as ``(bleu, 1)`` (the others ``(0, 0)``).
    """

    def __init__(self, label_smoothing: float, references=None, detokenise=None) -> None:
        self.label_smoothing = label_smoothing
        self.references, self.detokenise = references, detokenise
        self.reset()

    def reset(self) -> None:
        self._hypotheses: dict[int, str] = {}

    def __call__(self, model, batch):
        src, lengths, tgt, _ = batch
        logits = model(src, lengths, tgt[:, :-1])
        gold = tgt[:, 1:]
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(),
            gold.reshape(-1),
            ignore_index=PAD_ID,
            label_smoothing=self.label_smoothing,
        )
        return loss, (gold != PAD_ID).sum()

    def evaluate(self, model, batch) -> dict:
        src, lengths, tgt, index = batch
        logits = model(src, lengths, tgt[:, :-1])
        gold = tgt[:, 1:]
        n = (gold != PAD_ID).sum()
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(),
            gold.reshape(-1),
            ignore_index=PAD_ID,
            reduction="sum",
        )
        result = {"loss": (loss, n)}
        if self.references is not None:
            for i, ids in zip(index.tolist(), decode(model, src, lengths), strict=True):
                self._hypotheses[i] = self.detokenise(ids)
            done = len(self._hypotheses) == len(self.references)
            result["bleu"] = (
                (corpus_bleu(self._ordered(), self.references).score, 1) if done else (0.0, 0)
            )
        return result

    def _ordered(self) -> list[str]:
        return [self._hypotheses[i] for i in range(len(self.references))]


def corpus_bleu(hypotheses: list[str], references: list[str]):
    """sacreBLEU's corpus BLEU with its defaults (13a tokenisation, case-sensitive)."""
    return sacrebleu.corpus_bleu(hypotheses, [references])

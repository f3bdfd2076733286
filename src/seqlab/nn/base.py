"""`RNNBase`: the weight layout, argument checking and batch handling shared by RNN, LSTM and GRU.

Like ``torch/nn/modules/rnn.py``, the base class owns everything except the recurrence itself:
parameters named and shaped exactly as torch.nn's (``weight_ih_l{k}[_reverse]``: (G·H, I),
``weight_hh_l{k}[_reverse]``: (G·H, H), ``bias_ih_l{k}``/``bias_hh_l{k}``: (G·H,), with G gates
per cell in torch.nn's order), so ``load_state_dict`` works in both directions; it checks the
arguments, turns padded batches with ``lengths`` or a ``PackedSequence`` into a length-sorted,
time-major batch, stacks layers and directions, and restores the caller's layout. Subclasses
only say how one layer direction runs (`_run_direction`): a hand-written BPTT
``torch.autograd.Function``, the reference (``seqlab.nn.reference``) or a fast path
(``seqlab.nn.bptt_*``), as `SelectableImpl` decides (see ``seqlab.nn.implementation``).
"""

import math
import warnings
from functools import cache, partial, wraps

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from seqlab.nn.gates import GateLayout
from seqlab.nn.implementation import IMPLS, runs_reference
from seqlab.nn.inference import PreparedCache, runs_without_grad


class RNNInputError(ValueError):
    """An argument of a recurrent layer or cell has the wrong type, shape, dtype or device."""


def check_tensor(name: str, value, shape: tuple, like: torch.Tensor) -> None:
    """Raise `RNNInputError` unless `value` is a tensor of `shape` with `like`'s dtype and device.

    `shape` may contain None for "any size"; the message names the argument and the fix.
    """
    if not isinstance(value, torch.Tensor):
        raise RNNInputError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    # this runs on every call of a cell while decoding: no strings unless there is an error
    sizes = value.shape
    if len(sizes) != len(shape) or any(
        s is not None and s != v for s, v in zip(shape, sizes, strict=True)
    ):
        wanted = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise RNNInputError(f"{name} must have shape {wanted}, got {tuple(sizes)}")
    if value.dtype != like.dtype:
        raise RNNInputError(
            f"{name} has dtype {value.dtype} but the parameters are {like.dtype}: "
            f"convert it with .to({like.dtype}) or the module with .to({value.dtype})"
        )
    if not same_device(value, like):
        raise RNNInputError(
            f"{name} is on {value.device} but the parameters are on {like.device}: "
            f"move it with .to('{like.device}')"
        )


def same_device(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether `a` and `b` live on the same device (CPU tensors without building device objects)."""
    return (a.is_cpu and b.is_cpu) or a.device == b.device


def check_lengths(lengths, T: int, B: int) -> torch.Tensor:
    """`lengths` as a CPU int64 tensor of B values in 1…T; `RNNInputError` says what is wrong."""
    if isinstance(lengths, list | tuple):
        lengths = torch.tensor(lengths)
    if not isinstance(lengths, torch.Tensor):
        raise RNNInputError(f"lengths must be a 1-D integer tensor, got {type(lengths).__name__}")
    if lengths.dim() != 1 or lengths.numel() != B:
        raise RNNInputError(
            f"lengths must be 1-D with one entry per sequence (batch size {B}), "
            f"got shape {tuple(lengths.shape)}"
        )
    if lengths.dtype.is_floating_point or lengths.dtype.is_complex or lengths.dtype == torch.bool:
        raise RNNInputError(f"lengths must have an integer dtype, got {lengths.dtype}")
    lengths = lengths.to("cpu", torch.int64)
    if int(lengths.min()) < 1:
        raise RNNInputError(
            f"lengths must be >= 1, got {int(lengths.min())}: drop empty sequences from the batch"
        )
    if int(lengths.max()) > T:
        raise RNNInputError(
            f"lengths must be <= the input's time axis ({T}), got {int(lengths.max())}: "
            "pad the input to the longest sequence (or check batch_first)"
        )
    return lengths


def outside_autocast(forward):
    """Decorate a layer's or cell's ``forward`` to run in the parameters' dtype under autocast.

    Inside ``torch.autocast`` the input is often the bfloat16/float16 output of a linear layer
    or an embedding; the hand-written BPTT runs in the parameters' precision (as autocast runs
    precision-sensitive ops in float32), so floating inputs and states are cast to it and the
    recurrence runs with autocast off. Outside autocast nothing changes.
    """

    @wraps(forward)
    def run(self, input, hx=None, *args, **kwargs):
        # one C call for the common case: a decoding loop pays this check at every token
        if not torch._C._is_any_autocast_enabled():
            return forward(self, input, hx, *args, **kwargs)
        weight = self.parameter_like()
        if not torch.is_autocast_enabled(weight.device.type):
            return forward(self, input, hx, *args, **kwargs)
        with torch.autocast(weight.device.type, enabled=False):
            cast = partial(_to_dtype, dtype=weight.dtype)
            return forward(self, cast(input), cast(hx), *args, **kwargs)

    return run


def _to_dtype(value, dtype: torch.dtype):
    if isinstance(value, PackedSequence):  # a tuple too: check it first
        return value._replace(data=_to_dtype(value.data, dtype))
    if isinstance(value, tuple | list):
        return type(value)(_to_dtype(v, dtype) for v in value)
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.to(dtype)
    return value


class SelectableImpl:
    """The ``impl`` attribute of layers and cells: "auto", "fast" or "reference".

    A plain attribute, not a buffer: ``state_dict`` neither stores nor resets it. Assigning an
    unknown name raises `RNNInputError`.
    """

    _impl = "auto"
    #: a parameter every module of the class has, standing for the dtype and device of all
    _like_name = "weight_ih"

    @property
    def impl(self) -> str:
        """Which implementation runs: see ``seqlab.nn.implementation``."""
        return self._impl

    @impl.setter
    def impl(self, value: str) -> None:
        if not isinstance(value, str) or value not in IMPLS:
            raise RNNInputError(f"impl must be one of {', '.join(map(repr, IMPLS))}; got {value!r}")
        self._impl = value

    def parameter_like(self) -> torch.Tensor:
        """A parameter with the dtype and device of all (cheaper than ``next(parameters())``)."""
        return self._parameter(self._like_name)

    def _parameter(self, name: str) -> torch.Tensor | None:
        """The parameter `name`, read from the module's dict: ``Module.__getattr__`` is a slow
        fallback, which a decoding loop would pay at every token. getattr still finds a
        parametrized weight (absent from the dict) and gives None for an absent bias."""
        found = self._parameters.get(name)
        return found if found is not None else getattr(self, name, None)

    def uses_reference(self) -> bool:
        """Whether the next call runs the reference implementation (by impl, dtype, context)."""
        return runs_reference(self.impl, self.parameter_like())

    def runs_without_grad(self) -> bool:
        """Whether the next call takes the path without autograd (``seqlab.nn.inference``)."""
        return runs_without_grad(self.impl, self.parameter_like())

    @property
    def prepared_weights(self) -> PreparedCache:
        """The weights as the fast path multiplies by them, kept while the parameters stay."""
        cache = self.__dict__.get("_prepared_cache")
        if cache is None:
            cache = self.__dict__["_prepared_cache"] = PreparedCache()
        return cache


class StateGradSink:
    """Collects ``∂L/∂h_k`` of the top layer from the backward sweeps, one slot per direction.

    Each slot is (T, B, H) in the sorted batch order of the forward pass; `result` returns them in
    the caller's layout.
    """

    def __init__(
        self, num_directions: int, inverse: torch.Tensor | None, batch_first: bool, batched: bool
    ):
        self.grads: list[torch.Tensor | None] = [None] * num_directions
        self.inverse, self.batch_first, self.batched = inverse, batch_first, batched

    def store(self, direction: int, grad: torch.Tensor) -> None:
        self.grads[direction] = grad

    def result(self) -> torch.Tensor | None:
        if any(g is None for g in self.grads):
            return None
        grads = torch.cat(self.grads, dim=2)  # (T, B, D*H)
        if self.inverse is not None:
            grads = grads.index_select(1, self.inverse)
        if not self.batched:
            return grads.squeeze(1)
        return grads.transpose(0, 1) if self.batch_first else grads


@cache
def _weight_names(layer: int, direction: int) -> tuple[str, ...]:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    return tuple(n + suffix for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


class RNNBase(SelectableImpl, nn.Module):
    """Multi-layer, optionally bidirectional recurrent network over padded or packed batches.

    Subclasses set `gate_layout` (the cell's stacked gates, ``seqlab.nn.gates``), `gate_names`
    (the names of ``return_gates``) and implement `_run_direction`.
    """

    gate_layout: GateLayout
    gate_names: tuple[str, ...] = ()
    state_count = 1  # 2 for the LSTM: (h, c)
    _like_name = "weight_ih_l0"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        keep_state_grads: bool = False,
        device=None,
        dtype=None,
        *,
        impl: str = "auto",
    ):
        super().__init__()
        self.impl = impl
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise RNNInputError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(dropout, int | float) or not 0 <= dropout <= 1:
            raise RNNInputError(f"dropout must be a probability in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout acts between stacked layers only; with num_layers=1 it has no effect",
                stacklevel=2,
            )
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        self.keep_state_grads = keep_state_grads
        self._state_grad_sink: StateGradSink | None = None
        num_directions = 2 if bidirectional else 1
        gate_size = len(self.gate_layout) * hidden_size
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * num_directions
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [
                    ("weight_ih", (gate_size, layer_input)),
                    ("weight_hh", (gate_size, hidden_size)),
                ]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for name, shape in shapes:
                    self.register_parameter(
                        name + suffix, nn.Parameter(torch.empty(shape, **factory))
                    )
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """torch.nn's initialisation: every parameter uniform in ±1/√hidden_size."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def layer_weights(self, layer: int, direction: int) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh) of one layer direction; the biases are None without bias."""
        return tuple(self._parameter(name) for name in _weight_names(layer, direction))

    @property
    def state_grads(self) -> torch.Tensor | None:
        """``∂L/∂h_k`` of the top layer for every step k, after ``backward`` (see `forward`)."""
        return None if self._state_grad_sink is None else self._state_grad_sink.result()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for name, default in (
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
        ):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s if self.impl == "auto" else s + f", impl={self.impl!r}"

    def _run_direction(
        self, x, states, weights, batch_sizes, reverse, on_state_grads, slot, gates_wanted
    ):
        """Run one layer direction: returns (y (T, B, H), final states tuple, gates).

        The gates are a dict by name, or a function returning it (called only for
        ``return_gates``); without `gates_wanted` the path without autograd may skip them.

        `slot` (layer·D + direction) names the direction in `prepared_weights`.
        """
        raise NotImplementedError

    @outside_autocast
    def forward(self, input, hx=None, lengths=None, return_gates=False, keep_state_grads=None):
        # --- the caller's layout -> a time-major batch x (T, B, I) ---
        weight = self.weight_ih_l0
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise RNNInputError("pass either a PackedSequence or lengths, not both")
            check_tensor("input (PackedSequence.data)", input.data, (None, self.input_size), weight)
            x, lengths = pad_packed_sequence(input)  # original batch order
            batched = True
        else:
            if not isinstance(input, torch.Tensor) or input.dim() not in (2, 3):
                got = (
                    tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
                )
                raise RNNInputError(
                    "input must be a tensor (T, B, input_size) (batch_first: (B, T, input_size)), "
                    f"an unbatched (T, input_size) tensor or a PackedSequence; got {got}"
                )
            batched = input.dim() == 3
            check_tensor("input", input, (None,) * (input.dim() - 1) + (self.input_size,), weight)
            x = input if not batched else (input.transpose(0, 1) if self.batch_first else input)
            x = x if batched else x.unsqueeze(1)
        T, B = x.shape[:2]
        if T == 0 or B == 0:
            raise RNNInputError(f"input is empty: time steps {T}, batch size {B}")
        # --- sort by length, longest first: the running sequences are a prefix at every step ---
        order = inverse = None
        if lengths is not None:
            lengths = check_lengths(lengths, T, B)
            if packed:
                order, inverse = input.sorted_indices, input.unsorted_indices
            else:
                _, order = torch.sort(lengths, descending=True, stable=True)
                inverse = torch.argsort(order)
                if torch.equal(order, torch.arange(B)):  # already sorted: no copies
                    order = inverse = None
            if order is not None:
                order, inverse = order.to(x.device), inverse.to(x.device)
                x = x.index_select(1, order)
                lengths = lengths[order.cpu()]
            batch_sizes = (lengths.unsqueeze(0) > torch.arange(T).unsqueeze(1)).sum(1).tolist()
        else:
            batch_sizes = [B] * T
        x = x.contiguous()
        states = self._initial_states(hx, B, batched, order)
        # --- layers and directions ---
        keep = self.keep_state_grads if keep_state_grads is None else keep_state_grads
        D = self.num_directions
        sink = StateGradSink(D, inverse, self.batch_first, batched) if keep else None
        self.__dict__["_state_grad_sink"] = sink  # a plain attribute; skips Module.__setattr__
        finals, gates = [], []
        for layer in range(self.num_layers):
            outputs = []
            for d in range(D):
                k = layer * D + d
                hook = partial(sink.store, d) if sink and layer == self.num_layers - 1 else None
                y, final, g = self._run_direction(
                    x,
                    tuple(s[k] for s in states),
                    self.layer_weights(layer, d),
                    batch_sizes,
                    d == 1,
                    hook,
                    k,
                    return_gates,
                )
                outputs.append(y)
                finals.append(final)
                gates.append(g)
            x = outputs[0] if D == 1 else torch.cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        # --- back to the caller's layout ---
        final_states = [torch.stack([f[i] for f in finals]) for i in range(self.state_count)]
        if inverse is not None:
            final_states = [s.index_select(1, inverse) for s in final_states]
        if not batched:
            final_states = [s.squeeze(1) for s in final_states]
        if packed:
            out = pack_padded_sequence(x, lengths)
            output = PackedSequence(
                out.data, out.batch_sizes, input.sorted_indices, input.unsorted_indices
            )
        else:
            output = x if inverse is None else x.index_select(1, inverse)
            if not batched:
                output = output.squeeze(1)
            elif self.batch_first:
                output = output.transpose(0, 1)
        result = (output, final_states[0] if self.state_count == 1 else tuple(final_states))
        if return_gates:
            result += (self._gate_dict(gates, batch_sizes, inverse, batched),)
        return result

    def _initial_states(self, hx, B: int, batched: bool, order) -> list[torch.Tensor]:
        """The initial states, each (L*D, B, H) in sorted batch order; zeros when hx is None."""
        weight = self.weight_ih_l0
        shape = (self.num_layers * self.num_directions, B, self.hidden_size)
        if hx is None:
            return [weight.new_zeros(shape) for _ in range(self.state_count)]
        if self.state_count == 1:
            given, names = (hx,), ("hx",)
        else:
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise RNNInputError("hx of an LSTM must be a tuple (h_0, c_0)")
            given, names = tuple(hx), ("hx[0] (h_0)", "hx[1] (c_0)")
        states = []
        for name, h in zip(names, given, strict=True):
            check_tensor(name, h, shape if batched else (shape[0], shape[2]), weight)
            h = h if batched else h.unsqueeze(1)
            states.append(h if order is None else h.index_select(1, order))
        return states

    def _gate_dict(self, gates, batch_sizes, inverse, batched) -> dict[str, torch.Tensor]:
        """Per-step gate activations, each (L*D, T, B, H), zero at padded positions."""
        B = batch_sizes[0]
        mask = torch.arange(B).unsqueeze(0) < torch.tensor(batch_sizes).unsqueeze(1)  # (T, B)
        mask = mask.to(self.weight_ih_l0.device, self.weight_ih_l0.dtype).unsqueeze(-1)
        gates = [layer() if callable(layer) else layer for layer in gates]  # named on demand
        result = {}
        for name in self.gate_names:
            g = torch.stack([layer[name] for layer in gates]) * mask
            if inverse is not None:
                g = g.index_select(2, inverse)
            result[name] = g if batched else g.squeeze(2)
        return result

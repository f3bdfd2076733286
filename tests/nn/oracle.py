"""Test oracle: the recurrent layers as a plain Python loop differentiated by autograd.

Slow and obviously correct: one step at a time, padded positions handled with ``torch.where``
(a finished sequence keeps its state, its output is zero). Only the tests use it.
"""

import torch


def cell_step(kind, x, state, weights, nonlinearity="tanh"):
    """One step of `kind` ("rnn", "lstm", "gru") straight from the equations."""
    w_ih, w_hh, b_ih, b_hh = weights
    h = state[0]
    gi = x @ w_ih.T + (0 if b_ih is None else b_ih)
    gh = h @ w_hh.T + (0 if b_hh is None else b_hh)
    if kind == "rnn":
        f = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[nonlinearity]
        return (f(gi + gh),)
    if kind == "lstm":
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    r_i, z_i, n_i = gi.chunk(3, dim=1)
    r_h, z_h, n_h = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return ((1 - z) * n + z * h,)


def run(module, kind, x, lengths, states):
    """Run `module`'s parameters through the loop.

    `x` (T, B, I) time-major, `lengths` (B,), `states` a list of (L*D, B, H) tensors. Returns the
    output (T, B, D*H), the final states and, for the top layer, every direction's per-step
    states ``h_t`` (with ``retain_grad``), so ``h_t.grad`` is the total derivative ∂L/∂h_t.
    """
    T = x.shape[0]
    D = 2 if module.bidirectional else 1
    nonlinearity = getattr(module, "nonlinearity", "tanh")
    finals, top = [], []
    layer_input = x
    for layer in range(module.num_layers):
        outputs = []
        for d in range(D):
            state = tuple(s[layer * D + d] for s in states)
            out = [None] * T
            hs = [None] * T
            for t in range(T - 1, -1, -1) if d else range(T):
                active = (t < lengths).unsqueeze(1)
                new = cell_step(
                    kind, layer_input[t], state, module.layer_weights(layer, d), nonlinearity
                )
                state = tuple(torch.where(active, n, s) for n, s in zip(new, state, strict=True))
                state[0].retain_grad()
                hs[t] = state[0]
                out[t] = state[0] * active
            outputs.append(torch.stack(out))
            finals.append(state)
            top.append(hs)
        layer_input = torch.cat(outputs, dim=2)
    final_states = [torch.stack([f[i] for f in finals]) for i in range(len(states))]
    return layer_input, final_states, top[-D:]

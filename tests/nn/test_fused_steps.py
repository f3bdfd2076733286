"""The numba step kernels: their tanh is accurate to float32 and they serve CPU float32 only."""

import numpy as np
import pytest
import torch
from numba import njit

import seqlab.nn
from seqlab.nn.bptt_common import fused_kernels


def test_fused_path_is_taken_for_cpu_float32_only():
    # the float32 agreement tests against torch.nn therefore exercise the kernels
    assert fused_kernels(torch.zeros(1)) is not None
    assert fused_kernels(torch.zeros(1, dtype=torch.float64)) is None


def test_kernel_tanh_matches_numpy_to_float32_precision():
    tanh = fused_kernels(torch.zeros(1))._tanh

    @njit
    def apply(a):
        for j in range(a.shape[0]):
            a[j] = tanh(a[j])

    x = np.linspace(-20, 20, 400_000, dtype=np.float32)
    a = x.copy()
    apply(a)
    err = np.abs(a.astype(np.float64) - np.tanh(x.astype(np.float64)))
    assert err.max() < 5e-7
    assert np.all(np.abs(a) <= 1)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_expanded_output_gradient_is_read_in_place(name):
    # output.sum() hands backward a stride-0 ∂L/∂y: the kernels read it as it is, without a copy
    torch.manual_seed(0)
    ref = getattr(torch.nn, name)(3, 5)
    ours = getattr(seqlab.nn, name)(3, 5)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(4, 2, 3)
    for net in (ours, ref):
        net(x)[0].sum().backward()
    for (pname, p), q in zip(ours.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, msg=pname)

"""The same code on CUDA: forward and hand-written backward agree with the CPU."""

import pytest
import torch

from seqlab.nn import GRU, LSTM, RNN


@pytest.mark.gpu
@pytest.mark.parametrize("cls", [LSTM, GRU, RNN])
def test_cuda_matches_cpu(cls):
    torch.manual_seed(0)
    cpu = cls(5, 7, num_layers=2, bidirectional=True).double()
    gpu = cls(5, 7, num_layers=2, bidirectional=True).double().cuda()
    gpu.load_state_dict(cpu.state_dict())
    x = torch.randn(8, 3, 5, dtype=torch.float64)
    lengths = torch.tensor([8, 2, 5])
    results = []
    for net, dev in ((cpu, "cpu"), (gpu, "cuda")):
        xd = x.to(dev).requires_grad_()
        out, _ = net(xd, lengths=lengths, keep_state_grads=True)
        out.pow(2).sum().backward()
        results.append([out, xd.grad, net.state_grads, *(p.grad for p in net.parameters())])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b.cpu())

"""One intra-op thread for the training tests: their tensors are tiny, and on a busy machine
OpenMP's thread synchronisation would cost more than the arithmetic."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

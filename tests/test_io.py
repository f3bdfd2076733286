"""seqlab.io: atomic writes leave finished files with the mode a plain ``open`` would give."""

import os
import stat

import numpy as np

from seqlab.io import atomic_write, load_arrays, meta_path, save_arrays


def expected_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_write_gives_the_usual_mode(tmp_path):
    target = tmp_path / "report.json"
    with atomic_write(target, "w", encoding="utf-8") as f:
        f.write("{}")
    assert mode(target) == expected_mode()


def test_safetensors_and_sidecar_get_the_usual_mode(tmp_path):
    target = tmp_path / "vectors.safetensors"
    save_arrays(target, {"w": np.arange(6.0).reshape(2, 3)}, {"words": ["a", "b"]})
    assert mode(target) == expected_mode()
    assert mode(meta_path(target)) == expected_mode()
    arrays, meta = load_arrays(target)
    assert arrays["w"].shape == (2, 3) and meta == {"words": ["a", "b"]}


def test_no_temporary_file_is_left_behind(tmp_path):
    save_arrays(tmp_path / "m.safetensors", {"w": np.zeros(2)}, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors", "m.safetensors.json"]

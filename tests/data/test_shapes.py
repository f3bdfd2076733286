"""The generated shapes scenes (seqlab.data.shapes): deterministic, held-out pairs, pictures."""

import numpy as np
import pytest

from seqlab.data.shapes import COLOURS, HELD_OUT, SHAPES, load_shapes


@pytest.fixture(scope="module")
def data():
    return load_shapes(train=200, valid=20, test=60, side=32, seed=3)


def test_the_same_seed_gives_the_same_scenes_and_another_seed_others(data):
    again = load_shapes(train=200, valid=20, test=60, side=32, seed=3)
    assert again.train.captions == data.train.captions
    assert np.array_equal(again.test.images, data.test.images)
    other = load_shapes(train=200, valid=20, test=60, side=32, seed=4)
    assert other.train.captions != data.train.captions


def test_a_larger_training_set_keeps_the_same_test_scenes(data):
    larger = load_shapes(train=400, valid=20, test=60, side=32, seed=3)
    assert larger.test.captions == data.test.captions


def test_held_out_pairs_occur_only_in_the_test_split(data):
    for split in (data.train, data.valid):
        pairs = {(s.colour, s.kind) for scene in split.scenes for s in (scene.first, scene.second)}
        assert not pairs & set(HELD_OUT)
    assert data.test.unseen.sum() == 30
    seen_pairs = {
        (s.colour, s.kind)
        for scene, unseen in zip(data.test.scenes, data.test.unseen, strict=True)
        if not unseen
        for s in (scene.first, scene.second)
    }
    assert not seen_pairs & set(HELD_OUT)


def test_four_references_name_both_shapes_and_their_relation(data):
    scene = data.train.scenes[0]
    captions = scene.captions()
    assert len(captions) == 4
    for caption in captions:
        for shape in (scene.first, scene.second):
            assert f"{shape.colour} {shape.kind}" in caption
    assert scene.first.size in captions[0] and scene.second.size in captions[0]
    vocabulary = {w for c in data.train.captions for ref in c for w in ref.split()}
    assert set(SHAPES) <= vocabulary and vocabulary & set(COLOURS)


def test_pictures_show_the_first_shape_left_of_or_above_the_second(data):
    for picture, scene in zip(data.train.images[:20], data.train.scenes[:20], strict=True):
        assert picture.shape == (32, 32, 3) and picture.dtype == np.uint8
        colour = np.array(COLOURS[scene.first.colour])
        near = np.abs(picture.astype(int) - colour).sum(-1) < 60
        ys, xs = np.nonzero(near)
        assert len(xs) > 0  # the shape is drawn in its colour
        axis = xs if scene.relation == "horizontal" else ys
        assert axis.min() < 16  # the first shape reaches into the left (top) half


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="at least one scene"):
        load_shapes(train=0)
    with pytest.raises(ValueError, match="side"):
        load_shapes(train=5, side=8)

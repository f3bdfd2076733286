"""Image captioning (seqlab.tasks.caption, seqlab caption), pictures and the Flickr8k layout."""

import io
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from seqlab.cli.main import main
from seqlab.data import images
from seqlab.data.caption_images import Flickr8kImages, ImagesNotFoundError, load_split
from seqlab.data.captions import Captions
from seqlab.data.images import ImageError, read_image
from seqlab.tasks.caption import Captioner, CaptionInputError
from seqlab.tasks.caption_eval import bleu, evaluate, train_run

TINY = dict(side=16, channels=4, embed_dim=8, hidden=16, attention_dim=8, epochs=1)
SCENES = {"scenes": 40, "valid": 6, "test": 8}


@pytest.fixture(scope="module", params=[False, True], ids=["show-tell", "attention"])
def trained(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("caption")
    cap, summary = train_run("shapes", out, {**TINY, "attention": request.param}, SCENES, True)
    return cap, summary, out


def png_bytes(mode, size=(20, 12), colour=None) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


# --- BLEU ---


def test_bleu_scores_against_all_references():
    refs = [["a red circle left of a blue square", "a blue square right of a red circle"]]
    assert bleu(["a blue square right of a red circle"], refs)["bleu4"] == pytest.approx(1.0)
    assert bleu(["a red circle"], refs)["bleu4"] < 0.5
    mixed = bleu(["a red circle", "a dog"], [["a red circle"], ["a dog", "one dog", "the dog"]])
    assert mixed["bleu1"] == pytest.approx(1.0)  # fewer references are padded, not dropped


# --- training, decoding, evaluation ---


def test_a_trained_captioner_decodes_greedy_and_beam(trained):
    cap, summary, _ = trained
    assert summary["epochs_run"] == 1 and np.isfinite(summary["valid_loss"])
    pictures = np.zeros((3, 16, 16, 3), dtype=np.uint8)
    greedy = cap.caption(pictures)
    beam = cap.caption(pictures, beam=3, attention=True)
    assert len(greedy) == len(beam) == 3
    assert all(len(c.text.split()) <= cap.config.max_words for c in greedy + beam)
    if cap.config.attention:
        assert beam[0].attention.shape == (len(beam[0].text.split()) + 1, 4)
        assert np.allclose(beam[0].attention.sum(1), 1.0, atol=1e-5)


def test_eval_reports_seen_and_unseen_scenes(trained, tmp_path):
    _, _, out = trained
    metrics = evaluate(out, "test", beam=2, png=tmp_path / "scenes.png")
    assert (tmp_path / "scenes.png").stat().st_size > 0
    for key in ("greedy_all", "greedy_seen", "greedy_unseen", "beam_all", "beam_unseen"):
        assert 0 <= metrics[key]["bleu4"] <= 1
    assert metrics["greedy_seen"]["pictures"] + metrics["greedy_unseen"]["pictures"] == 8


def test_a_saved_captioner_gives_the_same_captions(trained):
    cap, _, out = trained
    pictures = np.random.default_rng(0).integers(0, 255, (2, 16, 16, 3), dtype=np.uint8)
    assert [c.text for c in Captioner.load(out).caption(pictures)] == [
        c.text for c in cap.caption(pictures)
    ]


def test_pictures_of_the_wrong_shape_are_refused(trained):
    cap, _, _ = trained
    with pytest.raises(CaptionInputError, match="read_image"):
        cap.caption(np.zeros((1, 20, 20, 3), dtype=np.uint8))


def test_a_different_run_on_the_same_out_is_refused(trained):
    _, _, out = trained
    with pytest.raises(CaptionInputError, match="other settings"):
        train_run("shapes", out, {**TINY, "hidden": 12}, SCENES, True)


def test_cli_captions_a_picture_and_draws_attention(trained, tmp_path):
    cap, _, out = trained
    picture = tmp_path / "scene.png"
    Image.fromarray(np.full((40, 60, 3), 90, dtype=np.uint8)).save(picture)
    runner = CliRunner()
    args = ["caption", "image", str(out), str(picture), "--attention", str(tmp_path / "a.png")]
    result = runner.invoke(main, args)
    if cap.config.attention:
        assert result.exit_code == 0, result.output
        assert (tmp_path / "a.png").stat().st_size > 0
    else:
        assert result.exit_code == 1 and "without attention" in result.output
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_text("hello")
    result = runner.invoke(main, ["caption", "image", str(out), str(not_a_picture)])
    assert result.exit_code == 1 and "is not a picture" in result.output


# --- reading pictures ---


def test_grayscale_and_transparent_pictures_become_rgb():
    gray = read_image(png_bytes("L", colour=77), side=8)
    assert gray.shape == (8, 8, 3) and (gray == 77).all()
    clear = read_image(png_bytes("RGBA", colour=(255, 0, 0, 0)), side=8)
    assert (clear == 0).all()  # fully transparent: the black background
    solid = read_image(png_bytes("RGBA", colour=(255, 0, 0, 255)), side=8)
    assert solid[0, 0].tolist() == [255, 0, 0]
    deep = read_image(png_bytes("I;16", colour=4000), side=8)
    assert (deep == 255).all()  # 16-bit gray is scaled, not clipped to noise


def test_huge_damaged_and_missing_pictures_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(ImageError, match="scale it down"):
        read_image(png_bytes("RGB", size=(20, 12)), side=8)
    monkeypatch.undo()
    noise = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    with pytest.raises(ImageError, match="damaged"):
        read_image(buffer.getvalue()[: len(buffer.getvalue()) // 2], side=8)
    with pytest.raises(ImageError, match="does not exist"):
        read_image(tmp_path / "nothing.png", side=8)


# --- Flickr8k's layout, on generated JPEGs ---


def tiny_flickr(tmp_path):
    ids = {split: [f"{n}_{split}.jpg" for n in range(3)] for split in ("train", "dev", "test")}
    captions = {
        i: [f"a dog number {n}", f"one dog {n}"]
        for split in ids.values()
        for n, i in enumerate(split)
    }
    text = Captions("flickr8k", captions, ids["train"], ids["dev"], ids["test"])
    archive = tmp_path / "Flickr8k_Dataset.zip"
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(archive, "w") as z:
        for image_id in captions:
            buffer = io.BytesIO()
            pixels = rng.integers(0, 255, (30, 45, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(buffer, format="JPEG")
            z.writestr(f"Flicker8k_Dataset/{image_id}", buffer.getvalue())
    return text, archive


def test_flickr8k_pictures_are_read_from_the_archive_or_a_folder(tmp_path):
    text, archive = tiny_flickr(tmp_path)
    pictures, refs, _ = load_split(text, "dev", 16, Flickr8kImages(archive))
    assert pictures.shape == (3, 16, 16, 3) and refs[0] == ["a dog number 0", "one dog 0"]
    folder = tmp_path / "unpacked"
    zipfile.ZipFile(archive).extractall(folder)
    again, _, _ = load_split(text, "dev", 16, Flickr8kImages(folder))
    assert np.array_equal(again, pictures)


def test_flickr8k_missing_or_incomplete_archives_say_what_to_fetch(tmp_path, monkeypatch):
    text, archive = tiny_flickr(tmp_path)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "no-mirror"))
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "no-cache"))
    with pytest.raises(ImagesNotFoundError, match=r"Flickr8k_Dataset\.zip .* from https://"):
        Flickr8kImages.locate()
    text.train.append("404_gone.jpg")
    text.captions["404_gone.jpg"] = ["a cat"]
    with pytest.raises(ImagesNotFoundError, match="lacks 1 of the 4 pictures"):
        load_split(text, "train", 16, Flickr8kImages(archive))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK not really")
    with pytest.raises(ImagesNotFoundError, match="not a readable zip"):
        Flickr8kImages(broken)


def test_cli_trains_on_a_flickr8k_layout(tmp_path, monkeypatch):
    text, archive = tiny_flickr(tmp_path)
    monkeypatch.setattr("seqlab.data.captions.load_flickr8k", lambda progress=False: text)
    out = tmp_path / "model"
    args = ["caption", "train", "flickr8k", "--out", str(out), "--images", str(archive)]
    args += ["--side", "16", "--channels", "4", "--hidden", "8", "--epochs", "1", "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        main, ["caption", "eval", str(out), "--json", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 0, result.output
    assert "BLEU-4" in result.output

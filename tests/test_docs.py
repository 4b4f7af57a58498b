"""The documentation site's generators and checks (the full build is a CI step, not a test).

- every registered augmentation op gets a gallery page with its figures and parameter table;
- every public name has a docstring (the build also enforces it, through numpydoc's GL08);
- a cross-reference to a name that does not exist fails a build with the site's settings.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import io
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import genlab

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"genlab_docs_{name}", DOCS / "_ext" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _registered_op_names() -> list[str]:
    """Every registered op and policy, and each op of the legacy ``augment`` stage, as genlab
    itself lists them (not as the gallery does)."""
    from genlab.transforms import op_names
    from genlab.transforms.classic import AUGMENT_OPS

    return op_names() + [f"augment-{op.name}" for op in AUGMENT_OPS]


@pytest.fixture(scope="module")
def gallery():
    return _load("gallery")


@pytest.fixture(scope="module")
def photo(gallery, tmp_path_factory):
    root = genlab.make_sample_data(
        tmp_path_factory.mktemp("photos") / "p", kind="photos", n_per_class=1
    )
    return gallery.sample_photo(root)


@pytest.fixture(scope="module")
def written(gallery, photo, tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    gallery.write_gallery(out, image=photo)
    return out


def _png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(path.read_bytes())) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


@pytest.mark.parametrize("name", _registered_op_names())
def test_every_registered_op_has_a_gallery_page_with_figures_and_parameters(name, written, gallery):
    page = (written / f"{name}.md").read_text()
    entry = next(e for e in gallery.entries() if e.name == name)
    for (
        param,
        declared,
    ) in entry.params.items():  # one table row per declared parameter, with its help
        assert f"| `{param}` |" in page and declared.help in page
    stronger = _png(written / "images" / f"{name}-stronger.png")
    default_png = written / "images" / f"{name}-default.png"
    if default_png.exists():
        default = _png(default_png)
        assert default.shape == stronger.shape and not np.array_equal(default, stronger)
    else:  # allowed only with the reason on the page
        assert "It cannot run at its defaults: `" in page
    assert f"({name}.md)" in (written / "index.md").read_text()


@pytest.mark.parametrize("name", _registered_op_names())
def test_stronger_setting_differs_from_the_defaults(name, gallery):
    entry = next(e for e in gallery.entries() if e.name == name)
    assert entry.stronger() != entry.defaults(), (
        f"{name}: its stronger setting equals its defaults; add one to STRONGER in docs/_ext/gallery.py"
    )


def test_stronger_settings_name_only_registered_ops(gallery):
    assert set(gallery.STRONGER) <= set(_registered_op_names())


def test_draws_are_recorded_in_the_titles_and_replayable(gallery, photo):
    from genlab.transforms import replay

    entry = next(e for e in gallery.entries() if e.name == "random_resized_crop")
    images, titles = gallery.draws(entry, photo, entry.stronger())
    assert (
        len(images) == gallery.DRAWS and len(set(titles)) == gallery.DRAWS
    )  # eight different draws
    record = entry.draw(np.random.default_rng([gallery.SEED, 0]), entry.stronger(), photo.shape[:2])
    assert titles[0].startswith(
        f"t{record['top']} l{record['left']} h{record['height']} w{record['width']}"
    )
    assert np.array_equal(images[0], replay(photo, [{"op": entry.name, **record}]))


def test_a_group_shows_the_members_it_drew(gallery, photo):
    entry = next(e for e in gallery.entries() if e.name == "one_of")
    _, titles = gallery.draws(entry, photo, entry.stronger())
    assert set(titles) <= {"hflip", "vflip", "rotate90"} and len(set(titles)) > 1


def test_a_geometry_op_moves_the_targets_of_its_draws_as_replay_does(gallery, photo):
    from genlab.sample_shapes import shapes_format
    from genlab.transforms import replay_targets

    entry = next(e for e in gallery.entries() if e.name == "random_affine")
    images, moved, titles = gallery.target_draws(entry, photo, entry.stronger())
    painted, targets = gallery.targets_sample(photo)
    record = entry.draw(np.random.default_rng([gallery.SEED, 2]), entry.stronger(), photo.shape[:2])
    image, expected = replay_targets(
        painted, targets, [{"op": entry.name, **record}], shapes_format()
    )
    assert np.array_equal(images[2], image) and titles[2] == gallery._short(record)
    assert np.array_equal(moved[2].boxes, expected.boxes) and not np.array_equal(
        moved[2].boxes, targets.boxes
    )
    assert np.array_equal(moved[2].masks, expected.masks)
    assert np.array_equal(moved[2].keypoints, expected.keypoints)


def test_pages_show_targets_where_an_op_moves_them_and_say_why_not_elsewhere(written):
    for name in ("hflip", "random_resized_crop", "rand_augment", "one_of", "cutmix"):
        assert f"images/{name}-targets.png" in (written / f"{name}.md").read_text()
        assert _png(written / "images" / f"{name}-targets.png").size
    assert "leaves boxes, masks and keypoints" in (written / "gaussian_blur.md").read_text()
    assert "refuses a batch that carries targets" in (written / "mixup.md").read_text()


def test_a_batch_op_mixes_the_photo_with_its_mirror_and_shows_what_it_drew(
    gallery, photo, tmp_path
):
    from genlab import Float
    from genlab.transforms import BatchOp

    def draw(rngs, params, shape):
        return [
            {"partner": (i - 1) % len(rngs), "lam": round(params["lam"] + i / 100, 2)}
            for i in range(len(rngs))
        ]

    def apply(x, y, records):
        lam = np.array([r["lam"] for r in records])[:, None, None, None]
        partners = [r["partner"] for r in records]
        mixed = lam * x.astype(np.float64) + (1 - lam) * x[partners].astype(np.float64)
        return np.rint(mixed).astype(np.uint8), y

    toy = BatchOp("toy_mix", "mixing", {"lam": Float(0.5, low=0.0, high=1.0, help="weight of the sample")},
                  draw=draw, apply=apply, help="blend each image with the one before")  # fmt: skip
    entry = gallery._op_entry(toy)
    assert entry.mixes
    images, titles = gallery.draws(entry, photo, {"lam": 0.25})
    mirror = photo[:, ::-1]
    assert titles[0] == f"lam 0.25 with #{gallery.DRAWS - 1}" and titles[3] == "lam 0.28 with #2"
    # sample 3 (a mirror) mixed with sample 2 (the photo), by its own lam
    expected = np.rint(0.28 * mirror.astype(np.float64) + 0.72 * photo.astype(np.float64)).astype(
        np.uint8
    )
    assert np.array_equal(images[3], expected)
    page = gallery.write_gallery(tmp_path, [entry], image=photo)[0]
    assert (
        "| `lam` |" in page.read_text() and _png(tmp_path / "images" / "toy_mix-default.png").size
    )


def test_the_api_reference_describes_a_registered_op_by_its_declarations(tmp_path):
    apigen = _load("apigen")
    from genlab.transforms import get_op

    text = apigen._entry("genlab.transforms.geometry.hflip", get_op("hflip"))
    assert text.startswith(".. py:function:: genlab.transforms.geometry.hflip(*, p=0.5)")
    assert get_op("hflip").help[1:] in text and ":doc:`/gallery/hflip`" in text


def _public_objects():
    modules = ["genlab", "genlab.lab"]
    for name, framework in (("torch", "torch"), ("keras", "keras"), ("dask", "distributed")):
        if importlib.util.find_spec(framework) is not None:
            modules.append(f"genlab.integrations.{name}")
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("__") or inspect.ismodule(obj):
                continue
            yield f"{module_name}.{name}", obj
            if inspect.isclass(obj) and obj.__module__.startswith("genlab"):
                for member, value in vars(obj).items():
                    if not member.startswith("_") and (
                        callable(value) or isinstance(value, property)
                    ):
                        yield f"{module_name}.{name}.{member}", value


def test_every_public_name_and_public_method_has_a_docstring():
    missing = [path for path, obj in _public_objects() if not (inspect.getdoc(obj) or "").strip()]
    assert missing == []


def test_an_unknown_cross_reference_fails_a_build_with_the_site_settings(tmp_path, monkeypatch):
    sphinx_cmd = pytest.importorskip("sphinx.cmd.build")
    pytest.importorskip("myst_parser")
    for name in ("PYTHONPATH", "MPLBACKEND"):  # the site's conf.py sets them; restored afterwards
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.setattr(sys, "path", list(sys.path))
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        textwrap.dedent(
            f"""
            import importlib.util
            spec = importlib.util.spec_from_file_location("site_conf", {str(DOCS / "conf.py")!r})
            site = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(site)
            nitpicky = site.nitpicky
            nitpick_ignore_regex = site.nitpick_ignore_regex
            extensions = ["myst_parser", "sphinx.ext.autodoc"]
            """
        )
    )
    page = src / "index.md"
    page.write_text(
        "# t\n\n```{eval-rst}\n.. autofunction:: genlab.load\n```\n\nSee {func}`genlab.load`.\n"
    )
    out = tmp_path / "out"
    args = ["-q", "-W", "-E", "-b", "html", str(src), str(out)]
    assert sphinx_cmd.build_main(args) == 0  # a name that exists resolves
    page.write_text(page.read_text() + "\nAnd {func}`genlab.no_such_function`.\n")
    stderr = io.StringIO()
    old, sys.stderr = sys.stderr, stderr
    try:
        status = sphinx_cmd.build_main(args)
    finally:
        sys.stderr = old
    assert status != 0
    assert "genlab.no_such_function" in stderr.getvalue()

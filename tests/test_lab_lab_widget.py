"""Tests for genlab.lab.lab_widget: the PipelineLab widget driven from Python, no browser."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import genlab  # noqa: E402
from genlab.lab import PipelineLab  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: A picture of samples (JPEG, the default, or PNG) or a chart (PNG).
PICTURE = (PNG_MAGIC, b"\xff\xd8\xff")


def make_lab(root, tmp_path, stages):
    """A lab over 8-image batches of 32 x 32 digits, redrawing on every change."""
    pipeline = genlab.Pipeline.from_folder(root, batch_size=8, seed=0, stages=stages)
    return PipelineLab(pipeline, throttle=0, export_stem=tmp_path / "exported")


@pytest.fixture
def lab(digits_root, tmp_path):
    stages = [
        ("read_images", {"target_size": (32, 32)}),
        "augment",
        "rescale_images",
        "shuffle_samples",
    ]
    return make_lab(digits_root, tmp_path, stages)


def _by_class(widget, css_class):
    found = []
    if css_class in getattr(widget, "_dom_classes", ()):
        found.append(widget)
    for child in getattr(widget, "children", ()):
        found.extend(_by_class(child, css_class))
    return found


def test_controls_are_generated_from_declared_params(lab):
    assert set(lab.toggles[i].description for i in range(4)) == {
        "1. read_images",
        "2. augment",
        "3. rescale_images",
        "4. shuffle_samples",
    }
    kinds = {
        name: type(c.widget).__name__ for (p, name), c in lab.controls.items() if p in (0, 1, 2)
    }
    assert kinds["hflip"] == "FloatSlider"
    assert kinds["resize"] == "Dropdown"
    assert kinds["draft"] == "Checkbox"
    assert kinds["target_size"] == "HBox"  # width and height fields
    assert kinds["mean"] == "Text"
    assert kinds["max_pixels"] == "BoundedIntText"
    assert lab.controls[(0, "target_size")].value == (32, 32)
    assert bytes(lab.grid.value).startswith(PICTURE) and bytes(lab.grid.value) == lab.grid_png


def test_moving_a_slider_changes_the_pipeline_and_redraws(lab):
    before, redraws = bytes(lab.grid.value), lab.redraws
    lab.controls[(1, "vflip")].widget.value = 1.0
    assert lab.model.pipeline.stages[1].params["vflip"] == 1.0
    assert lab.redraws == redraws + 1
    assert bytes(lab.grid.value) != before
    assert lab.message.value == ""


def test_toggle_changes_grid_and_memory_numbers(lab):
    memory_before, grid_before = lab.memory_table.value, bytes(lab.grid.value)
    assert "float32" in memory_before
    lab.toggles[2].value = False  # rescale_images off: uint8 all the way
    assert lab.model.pipeline.stages[2].enabled is False
    assert "float32" not in lab.memory_table.value
    assert lab.memory_table.value != memory_before
    lab.toggles[2].value = True
    assert "float32" in lab.memory_table.value
    assert bytes(lab.grid.value) == grid_before  # same source batch, same draws


def test_bad_value_shows_its_error_at_the_stage_keeping_the_users_text(lab):
    good = lab.model.pipeline.to_spec()
    lab.controls[(2, "mean")].widget.value = "1, 2"
    error = lab.panel.errors[2].value
    assert "not applied" in error and "mean" in error and lab.message.value == ""
    assert lab.controls[(2, "mean")].widget.value == "1, 2"  # kept to be corrected
    assert lab.model.pipeline.stages[2].params["mean"] == (0.0, 0.0, 0.0)  # last good state
    lab.controls[(0, "target_size")]._parts[0].value = 0
    assert "target_size" in lab.panel.errors[0].value
    assert lab.controls[(0, "target_size")].value == (0, 32)
    assert lab.controls[(2, "mean")].widget.value == "1, 2"  # still there after another error
    assert lab.move(1, 3) is False  # augment after rescale breaks at run time: no one control
    assert "augment works on uint8" in lab.message.value
    assert [t.description for t in lab.toggles][1] == "2. augment"
    assert lab.model.pipeline.to_spec() == good
    lab.controls[(1, "hflip")].widget.value = 0.0  # a good change clears the top message
    assert lab.message.value == ""
    lab.controls[(2, "mean")].widget.value = "1, 2, 3"  # corrected: the stage's error goes
    assert lab.panel.errors[2].value == "" and lab.model.pipeline.stages[2].params["mean"] == (
        1.0,
        2.0,
        3.0,
    )


def test_add_reorder_remove_buttons(lab):
    @genlab.stage(params={"amount": genlab.Int(10, low=0, high=255, help="added to every pixel")})
    def brighten_for_lab_test(batch, *, amount):
        return batch.replace(x=np.clip(batch.x.astype(np.int16) + amount, 0, 255).astype(np.uint8))

    try:
        lab._rebuild_stages()  # the dropdown lists stages registered after the lab was made
        assert "brighten_for_lab_test" in [value for _label, value in lab.add_choice.options]
        lab.add_choice.value = "brighten_for_lab_test"
        _by_class(lab, "genlab-add")[0].click()
        assert lab.model.pipeline.stages[-1].name == "brighten_for_lab_test"
        assert type(lab.controls[(4, "amount")].widget).__name__ == "IntSlider"
        _by_class(lab, "genlab-move-up")[4].click()
        _by_class(lab, "genlab-move-up")[3].click()
        assert [s.name for s in lab.model.pipeline.stages][2] == "brighten_for_lab_test"
        lab.controls[(2, "amount")].widget.value = 50
        assert lab.model.pipeline.stages[2].params["amount"] == 50
        _by_class(lab, "genlab-remove")[2].click()
        assert "brighten_for_lab_test" not in [s.name for s in lab.model.pipeline.stages]
    finally:
        genlab.registry.unregister("brighten_for_lab_test")


def test_next_batch_new_draw_and_views(lab):
    grid = bytes(lab.grid.value)
    _by_class(lab, "genlab-next-batch")[0].click()
    assert lab.model.batch_index == 1 and bytes(lab.grid.value) != grid
    _by_class(lab, "genlab-new-draw")[0].click()
    assert lab.model.pipeline.stage("augment").params["seed"] == 1 and "draw 1" in lab.status.value
    for title, image in [
        ("original vs processed", lab.compare),
        ("one image, many draws", lab.draws_image),
        ("one op alone", lab.op_image),
        ("class mix", lab.class_mix_image),
        ("memory over time", lab.rss_image),
    ]:
        assert bytes(image.value) == b""  # drawn only when looked at
        lab.views.selected_index = _VIEWS_INDEX(lab)[title]
        assert bytes(image.value).startswith(PICTURE)
        assert lab.message.value == ""
    assert "class mix:" in lab.class_line.value


def test_export_button_writes_files_that_rebuild_the_grid(lab, tmp_path):
    lab.controls[(1, "rotation_p")].widget.value = 1.0
    _by_class(lab, "genlab-export")[0].click()
    assert "exported.json" in lab.export_result.value
    spec_path, python_path = tmp_path / "exported.json", tmp_path / "exported.py"
    assert spec_path.exists() and python_path.exists()
    rebuilt = genlab.load(spec_path)
    batch = next(iter(rebuilt.iter_epoch(lab.model.epoch)))
    np.testing.assert_array_equal(batch.x, lab.model.last.batch.x)
    assert lab.export().pipeline == rebuilt
    lab.load_path.value = str(spec_path)
    lab.controls[(1, "rotation_p")].widget.value = 0.0
    _by_class(lab, "genlab-load")[0].click()
    assert lab.model.pipeline.stages[1].params["rotation_p"] == 1.0
    assert lab.controls[(1, "rotation_p")].value == 1.0


def test_lab_from_a_folder(digits_root):
    lab = PipelineLab(digits_root, batch_size=4, throttle=0)
    assert [s.name for s in lab.model.pipeline.stages] == list(genlab.pipeline.DEFAULT_STAGES)
    assert lab.model.last.batch.x.shape == (4, 224, 224, 3)


def test_views_draw_when_a_stage_changes_the_image_size(lab):
    @genlab.stage
    def halve_for_lab_test(batch):
        return batch.replace(x=batch.x[:, ::2, ::2])

    try:
        assert lab.add_stage("halve_for_lab_test", 1)
        lab.views.selected_index = _VIEWS_INDEX(lab)["original vs processed"]  # 32 px beside 16
        assert lab.message.value == ""
        assert bytes(lab.compare.value).startswith(PICTURE)
        assert lab.model.last.batch.x.shape[1:3] == (16, 16)
    finally:
        genlab.registry.unregister("halve_for_lab_test")


def test_statistics_button_fills_rescale_from_the_data(lab):
    from genlab.integrations.dask import channel_stats

    expected = channel_stats(lab.model.pipeline, client=False)
    _by_class(lab, "genlab-stats")[0].click()
    params = lab.model.pipeline.stage("rescale_images").params
    np.testing.assert_allclose(params["mean"], expected.mean)
    np.testing.assert_allclose(params["std"], expected.std)
    assert lab.stats_progress.value == lab.stats_progress.max > 0
    assert 0 < min(params["mean"]) and max(params["mean"]) < 255


# -- composable ops ---------------------------------------------------------------------------


@pytest.fixture
def op_lab(digits_root, tmp_path):
    stages = [("read_images", {"target_size": (32, 32)}), "hflip", "rescale_images"]
    return make_lab(digits_root, tmp_path, stages)


def _labels(dropdown):
    return [label for label, _value in dropdown.options]


def test_add_menu_is_grouped_by_kind_with_a_help_line(op_lab):
    from genlab.lab.menu import GROUP_ORDER, is_heading, menu_groups

    headings = [
        label.strip("─ ") for label, value in op_lab.add_choice.options if is_heading(value)
    ]
    known = [h for h in GROUP_ORDER.values() if h in headings]
    assert headings[: len(known)] == known and headings[-1] == "pipeline stages"
    assert headings[:2] == ["geometry", "colour"]
    labels = _labels(op_lab.add_choice)
    geometry, colour = labels.index("── geometry ──"), labels.index("── colour ──")
    assert geometry < labels.index("   random_resized_crop") < colour
    assert colour < labels.index("   color_jitter") < labels.index("── pipeline stages ──")
    op_lab.add_choice.index = colour  # a heading: the first entry under it is chosen
    assert op_lab.add_choice.value == dict(menu_groups())["colour"][0]
    op_lab.add_choice.value = "random_resized_crop"
    assert "random_resized_crop" in op_lab.add_help.value and "ImageNet" in op_lab.add_help.value


def test_foreign_kinds_get_a_group_before_the_pipeline_stages(op_lab):
    def flip_for_lab_test():
        while True:
            x, y = yield
            yield x[:, ::-1], y

    genlab.registry.register("flip_for_lab_test", flip_for_lab_test, kind="elsewhere")
    try:
        op_lab._rebuild_stages()
        labels = _labels(op_lab.add_choice)
        at = labels.index("── elsewhere ──")
        assert labels[at + 1] == "   flip_for_lab_test"
        assert labels.index("── groups of ops ──") < at < labels.index("── pipeline stages ──")
    finally:
        genlab.registry.unregister("flip_for_lab_test")


def test_ops_from_the_dropdown_twice_moved_toggled_removed(op_lab):
    for name in ("random_resized_crop", "color_jitter", "color_jitter"):
        op_lab.add_choice.value = name
        _by_class(op_lab, "genlab-add")[0].click()
    names = [s.name for s in op_lab.model.pipeline.stages]
    assert names == [
        "read_images", "hflip", "random_resized_crop", "color_jitter", "color_jitter",
        "rescale_images",
    ]  # fmt: skip
    assert op_lab.message.value == ""
    assert op_lab.model.last.batch.x.shape[1:3] == (224, 224)  # random_resized_crop's default
    assert op_lab.remove_stage(4) and op_lab.remove_stage(2) and op_lab.remove_stage(2)
    grid = bytes(op_lab.grid.value)
    assert op_lab.add_stage("color_jitter", 2) and op_lab.add_stage("color_jitter", 2)
    assert op_lab.add_stage("random_resized_crop", 1, size=(24, 24))
    names = [s.name for s in op_lab.model.pipeline.stages]
    assert names == [
        "read_images", "random_resized_crop", "hflip", "color_jitter", "color_jitter",
        "rescale_images",
    ]  # fmt: skip
    assert op_lab.model.last.batch.x.shape[1:3] == (24, 24)
    assert bytes(op_lab.grid.value) != grid
    assert not op_lab.add_stage("color_jitter", 6)  # after rescale_images: floats, refused
    assert "not applied" in op_lab.message.value and "uint8" in op_lab.message.value
    assert len(op_lab.model.pipeline.stages) == 6
    kinds = {name: type(c.widget).__name__ for (p, name), c in op_lab.controls.items() if p == 1}
    assert kinds == {"size": "HBox", "scale": "FloatRangeSlider", "ratio": "FloatRangeSlider",
                     "resample": "Dropdown"}  # fmt: skip
    op_lab.controls[(1, "scale")].widget.value = (0.5, 0.9)
    assert op_lab.model.pipeline.stages[1].params["scale"] == (0.5, 0.9)
    grid = bytes(op_lab.grid.value)
    _by_class(op_lab, "genlab-move-up")[3].click()  # color_jitter above hflip: they commute
    assert [s.name for s in op_lab.model.pipeline.stages][2:4] == ["color_jitter", "hflip"]
    assert bytes(op_lab.grid.value) == grid
    _by_class(op_lab, "genlab-move-up")[
        2
    ].click()  # and above the crop: jitter sees the whole image
    assert [s.name for s in op_lab.model.pipeline.stages][1:3] == [
        "color_jitter",
        "random_resized_crop",
    ]
    assert bytes(op_lab.grid.value) != grid  # the same draws, applied in another order
    op_lab.toggles[2].value = False
    assert op_lab.model.pipeline.stages[2].enabled is False
    views = _VIEWS_INDEX(op_lab)
    op_lab.views.selected_index = views["original vs processed"]  # 32 px beside 24 px
    assert bytes(op_lab.compare.value).startswith(PICTURE) and op_lab.message.value == ""


def _VIEWS_INDEX(lab):
    return {lab.views.get_title(i): i for i in range(len(lab.views.children))}


def test_one_op_alone_view(op_lab):
    assert op_lab.add_stage("color_jitter", 2, hue=0.2)
    views = _VIEWS_INDEX(op_lab)
    assert list(views) == [
        "grid", "compare A/B", "zoom", "original vs processed", "one image, many draws",
        "one op alone", "class mix", "memory over time",
    ]  # fmt: skip
    _by_class(op_lab, "genlab-show-op")[2].click()
    assert op_lab.views.selected_index == views["one op alone"]
    assert op_lab.op_choice.value == 2 and op_lab.op_choice.label == "3. color_jitter"
    shown = bytes(op_lab.op_image.value)
    assert shown.startswith(PICTURE) and op_lab.message.value == ""
    op_lab.op_choice.value = 1  # hflip alone
    assert bytes(op_lab.op_image.value) not in (b"", shown)
    op_lab.set_params(1, p=0.0)  # the view follows the op's parameters
    never = bytes(op_lab.op_image.value)
    op_lab.set_params(1, p=1.0)
    assert bytes(op_lab.op_image.value) != never
    op_lab.op_choice.value = 2
    jitter = bytes(op_lab.op_image.value)
    _by_class(op_lab, "genlab-new-draw")[0].click()  # new draws of the op alone too
    assert op_lab.model.pipeline.augment_seed == 1 and "draw 1" in op_lab.status.value
    assert bytes(op_lab.op_image.value) not in (b"", jitter)


def test_group_members_are_shown_and_edited_as_text(op_lab):
    assert op_lab.add_stage("one_of", 1, ops=["vflip", ("rotate90", {"p": 1.0})])
    control = op_lab.controls[(1, "ops")]
    assert "<code>vflip</code>" in control.members.value
    assert "<code>rotate90</code> (p=1.0)" in control.members.value
    text = control._parts[0]
    assert '["rotate90", {"p": 1.0}]' in text.value
    text.value = '["hflip", ["color_jitter", {"hue": 0.3}]]'
    assert [m["name"] for m in op_lab.model.pipeline.stages[1].params["ops"]] == [
        "hflip", "color_jitter",
    ]  # fmt: skip
    assert "<code>color_jitter</code> (hue=0.3)" in control.members.value
    assert op_lab.message.value == ""
    text.value = '["hflip", "vflp"]'  # shown at the group's box, the closest names only
    error = op_lab.panel.errors[1].value
    assert "not applied" in error and "unknown op &#x27;vflp&#x27;" in error
    assert "did you mean &#x27;vflip&#x27;" in error and "posterize" not in error
    assert text.value == '["hflip", "vflp"]' and op_lab.message.value == ""  # the text is kept
    text.value = '["hflip", '  # not even JSON: named as the parameter's bad value
    error = op_lab.panel.errors[1].value
    assert "one_of: parameter &#x27;ops&#x27; must be a list of ops" in error
    assert text.value == '["hflip", '
    assert [m["name"] for m in op_lab.model.pipeline.stages[1].params["ops"]] == [
        "hflip", "color_jitter",
    ]  # fmt: skip
    text.value = '["hflip", ["color_jitter", {"hue": 0.3}]]'  # corrected: the error goes
    assert op_lab.panel.errors[1].value == ""
    weights = op_lab.controls[(1, "weights")]
    assert type(weights.widget).__name__ == "Text"
    weights.widget.value = "1, 3"
    assert op_lab.model.pipeline.stages[1].params["weights"] == (1.0, 3.0)
    weights.widget.value = "1, x"
    assert (
        "not applied" in op_lab.panel.errors[1].value and "weights" in op_lab.panel.errors[1].value
    )
    assert weights.widget.value == "1, x"  # kept to be corrected; the model keeps (1, 3)
    assert op_lab.model.pipeline.stages[1].params["weights"] == (1.0, 3.0)


def test_the_default_lab_shows_photos(tmp_path, monkeypatch):
    photos = genlab.make_sample_data(tmp_path / "photos", kind="photos", n_per_class=4)
    monkeypatch.setattr("genlab.lab.lab_model.ensure_sample_data", lambda kind: photos)
    lab = PipelineLab(batch_size=4, throttle=0)
    assert lab.model.pipeline.class_names == ("china", "flower")
    assert lab.model.last.batch.x.shape == (4, 224, 224, 3)
    assert bytes(lab.grid.value).startswith(PICTURE)


def test_stages_fold_to_one_line_and_the_added_op_opens(op_lab):
    assert all(body.layout.display == "none" for body in op_lab.panel.bodies)  # all folded
    assert "target_size=(32, 32)" in op_lab.panel.summaries[0].value
    assert "defaults" in op_lab.panel.summaries[1].value
    assert op_lab.toggles[1].description == "2. hflip"
    assert op_lab.add_stage("gaussian_blur")
    position = [s.name for s in op_lab.model.pipeline.stages].index("gaussian_blur")
    assert op_lab.panel.new == position
    assert "genlab-stage-new" in op_lab.panel.boxes[position]._dom_classes
    shown = [i for i, body in enumerate(op_lab.panel.bodies) if body.layout.display != "none"]
    assert shown == [position]
    op_lab.controls[(position, "p")].widget.value = 0.7
    assert "p=0.7" in op_lab.panel.summaries[position].value  # the summary follows the values
    _by_class(op_lab.panel.boxes[1], "genlab-fold")[0].click()
    assert op_lab.panel.bodies[1].layout.display == ""
    read = _by_class(op_lab.panel.boxes[0], "genlab-advanced")
    assert len(read) == 1 and "advanced settings" in read[0].get_title(0)
    advanced = {c._dom_classes[0] for c in read[0].children[0].children}
    assert "genlab-param-draft" in advanced and "genlab-param-target_size" not in advanced


def _pixels(image):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(bytes(image.value))))


def test_compare_view_pins_a_and_shows_both_grids(op_lab, tmp_path):
    _by_class(op_lab, "genlab-pin-top")[0].click()
    view = op_lab.view_list[op_lab.views.selected_index]
    assert view.title == "compare A/B" and "the same settings" in view.diff.value
    assert _pixels(view.image_a)[32:].tolist() == _pixels(view.image_b)[32:].tolist()
    op_lab.controls[(1, "p")].widget.value = 1.0  # hflip always: B differs
    assert "hflip.p 0.5 → 1" in view.diff.value
    assert (
        bytes(view.image_a.value).startswith(PICTURE) and view.image_a.value != view.image_b.value
    )
    result = op_lab.export_compared("B")
    assert result.spec_path == tmp_path / "exported-B.json" and result.spec_path.exists()
    assert "exported-B.json" in view.result.value
    view.mode.value = "one image, many draws"
    assert view.image_a.value != view.image_b.value
    _by_class(op_lab, "genlab-drop")[0].click()
    assert "pin the current settings" in view.diff.value


def test_zoom_shows_one_sample_large_with_its_record(op_lab):
    assert op_lab.add_stage("random_resized_crop", size=(24, 24))
    op_lab.zoom(3)
    view = op_lab.view_list[op_lab.views.selected_index]
    assert view.title == "zoom" and view.sample.value == 3
    assert bytes(view.image.value).startswith(PICTURE)
    assert bytes(view.original.value).startswith(PICTURE)
    assert "random_resized_crop: top" in view.record.value and "label:" in view.labels.value
    tiles = _by_class(op_lab, "genlab-tile")
    assert len(tiles) == 8  # one button over each tile of the grid
    tiles[5].click()
    assert view.sample.value == 5


def test_load_restores_the_exported_grid_and_says_so(op_lab, digits_root, tmp_path):
    op_lab.next_batch()
    op_lab.new_draw()
    grid = bytes(op_lab.grid.value)
    op_lab.export()
    _by_class(op_lab, "genlab-export")[0].click()
    other = make_lab(digits_root, tmp_path, ["read_images", "rescale_images"])
    other.files.folder = tmp_path
    other.files.refresh()
    assert "exported.json" in other.files.load_choice.options
    other.files.load_choice.value = "exported.json"
    _by_class(other, "genlab-load")[0].click()
    assert bytes(other.grid.value) == grid
    assert "batch 1 of epoch 0, draw 1" in other.files.load_result.value

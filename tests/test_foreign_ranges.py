"""albumentations' bounded pairs as range sliders: declared from the schema, same values as before.

No ``from __future__ import annotations``: the schema of the transform defined in a test is
read by pydantic, which needs its annotations as objects.
"""

import dataclasses
import json
from typing import Annotated

import numpy as np
import pytest

import genlab
from genlab.foreign import resolve
from genlab.foreign.albumentations_adapter import AlbumentationsLibrary
from genlab.foreign.stage import make_info
from genlab.params import Numbers, Range

A = pytest.importorskip("albumentations")

READ = ("read_images", {"target_size": (32, 32)})


def params_of(name):
    return resolve(f"albumentations.{name}").params


def test_a_pair_with_both_bounds_in_the_schema_is_a_range():
    scale = params_of("RandomResizedCrop")["scale"]
    assert scale == Range((0.08, 1.0), help="tuple", low=0.0, high=1.0, step=0.01)
    slant = params_of("RandomRain")["slant_range"]  # check_range_bounds(-45, 45): a wider span
    assert (slant.kind, slant.low, slant.high, slant.step) == ("range", -45.0, 45.0, 0.1)


@pytest.mark.parametrize(
    "name, param, why",
    [
        ("RandomResizedCrop", "ratio", "check_range_bounds(0): no upper bound"),
        ("ColorJitter", "hue", "bounds only inside a field_validator; takes a single number"),
        ("UnsharpMask", "alpha", "bounded, but takes a single number (widened to (0, a))"),
        ("Emboss", "alpha", "bounded, but albumentations accepts a decreasing pair"),
        ("RingingOvershoot", "cutoff", "bounded, but the default (pi/4, pi/2) is off the steps"),
        ("ImageCompression", "quality_range", "whole numbers"),
    ],
)
def test_a_pair_without_two_bounds_or_another_reason_stays_numbers(name, param, why):
    assert params_of(name)[param].kind == "numbers", why


@pytest.mark.parametrize(
    "name, given, param",
    [
        ("UnsharpMask", {"alpha": 0.3}, "alpha"),  # a single number, as albumentations takes it
        ("Emboss", {"alpha": [0.5, 0.2]}, "alpha"),  # a decreasing pair albumentations accepts
    ],
)
def test_values_albumentations_accepts_for_pairs_left_as_numbers_still_load(name, given, param):
    info = resolve(f"albumentations.{name}")
    assert info.validate(given)[param] == info.params_of(info.build(info.validate(given)))[param]


def test_a_spec_storing_a_list_loads_and_gives_the_same_batch_as_the_numbers_declaration(
    digits_root,
):
    info = resolve("albumentations.RandomResizedCrop")
    as_before = dataclasses.replace(info, params={**info.params, "scale": Numbers((0.08, 1.0))})
    given = json.loads('{"size": [24, 24], "scale": [0.3, 1]}')
    values = info.validate(given)
    assert values == as_before.validate(given)
    assert values["scale"] == (0.3, 1.0) and all(type(v) is float for v in values["scale"])
    assert info.build(values).scale == (0.3, 1.0)
    batch = next(iter(genlab.Pipeline.from_folder(digits_root, batch_size=8, stages=[READ])))
    now = info.apply(info.build(values), batch, stream="crop")
    before = as_before.apply(as_before.build(as_before.validate(given)), batch, stream="crop")
    assert np.array_equal(now.x, before.x)
    assert now.info.applied == before.info.applied
    with pytest.raises(ValueError, match="'scale' must be between 0.0 and 1.0"):
        info.validate({"size": [24, 24], "scale": [0.3, 1.5]})


def test_an_exclusive_bound_stays_on_the_slider_and_albumentations_names_the_parameter():
    from albumentations.core.pydantic import check_range_bounds, nondecreasing
    from albumentations.core.transforms_interface import BaseTransformInitSchema
    from pydantic import AfterValidator

    class OpenDim(A.ImageOnlyTransform):
        class InitSchema(BaseTransformInitSchema):
            factor_range: Annotated[
                tuple[float, float],
                AfterValidator(check_range_bounds(0, 1, min_inclusive=False)),
                AfterValidator(nondecreasing),
            ]

        def __init__(self, factor_range=(0.5, 1.0), p=0.5):
            super().__init__(p=p)
            self.factor_range = factor_range

        def apply(self, img, **params):
            return img

    info = make_info("albumentations.OpenDim", AlbumentationsLibrary(), OpenDim)
    assert info.params["factor_range"] == Range((0.5, 1.0), help="tuple", low=0.0, high=1.0)
    assert info.validate({"factor_range": [0.01, 0.5]})["factor_range"] == (0.01, 0.5)
    with pytest.raises(ValueError, match=r"OpenDim.*factor_range.*must be > 0"):
        info.validate({"factor_range": [0.0, 0.5]})


def test_the_lab_shows_a_range_slider_that_tunes_the_foreign_stage(digits_root, tmp_path):
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    from genlab.lab import PipelineLab

    stages = [READ, ("albumentations.RandomResizedCrop", {"size": (24, 24)})]
    pipeline = genlab.Pipeline.from_folder(digits_root, batch_size=8, seed=0, stages=stages)
    lab = PipelineLab(pipeline, throttle=0, export_stem=tmp_path / "exported")
    scale, ratio = lab.controls[(1, "scale")], lab.controls[(1, "ratio")]
    assert type(scale.widget).__name__ == "FloatRangeSlider"
    assert (scale.widget.min, scale.widget.max, scale.widget.step) == (0.0, 1.0, 0.01)
    assert scale.widget.value == (0.08, 1.0)
    assert type(ratio.widget).__name__ == "Text"  # no upper bound: comma-separated numbers
    grid = bytes(lab.grid.value)
    scale.widget.value = (0.5, 0.6)
    assert lab.model.pipeline.stages[1].params["scale"] == (0.5, 0.6)
    assert bytes(lab.grid.value) != grid and lab.message.value == ""
    applied = lab.model.last.batch.info.applied
    assert len(applied) == 8
    for record in applied:  # every crop drawn from the new range
        x1, y1, x2, y2 = record[0]["params"]["crop_coords"]
        assert 0.45 <= (x2 - x1) * (y2 - y1) / 32**2 <= 0.65

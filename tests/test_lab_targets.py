"""The lab draws a batch's targets: switchable per kind, dropped instances dashed on the original."""

import pytest

import genlab

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from genlab.lab import PipelineLab  # noqa: E402

SIZE = (96, 64)


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    root = genlab.make_sample_data(
        tmp_path_factory.mktemp("l") / "shapes", kind="shapes", n_per_class=2, size=SIZE
    )
    return root / "annotations.json"


def _lab(coco, *stages):
    pipeline = genlab.Pipeline.from_coco(
        coco, batch_size=4, shuffle=False, stages=[("read_images", {"target_size": SIZE}), *stages]
    )
    return PipelineLab(pipeline)


def test_each_kind_of_target_is_drawn_and_can_be_hidden(coco):
    lab = _lab(coco)
    assert lab.target_toggles.layout.display != "none"
    drawn = bytes(lab.grid.value)
    pictures = {}
    for kind in ("labels", "masks", "boxes", "keypoints"):  # names go with the boxes: first
        lab.target_show[kind].value = False
        pictures[kind] = bytes(lab.grid.value)
    assert len({drawn, *pictures.values()}) == 5  # each switch changed the picture
    for kind in ("masks", "boxes", "keypoints", "labels"):
        lab.target_show[kind].value = True
    assert bytes(lab.grid.value) == drawn


def test_the_toggles_are_hidden_for_classification(tmp_path):
    root = genlab.make_sample_data(tmp_path / "digits", n_per_class=2)
    lab = PipelineLab(genlab.Pipeline.from_folder(root, batch_size=4))
    assert lab.target_toggles.layout.display == "none"


def test_original_vs_processed_draws_both_sides(coco):
    lab = _lab(coco, ("hflip", {"p": 1.0}))
    lab.views.selected_index = [
        lab.views.get_title(i) for i in range(len(lab.views.children))
    ].index("original vs processed")
    with_targets = bytes(lab.compare.value)
    for kind in ("masks", "boxes", "keypoints", "labels"):
        lab.target_show[kind].value = False
    lab.views.selected_index = 0
    lab.views.selected_index = [
        lab.views.get_title(i) for i in range(len(lab.views.children))
    ].index("original vs processed")
    assert len(with_targets) and bytes(lab.compare.value) != with_targets

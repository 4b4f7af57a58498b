"""How ``v2-*.json`` and ``digests-v2.json`` were made: run once with genlab 0.2.0 (commit bce43f1),
before the 0.3 refactor, as ``python tests/specs/record_v2.py``. Never re-run it to "fix" a digest:
the digests are what 0.2 gave, and tests/test_spec_compat.py checks every later version against them.

Each spec covers a part of 0.2's surface: the default chain (turbo decoder), every registered op in one
chain, the fused read_images + random_resized_crop, the classic augment at every setting on turbo, a
table source and a tar-shard source.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from test_spec_compat import batches_digest, compat_data  # noqa: E402

import genlab  # noqa: E402
from genlab import Pipeline  # noqa: E402

EVERY_OP = [
    ("read_images", {"target_size": (40, 32)}),
    ("center_crop", {"size": (36, 30)}),
    ("random_crop", {"size": (34, 28), "padding": 2, "pad_if_needed": True}),
    ("random_resized_crop", {"size": (36, 30), "scale": (0.3, 1.0)}),
    ("hflip", {}),
    ("vflip", {"p": 0.4}),
    ("rotate90", {"p": 0.6}),
    ("random_rotation", {"degrees": (-30, 30), "resample": "bilinear"}),
    (
        "random_affine",
        {"degrees": (-10, 10), "translate": (0.1, 0.1), "scale": (0.8, 1.2), "shear": (-5, 5)},
    ),
    ("random_perspective", {"p": 0.7}),
    ("color_jitter", {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3, "hue": 0.1}),
    ("grayscale", {"p": 0.2}),
    ("gaussian_blur", {"kernel_size": (5, 5)}),
    ("sharpness", {}),
    ("posterize", {}),
    ("solarize", {}),
    ("equalize", {}),
    ("autocontrast", {}),
    ("invert", {"p": 0.2}),
    ("jpeg", {}),
    ("gaussian_noise", {"sigma": 0.05}),
    ("random_erasing", {}),
    ("rand_augment", {}),
    ("trivial_augment_wide", {}),
    ("auto_augment", {"policy": "cifar10"}),
    ("one_of", {"ops": ["hflip", "vflip", "invert"], "weights": [1, 2, 1]}),
    ("some_of", {"ops": ["posterize", "solarize", "equalize"], "n": 2}),
    ("rescale_images", {}),
    ("mixup", {"p": 0.5}),
    ("cutmix", {"p": 0.5}),
]

CLASSIC = {
    "hflip": 0.5, "vflip": 0.3, "rotate90": 0.3, "rotation_p": 0.5, "rotation_degrees": 15.0,
    "crop_p": 0.5, "crop_scale": 0.5, "brightness_p": 0.5, "brightness": 0.2, "contrast_p": 0.5,
    "contrast": 0.2, "saturation_p": 0.5, "saturation": 0.2, "noise_p": 0.3, "noise_std": 10.0,
    "cutout_p": 0.3, "cutout_size": 0.25, "seed": 2,
}  # fmt: skip


def pipelines(data: dict) -> dict[str, tuple[str, Pipeline]]:
    photos, digits = data["photos"], data["digits"]
    return {
        "v2-default-photos.json": ("photos", Pipeline.from_folder(photos, batch_size=8, seed=1)),
        "v2-every-op.json": (
            "photos", Pipeline.from_folder(photos, batch_size=6, seed=2, stages=EVERY_OP, augment_seed=3)
        ),
        "v2-fused-crop.json": ("photos", Pipeline.from_folder(photos, batch_size=5, seed=4, stages=[
            ("read_images", {"target_size": (64, 48)}),
            ("random_resized_crop", {"size": (48, 40)}), "hflip",
            ("color_jitter", {"hue": 0.05}), "rescale_images", "shuffle_samples",
        ])),
        "v2-classic-augment-turbo.json": ("photos", Pipeline.from_folder(photos, batch_size=7, seed=5, stages=[
            ("read_images", {"target_size": (48, 40), "resize": "center_crop"}),
            ("augment", CLASSIC), "rescale_images", "shuffle_samples",
        ])),
        "v2-table-digits.json": ("table", Pipeline.from_table(
            data["table"], root=digits, batch_size=6, seed=6,
            stages=[("read_images", {"target_size": (32, 32)}), "hflip", "rescale_images"],
        )),
        "v2-shards.json": ("shards", Pipeline.from_shards(
            str(data["shards"]), batch_size=4, seed=7, shuffle_buffer=5,
            stages=[("read_images", {"target_size": (16, 12)}), "vflip", "rescale_images"],
        )),
    }  # fmt: skip


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = compat_data(Path(tmp))
        digests = {}
        for name, (dataset, pipeline) in pipelines(data).items():
            spec = pipeline.to_spec()
            digests[name] = {"dataset": dataset, "epochs": 2, "sha256": batches_digest(pipeline, 2)}
            (HERE / name).write_text(json.dumps(spec, indent=2) + "\n")
    record = {"made_by": f"genlab {genlab.__version__}", "digests": digests}
    (HERE / "digests-v2.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()

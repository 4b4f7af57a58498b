"""Write the op gallery: one page per registered augmentation op, generated from the op itself.

For every op: one sample photo under 8 draws at the op's declared defaults and under one
stronger setting (what was drawn is the title of each picture), the parameter table from the
op's declarations (never written a second time here), and the torchvision / albumentations
names it corresponds to. An op that moves boxes, masks and keypoints (kinds geometry, policy
and group, and cutmix) shows its stronger draws a third time on the photo with shapes painted
in, their targets moved and drawn.

The only thing kept by hand is :data:`STRONGER`, the "stronger" setting shown for an op whose
probabilities are already 1 (raising probabilities to 1 is the default rule). A test checks
that every registered op gets a page and that its two settings differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DRAWS = 8
SEED = 2024
IMAGE_SIZE = (320, 240)  # (width, height) of the sample photo the ops are shown on

#: Per op, the parameters changed for the "stronger" row beyond the default rule (every
#: probability raised to 1). Values are validated against the op's declarations.
STRONGER: dict[str, dict[str, Any]] = {
    "color_jitter": {"brightness": 0.8, "contrast": 0.8, "saturation": 0.8, "hue": 0.2},
    "center_crop": {"size": (112, 112)},
    "random_crop": {"size": (128, 128), "padding": 16},
    "random_resized_crop": {"scale": (0.08, 0.25)},
    "one_of": {"ops": [("hflip", {"p": 1.0}), ("vflip", {"p": 1.0}), ("rotate90", {"p": 1.0})]},
    "some_of": {"ops": ["hflip", "vflip", ("color_jitter", {"hue": 0.2})], "n": 2},
    "random_rotation": {"degrees": (-45.0, 45.0)},
    "random_affine": {
        "degrees": (-30.0, 30.0),
        "translate": (0.2, 0.2),
        "scale": (0.7, 1.3),
        "shear": (-15.0, 15.0),
    },
    "gaussian_blur": {"kernel_size": (15, 15), "sigma": (2.0, 5.0)},
    "jpeg": {"quality": (5, 20)},
    "gaussian_noise": {"sigma": 0.25},
    "rand_augment": {"num_ops": 3, "magnitude": 20},
    "auto_augment": {"policy": "svhn"},  # another learned policy (a policy has no strength knob)
    "trivial_augment_wide": {"fill": (128.0, 128.0, 128.0)},  # ditto: uncovered pixels shown grey
    "mixup": {"alpha": 8.0},  # lam near 0.5: even blends
    "cutmix": {"alpha": 8.0},  # boxes near half the image
    # the one-stage augment of genlab 0.1
    "augment-rotation": {"rotation_degrees": 45.0},
    "augment-crop": {"crop_scale": 0.15},
    "augment-brightness": {"brightness": 0.6},
    "augment-contrast": {"contrast": 0.6},
    "augment-saturation": {"saturation": 0.9},
    "augment-noise": {"noise_std": 30.0},
    "augment-cutout": {"cutout_size": 0.45},
}


@dataclass(frozen=True)
class Entry:
    """What the gallery shows of one op: its declarations and its draw / apply functions."""

    name: str  # the page's name
    kind: str
    help: str
    params: Mapping[str, Any]  # name -> genlab.params.Param
    draw: Callable[[np.random.Generator, Mapping[str, Any], tuple[int, ...]], dict | None]
    apply: Callable[[np.ndarray, Mapping[str, Any]], np.ndarray]
    equivalents: Mapping[str, str] = field(default_factory=dict)
    usage: str = ""  # how to use it, as code; {keywords} and {as_dict} stand for the parameters
    mixes: bool = False  # a batch op: draw(rngs, params, x.shape) -> records, apply(x, y, records)

    def defaults(self) -> dict[str, Any]:
        """The declared default of every parameter."""
        return {
            name: p.validate(p.default, stage=self.name, name=name)
            for name, p in self.params.items()
        }

    def stronger(self) -> dict[str, Any]:
        """The stronger setting: probabilities raised to 1, then the op's :data:`STRONGER` entry."""
        values = self.defaults()
        for name, p in self.params.items():
            if _is_probability(p):
                values[name] = 1.0
        values.update(STRONGER.get(self.name, {}))
        return {n: p.validate(values[n], stage=self.name, name=n) for n, p in self.params.items()}


def _is_probability(param: Any) -> bool:
    return (
        getattr(param, "kind", "") == "float"
        and param.low == 0.0
        and param.high == 1.0
        and param.help.startswith("probability")
    )


# -- where the ops come from -------------------------------------------------------------


def _op_entry(op: Any) -> Entry:
    from genlab.transforms import BatchOp

    usage = (
        f'Pipeline.from_folder(root, stages=[..., ("{op.name}", {{{{{{as_dict}}}}}}), ...])\n'
        f"GeneratorPipeline(source, read_images(), {op.name}({{keywords}}), ...)"
    )
    return Entry(
        name=op.name,
        kind=op.kind,
        help=op.help,
        params=op.params,
        draw=op.draw,
        apply=op.apply,
        equivalents=dict(op.equivalents),
        usage=usage,
        mixes=isinstance(op, BatchOp),
    )


def _legacy_entries() -> list[Entry]:
    """The ops of the one-stage ``augment`` (genlab 0.1), each with its own parameters."""
    from genlab.transforms.classic import AUGMENT_OPS, AUGMENT_PARAMS

    entries = []
    for op in AUGMENT_OPS:
        params = {name: AUGMENT_PARAMS[name] for name in op.params}
        entries.append(
            Entry(
                name=f"augment-{op.name}",
                kind="augment (genlab 0.1)",
                help=AUGMENT_PARAMS[op.params[0]].help.removeprefix("probability of ").capitalize()
                + f', one of the ops of the `augment` stage (record `{{"op": "{op.name}", ...}}`).',
                params=params,
                draw=op.draw,
                apply=op.apply,
                usage="augment({keywords})",
            )
        )
    return entries


def registered_ops() -> list[Any]:
    """Every registered op and policy, grouped by kind in the lab's order."""
    from genlab.transforms import KINDS, get_op, op_names

    return [get_op(n) for kind in KINDS for n in op_names(kind)]


def entries() -> list[Entry]:
    """Every registered op, then the ops of the legacy ``augment`` stage."""
    return [_op_entry(op) for op in registered_ops()] + _legacy_entries()


# -- pictures ------------------------------------------------------------------------------


def sample_photo(root: Path | None = None) -> np.ndarray:
    """The first flower of a ``photos`` sample set (genlab's default one), resized to :data:`IMAGE_SIZE`."""
    from PIL import Image

    import genlab

    root = genlab.ensure_sample_data("photos") if root is None else root
    first = sorted((root / "flower").glob("*.jpg"))[0]
    with Image.open(first) as img:
        return np.asarray(img.convert("RGB").resize(IMAGE_SIZE, Image.Resampling.BILINEAR))


def _short(record: Mapping[str, Any] | None) -> str:
    if record is None:
        return "not applied"
    if isinstance(record.get("ops"), list):  # a group's members or a policy's operations
        text = "+".join(_member(r) for r in record["ops"]) or "no member"
        return text if len(text) <= 26 else text[:25] + "…"
    if "lam" in record and "partner" in record:  # a batch op: mixed with which sample, how much
        return f"lam {record['lam']:.2f} with #{record['partner']}"
    shown = {k: f"{v:g}" if isinstance(v, float) else str(v) for k, v in record.items()}
    if len(shown) == 1:
        text = "{}={}".format(*next(iter(shown.items())))
    else:  # several values: initials, as t12 l40 h100 w80 for top, left, height, width
        text = " ".join(f"{k[0]}{v}" for k, v in shown.items())
    text = text or "applied"
    return text if len(text) <= 26 else text[:25] + "…"


def _member(record: Mapping[str, Any]) -> str:
    """A group member by its op name; a policy's operation by name and magnitude."""
    if "op" in record:
        return str(record["op"])
    magnitude = record.get("magnitude")
    return str(record.get("name")) + ("" if magnitude is None else f" {magnitude:g}")


def draws(entry: Entry, image: np.ndarray, values: Mapping[str, Any]) -> tuple[list, list[str]]:
    """The image under :data:`DRAWS` draws of ``entry`` at ``values``, and what each drew.

    A batch op mixes a batch of the image and its mirror image (labels 0 and 1, alternating).
    """
    rngs = [np.random.default_rng([SEED, i]) for i in range(DRAWS)]
    if entry.mixes:
        x = np.stack([image if i % 2 == 0 else image[:, ::-1] for i in range(DRAWS)])
        y = np.eye(2, dtype=np.float32)[np.arange(DRAWS) % 2]
        records = entry.draw(rngs, values, x.shape)
        mixed, _ = entry.apply(x, y, records)
        return list(mixed), [_short(r) for r in records]
    images, titles = [], []
    for rng in rngs:
        record = entry.draw(rng, values, image.shape[:2])
        images.append(image if record is None else entry.apply(image, record))
        titles.append(_short(record))
    return images, titles


def _setting(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    changed = {k: v for k, v in values.items() if v != defaults.get(k)} or values
    return ", ".join(f"{k}={_value(v)}" for k, v in changed.items())


def _value(v: Any) -> str:
    return json.dumps(list(v) if isinstance(v, tuple) else v)


def _figure(entry: Entry, image: np.ndarray, values: Mapping[str, Any], header: str) -> bytes:
    from genlab.plotting import GridRenderer

    images, titles = draws(entry, image, values)
    renderer = GridRenderer(capacity=DRAWS, columns=4, cell_px=160)
    return renderer.render(images, titles, header if len(header) <= 90 else header[:89] + "…")


#: Kinds whose pages get a third row: their draws on a photo that carries boxes, masks and
#: keypoints (and cutmix, the one mixing op with a rule for targets).
TARGET_KINDS = ("geometry", "policy", "group")


def moves_targets(entry: Entry) -> bool:
    """Whether ``entry``'s page shows its draws with targets."""
    return entry.kind in TARGET_KINDS or entry.name == "cutmix"


def targets_sample(image: np.ndarray, index: int = 0) -> tuple[np.ndarray, Any]:
    """``image`` with the shapes of :func:`genlab.sample_shapes.shape_targets` (sample ``index``)
    painted in, and those shapes' exact targets (boxes, instance masks, corner keypoints)."""
    from genlab.sample_shapes import shape_targets

    targets = shape_targets(SEED, 1, index, IMAGE_SIZE)
    painted = image.copy()
    for k, mask in enumerate(targets.masks):
        painted[mask.astype(bool)] = ((60, 200, 230), (240, 180, 40), (200, 60, 200))[k % 3]
    return painted, targets


def target_draws(
    entry: Entry, image: np.ndarray, values: Mapping[str, Any]
) -> tuple[list, list, list[str]]:
    """:func:`draws` on :func:`targets_sample`: the images, their targets moved, what was drawn.

    A batch op mixes a batch of two such samples (different shapes), alternating.
    """
    from genlab.batch import BatchInfo
    from genlab.sample_shapes import shapes_format
    from genlab.transforms import get_op
    from genlab.transforms.target_kernels import carry_mixed

    op, fmt = get_op(entry.name), shapes_format()
    rngs = [np.random.default_rng([SEED, i]) for i in range(DRAWS)]
    if entry.mixes:
        samples = [targets_sample(image, i % 2) for i in range(DRAWS)]
        x = np.stack([s[0] for s in samples])
        y = np.eye(2, dtype=np.float32)[np.arange(DRAWS) % 2]
        records = entry.draw(rngs, values, x.shape)
        info = BatchInfo(targets=tuple(s[1] for s in samples), target_format=fmt)
        moved = carry_mixed(op, info, records, x.shape[1:3])["targets"]
        mixed, _ = entry.apply(x, y, records)
        return list(mixed), list(moved), [_short(r) for r in records]
    painted, targets = targets_sample(image)
    images, moved, titles = [], [], []
    for rng in rngs:
        record = entry.draw(rng, values, painted.shape[:2])
        images.append(painted if record is None else entry.apply(painted, record))
        moved.append(op.carry_targets(targets, record, painted.shape[:2], fmt)[0])
        titles.append(_short(record))
    return images, moved, titles


def _targets_figure(entry: Entry, image: np.ndarray, values: Mapping[str, Any]) -> bytes:
    from genlab.overlay import draw_targets, format_options
    from genlab.plotting import GridRenderer
    from genlab.sample_shapes import shapes_format

    images, moved, titles = target_draws(entry, image, values)
    options = format_options(shapes_format())
    drawn = [draw_targets(im, t, **options) for im, t in zip(images, moved, strict=True)]
    renderer = GridRenderer(capacity=DRAWS, columns=4, cell_px=160)
    return renderer.render(drawn, titles, "stronger, with targets")


# -- pages ---------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def parameter_table(entry: Entry, stronger: Mapping[str, Any]) -> str:
    """A markdown table of the op's declared parameters (from ``Param.describe()``)."""
    rows = [
        "| parameter | type | default | range or choices | stronger | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in entry.params.items():
        d = p.describe()
        if "choices" in d:
            span = ", ".join(d["choices"])
        elif d.get("low") is not None or d.get("high") is not None:
            span = f"{d.get('low')} – {d.get('high')}"
        else:
            span = ""
        rows.append(
            f"| `{name}` | {d['kind']} | `{_value(d['default'])}` | {_cell(span)} | "
            f"`{_value(stronger[name])}` | {_cell(d['help'])} |"
        )
    return "\n".join(rows)


def _equivalents(entry: Entry) -> str:
    if not entry.equivalents:
        return "none recorded"
    return ", ".join(f"{lib}: `{name}`" for lib, name in sorted(entry.equivalents.items()))


def _targets_section(entry: Entry, targets_png: str | None) -> str:
    if targets_png:
        return (
            "## With targets (stronger)\n\n"
            "The same draws on the photo with shapes painted in "
            "({func}`genlab.sample_shapes.shape_targets`): boxes, instance masks and corner "
            "keypoints move with the pixels (drawn by {func}`genlab.overlay.draw_targets`).\n\n"
            f"![{entry.name} stronger with targets, 8 draws]({targets_png})\n"
        )
    if entry.kind in ("colour", "noise"):
        return "An op of kind colour or noise leaves boxes, masks and keypoints as they are.\n"
    if entry.name == "mixup":
        return "Mixup refuses a batch that carries targets (a blend has no one set of boxes).\n"
    return ""


def entry_page(
    entry: Entry,
    default_png: str | None,
    strong_png: str,
    default_error: str = "",
    targets_png: str | None = None,
) -> str:
    """The markdown page of one op (``default_png`` None: it cannot run at its defaults;
    ``targets_png``: its stronger draws with targets, for an op that moves them)."""
    defaults, stronger = entry.defaults(), entry.stronger()
    changed = {
        k: repr(list(v) if isinstance(v, tuple) else v)
        for k, v in stronger.items()
        if v != defaults[k]
    }
    usage = entry.usage.format(
        keywords=", ".join(f"{k}={v}" for k, v in changed.items()),
        as_dict=", ".join(f'"{k}": {v}' for k, v in changed.items()),
    )
    at_defaults = (
        f"![{entry.name} at its defaults, 8 draws]({default_png})\n"
        if default_png
        else f"It cannot run at its defaults: `{default_error}`\n"
    )
    return "\n".join(
        [
            f"(gallery-{entry.name})=",
            f"# {entry.name}\n",
            f"{entry.help}\n",
            f"**Kind:** {entry.kind} · **Equivalents:** {_equivalents(entry)}\n",
            f"## At its defaults ({_setting(defaults, {}) or 'no parameters'})\n",
            at_defaults,
            f"## Stronger ({_setting(stronger, defaults)})\n",
            f"![{entry.name} stronger, 8 draws]({strong_png})\n",
            _targets_section(entry, targets_png),
            "## Parameters\n",
            parameter_table(entry, stronger) + "\n",
            "## Use\n",
            f"```python\n{usage}\n```\n" if usage else "",
        ]
    )


def index_page(all_entries: list[Entry]) -> str:
    """The gallery's front page: one row per op, linking to its page."""
    rows = ["| op | kind | what it does | torchvision | albumentations |", "|---|---|---|---|---|"]
    for e in all_entries:
        rows.append(
            f"| [{e.name}]({e.name}.md) | {e.kind} | {_cell(e.help)} | "
            f"{e.equivalents.get('torchvision', '')} | {e.equivalents.get('albumentations', '')} |"
        )
    toc = "\n".join(e.name for e in all_entries)
    return (
        "# Op gallery\n\n"
        'Every registered augmentation op, on one sample photo (from `genlab.ensure_sample_data("photos")`) '
        f"under {DRAWS} draws (seed {SEED}, draw *i* uses `numpy.random.default_rng([{SEED}, i])`): once at the op's "
        "declared defaults and once at a stronger setting. The title of each picture is what the op drew "
        "for it (the record that `batch.info.applied` keeps and replay applies). The parameter tables are "
        "generated from the ops' declarations, the same ones the lab makes its controls from. A batch-mixing "
        "op is shown on a batch of the photo and its mirror image, alternating (labels 0 and 1); its titles "
        "say how much of each sample was kept (`lam`) and which sample it was mixed with. An op that "
        "moves boxes, masks and keypoints shows its stronger draws once more on the photo with "
        "shapes painted in ({mod}`genlab.sample_shapes`), their targets moved and drawn. Every op is a "
        "stage of its own (see {mod}`genlab.transforms`); the last rows are the ops of the one-stage "
        "{func}`genlab.augment` of genlab 0.1, switched on by its probability parameters.\n\n"
        + "\n".join(rows)
        + f"\n\n```{{toctree}}\n:hidden:\n\n{toc}\n```\n"
    )


def _write_if_changed(path: Path, data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    if not path.exists() or path.read_bytes() != raw:
        path.write_bytes(raw)


def write_gallery(
    out: Path, ops: list[Entry] | None = None, image: np.ndarray | None = None
) -> list[Path]:
    """Write the index, one page per op and its two figures into ``out``; return the pages."""
    ops = entries() if ops is None else ops
    (out / "images").mkdir(parents=True, exist_ok=True)
    image = sample_photo() if image is None else image
    pages = []
    for entry in ops:
        defaults, stronger = entry.defaults(), entry.stronger()
        default_png, strong_png = (
            f"images/{entry.name}-default.png",
            f"images/{entry.name}-stronger.png",
        )
        default_error = ""
        try:
            _write_if_changed(out / default_png, _figure(entry, image, defaults, "defaults"))
        except ValueError as e:  # an empty group, say: the page says why instead
            default_png, default_error = None, str(e)
        _write_if_changed(
            out / strong_png, _figure(entry, image, stronger, _setting(stronger, defaults))
        )
        targets_png = f"images/{entry.name}-targets.png" if moves_targets(entry) else None
        if targets_png:
            _write_if_changed(out / targets_png, _targets_figure(entry, image, stronger))
        page = out / f"{entry.name}.md"
        _write_if_changed(
            page, entry_page(entry, default_png, strong_png, default_error, targets_png)
        )
        pages.append(page)
    _write_if_changed(out / "index.md", index_page(ops))
    return pages

"""Write the op gallery: one page per registered augmentation op, generated from the op itself.

For every op: one sample photo under 8 draws at the op's declared defaults and under one
stronger setting (what was drawn is the title of each picture), the parameter table from the
op's declarations (never written a second time here), and the torchvision / albumentations
names it corresponds to.

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
IMAGE_SIZE = (256, 192)  # (width, height) of the sample photo the ops are shown on

#: Per op, the parameters changed for the "stronger" row beyond the default rule (every
#: probability raised to 1). Values are validated against the op's declarations.
STRONGER: dict[str, dict[str, Any]] = {
    "rotation": {"rotation_degrees": 45.0},
    "crop": {"crop_scale": 0.15},
    "brightness": {"brightness": 0.6},
    "contrast": {"contrast": 0.6},
    "saturation": {"saturation": 0.9},
    "noise": {"noise_std": 30.0},
    "cutout": {"cutout_size": 0.45},
}


@dataclass(frozen=True)
class Entry:
    """What the gallery shows of one op: its declarations and its draw / apply functions."""

    name: str
    kind: str
    help: str
    params: Mapping[str, Any]  # name -> genlab.params.Param
    draw: Callable[[np.random.Generator, Mapping[str, Any], tuple[int, ...]], dict | None]
    apply: Callable[[np.ndarray, Mapping[str, Any]], np.ndarray]
    equivalents: Mapping[str, str] = field(default_factory=dict)
    usage: str = ""  # how to use it in a pipeline, as code

    def defaults(self) -> dict[str, Any]:
        """The declared default of every parameter."""
        return {name: p.default for name, p in self.params.items()}

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


def _legacy_entries() -> list[Entry]:
    """The ops of the one-stage ``augment`` (genlab 0.1), each with its own parameters."""
    from genlab.ops.augment import AUGMENT_OPS, AUGMENT_PARAMS

    entries = []
    for op in AUGMENT_OPS:
        params = {name: AUGMENT_PARAMS[name] for name in op.params}

        def draw(rng, values, shape, op=op):
            return op.draw(rng.random(op.n_uniforms), values, shape)

        entries.append(
            Entry(
                name=op.name,
                kind="augment",
                help=AUGMENT_PARAMS[op.params[0]].help.removeprefix("probability of ").capitalize(),
                params=params,
                draw=draw,
                apply=op.apply,
                usage="augment(" + ", ".join(f"{n}={{{n}}}" for n in op.params) + ")",
            )
        )
    return entries


def entries() -> list[Entry]:
    """Every registered op, in registry order."""
    return _legacy_entries()


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
    shown = {k: f"{v:g}" if isinstance(v, float) else str(v) for k, v in record.items()}
    if len(shown) == 1:
        text = "{}={}".format(*next(iter(shown.items())))
    else:  # several values: initials, as t12 l40 h100 w80 for top, left, height, width
        text = " ".join(f"{k[0]}{v}" for k, v in shown.items())
    text = text or "applied"
    return text if len(text) <= 26 else text[:25] + "…"


def draws(entry: Entry, image: np.ndarray, values: Mapping[str, Any]) -> tuple[list, list[str]]:
    """The image under :data:`DRAWS` draws of ``entry`` at ``values``, and what each drew."""
    images, titles = [], []
    for i in range(DRAWS):
        rng = np.random.default_rng([SEED, i])
        record = entry.draw(rng, values, image.shape)
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
    return renderer.render(images, titles, header)


# -- pages ---------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def parameter_table(entry: Entry, stronger: Mapping[str, Any]) -> str:
    """A markdown table of the op's declared parameters (from ``Param.describe()``)."""
    rows = ["| parameter | type | default | range or choices | stronger | meaning |", "|---|---|---|---|---|---|"]
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


def entry_page(entry: Entry, default_png: str, strong_png: str) -> str:
    """The markdown page of one op."""
    defaults, stronger = entry.defaults(), entry.stronger()
    usage = entry.usage.format(**{k: _value(v) for k, v in stronger.items()})
    return "\n".join(
        [
            f"(gallery-{entry.name})=",
            f"# {entry.name}\n",
            f"{entry.help}\n",
            f"**Kind:** {entry.kind} · **Equivalents:** {_equivalents(entry)}\n",
            f"## At its defaults ({_setting(defaults, {}) or 'no parameters'})\n",
            f"![{entry.name} at its defaults, 8 draws]({default_png})\n",
            f"## Stronger ({_setting(stronger, defaults)})\n",
            f"![{entry.name} stronger, 8 draws]({strong_png})\n",
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
        "Every registered augmentation op, on one sample photo (from `genlab.ensure_sample_data(\"photos\")`) "
        f"under {DRAWS} draws (seed {SEED}, draw *i* uses `numpy.random.default_rng([{SEED}, i])`): once at the op's "
        "declared defaults and once at a stronger setting. The title of each picture is what the op drew "
        "for it (the record that `batch.info.applied` keeps and replay applies). The parameter tables are "
        "generated from the ops' declarations, the same ones the lab makes its controls from.\n\n"
        + "\n".join(rows)
        + f"\n\n```{{toctree}}\n:hidden:\n\n{toc}\n```\n"
    )


def _write_if_changed(path: Path, data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    if not path.exists() or path.read_bytes() != raw:
        path.write_bytes(raw)


def write_gallery(out: Path, ops: list[Entry] | None = None, image: np.ndarray | None = None) -> list[Path]:
    """Write the index, one page per op and its two figures into ``out``; return the pages."""
    ops = entries() if ops is None else ops
    (out / "images").mkdir(parents=True, exist_ok=True)
    image = sample_photo() if image is None else image
    pages = []
    for entry in ops:
        defaults, stronger = entry.defaults(), entry.stronger()
        default_png, strong_png = f"images/{entry.name}-default.png", f"images/{entry.name}-stronger.png"
        _write_if_changed(out / default_png, _figure(entry, image, defaults, "defaults"))
        _write_if_changed(out / strong_png, _figure(entry, image, stronger, _setting(stronger, defaults)))
        page = out / f"{entry.name}.md"
        _write_if_changed(page, entry_page(entry, default_png, strong_png))
        pages.append(page)
    _write_if_changed(out / "index.md", index_page(ops))
    return pages

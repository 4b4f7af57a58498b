"""The views of :class:`~genlab.lab.PipelineLab`, one class each, dispatched from :data:`VIEWS`.

A view owns its widget and draws it from the lab's :class:`~genlab.lab.lab_model.LabModel` in
:meth:`LabView.render`. The lab builds one of each class in :data:`VIEWS`, in that order, as its
tabs (the tab title is the class's ``title``), and renders the selected one when it is out of
date: adding a view is adding a class to the table, nothing else. Pictures of samples are drawn
by :mod:`genlab.lab.tiles` (one function turns a sample into a tile).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets
import numpy as np

from genlab import registry
from genlab.lab.lab_files import ExportResult
from genlab.lab.lab_model import LabModel
from genlab.lab.lab_panel import button
from genlab.lab.render import class_mix_png, displayable_batch, encode_image, rss_png
from genlab.lab.tiles import (
    HEADER_PX,
    describe_record,
    fit,
    grid_geometry,
    grid_picture,
    soft_labels,
    was_applied,
)
from genlab.memory import format_bytes
from genlab.overlay import dropped_ids

if TYPE_CHECKING:
    from genlab.lab.lab_widget import PipelineLab

__all__ = [
    "ClassMixView",
    "CompareView",
    "DrawsView",
    "GridView",
    "LabView",
    "MemoryView",
    "OpAloneView",
    "PairsView",
    "VIEWS",
    "ZoomView",
    "image_widget",
]


def image_widget(css_class: str, image_format: str = "png") -> widgets.Image:
    """An image widget as wide as its box at most, carrying ``css_class``."""
    image = widgets.Image(format=image_format, layout=widgets.Layout(max_width="100%"))
    image.add_class(css_class)
    return image


def _is_images(x) -> bool:
    return getattr(x, "ndim", 0) == 4


class LabView:
    """One tab of the lab: ``widget`` shows it, :meth:`render` redraws it from the lab's model."""

    #: The tab's title.
    title = ""

    def __init__(self, lab: PipelineLab) -> None:
        self.lab = lab
        self.widget = self.build()

    def build(self) -> widgets.Widget:
        """Create the view's widget (called once)."""
        raise NotImplementedError

    def render(self) -> None:
        """Redraw the view from the lab's model."""
        raise NotImplementedError

    def drawn(self, targets, dashed=None, count: int | None = None) -> dict:
        """The targets a picture draws over its images (with the lab's show/hide switches):
        none for classification, nor when they are not one per image (``count``)."""
        if targets is None or (count is not None and len(targets) != count):
            return {}
        show = {name: c.value for name, c in self.lab.target_show.items()}
        fmt = self.lab.model.pipeline.target_format
        return {"targets": targets, "target_format": fmt, "show": show, "dashed": dashed}

    def picture(self, images, titles, header: str = "", columns: int = 4, **options) -> bytes:
        """A grid of tiles, encoded in the lab's image format (``options``: as
        :func:`~genlab.lab.tiles.grid_picture`'s, e.g. the targets of :meth:`drawn`)."""
        mosaic = grid_picture(
            images, titles, header, columns=columns, size=self.lab.tile_px, **options
        )
        return encode_image(mosaic, self.lab.image_format)


class GridView(LabView):
    """The preview batch as a grid of tiles with their labels; click a tile to zoom on it.

    Transparent buttons lie over the tiles (placed in percent of the picture, so they follow
    it when the picture is scaled down); a click opens the zoom view on that sample.
    """

    title = "grid"
    capacity = 16

    def build(self) -> widgets.Widget:
        self.png = b""
        self.image = image_widget("genlab-grid", self.lab.image_format)
        self.overlay = widgets.Box()
        self.overlay.add_class("genlab-tile-buttons")
        stack = widgets.Box([self.image, self.overlay])
        stack.add_class("genlab-grid-stack")
        return stack

    def render(self) -> None:
        model = self.lab.model
        batch = model.last.batch
        if not _is_images(batch.x):
            return
        labels = soft_labels(batch.y, model.pipeline.class_names)
        shown = displayable_batch(batch.x)[: self.capacity]
        self.png = self.picture(shown, labels, self.lab.header(), **self.drawn(batch.targets))
        self.image.value = self.png
        if len(self.overlay.children) != len(shown):
            self.overlay.children = self._buttons(len(shown))

    def _buttons(self, count: int) -> list[widgets.Button]:
        rows, width, height, cell = grid_geometry(count, 4, self.lab.tile_px, 1)
        columns = min(4, count)
        buttons = []
        for i in range(count):
            row, column = divmod(i, columns)
            top = HEADER_PX + row * (cell + 4)
            left = column * (self.lab.tile_px + 4)
            tile = widgets.Button(
                tooltip=f"sample {i}: zoom",
                layout=widgets.Layout(
                    left=f"{100 * left / width:.3f}%",
                    top=f"{100 * top / height:.3f}%",
                    width=f"{100 * self.lab.tile_px / width:.3f}%",
                    height=f"{100 * cell / height:.3f}%",
                ),
            )
            tile.add_class("genlab-tile")
            tile.on_click(lambda _b, i=i: self.lab.zoom(i))
            buttons.append(tile)
        return buttons


class PairsView(LabView):
    """Each sample as read beside the same sample processed."""

    title = "original vs processed"

    def build(self) -> widgets.Widget:
        return image_widget("genlab-compare", self.lab.image_format)

    def render(self) -> None:
        model = self.lab.model
        original, processed = model.original_pairs()
        if not (_is_images(original.x) and _is_images(processed.x)):
            return
        n = min(8, original.size)
        shown = displayable_batch(processed.x)
        pairs = [img for i in range(n) for img in (original.x[i], shown[i])]
        labels = soft_labels(processed.y, model.pipeline.class_names)
        titles = [t for i in range(n) for t in (f"original\n{labels[i]}", "processed\n")]
        drawn, header = {}, "original | processed"
        t_o, t_p = original.targets, processed.targets
        if t_o is not None and t_p is not None:  # instances an op dropped: dashed on the original
            targets = [t for i in range(n) for t in (t_o[i], t_p[i])]
            gone = [d for i in range(n) for d in (dropped_ids(t_o[i], t_p[i]), ())]
            drawn, header = self.drawn(targets, gone), "original | processed (dashed: dropped)"
        self.widget.value = self.picture(pairs, titles, header, **drawn)


class DrawsView(LabView):
    """One image of the batch under 16 draws of the whole chain."""

    title = "one image, many draws"

    def build(self) -> widgets.Widget:
        return image_widget("genlab-draws", self.lab.image_format)

    def render(self) -> None:
        draws = self.lab.model.draws(16)
        if _is_images(draws.x):
            self.widget.value = self.picture(
                displayable_batch(draws.x),
                [f"draw {k}" for k in range(16)],
                "one image under 16 draws (seeds seed..seed+15)",
                **self.drawn(draws.targets, count=len(draws.x)),
            )


def _record_line(records) -> str:
    """The records one draw of an op added, as one short line (the op names left out)."""
    parts = [describe_record(r).partition(": ")[2] for r in records]
    return "; ".join(p for p in parts if p) or "applied"


class OpAloneView(LabView):
    """One stage alone on one image, 16 draws: what each draw drew, the draws where it did not
    apply marked (greyed, "not applied")."""

    title = "one op alone"

    def build(self) -> widgets.Widget:
        self.choice = widgets.Dropdown(
            description="op",
            style={"description_width": "2em"},
            layout=widgets.Layout(width="22em"),
        )
        self.choice.add_class("genlab-op-choice")
        self.image = image_widget("genlab-op-draws", self.lab.image_format)
        return widgets.VBox([self.choice, self.image])

    def render(self) -> None:
        position = self.choice.value
        if position is None:
            return
        model = self.lab.model
        name = model.pipeline.stages[position].name
        draws = model.op_draws(position, 16)
        if not _is_images(draws.x):
            return
        muted: list[bool] = []
        if registry.get(name).streamed:
            done = [was_applied(records) for records in draws.info.applied]
            titles = [
                f"draw {k}\n{_record_line(records)}" if applied else f"draw {k}\nnot applied"
                for k, (records, applied) in enumerate(zip(draws.info.applied, done))
            ]
            muted = [not applied for applied in done]
        else:
            titles = [f"draw {k}" for k in range(16)]
        self.image.value = self.picture(
            displayable_batch(draws.x),
            titles,
            f"{position + 1}. {name} alone on one image, 16 draws",
            muted=muted,
            **self.drawn(draws.targets, count=len(draws.x)),
        )


class CompareView(LabView):
    """A pinned setting A beside the lab's setting B, on the same batch and the same draws.

    The line above the grids says what B changes from A; the buttons swap them (tune A), drop
    A, or export either. The mode shows the batch or one image under 16 draws of each.
    """

    title = "compare A/B"
    capacity = 8

    def build(self) -> widgets.Widget:
        self.diff = widgets.HTML()
        self.diff.add_class("genlab-diff")
        self.mode = widgets.ToggleButtons(options=["batch", "one image, many draws"])
        self.mode.add_class("genlab-compare-mode")
        self.mode.observe(lambda _change: self.render(), names="value")
        self.image_a = image_widget("genlab-grid-a", self.lab.image_format)
        self.image_b = image_widget("genlab-grid-b", self.lab.image_format)
        self.result = widgets.HTML()
        self.result.add_class("genlab-compare-result")
        lab = self.lab
        buttons = widgets.HBox(
            [
                button("pin as A", "genlab-pin", lab.pin, "keep the current settings as A"),
                button("swap A/B", "genlab-swap", lab.swap, "tune A from now on; B is pinned"),
                button("drop A", "genlab-drop", lab.drop_pinned),
                button("export A", "genlab-export-a", lambda: lab.export_compared("A")),
                button("export B", "genlab-export-b", lambda: lab.export_compared("B")),
            ]
        )
        half = widgets.Layout(width="50%", align_items="center")
        pictures = widgets.HBox(
            [widgets.VBox([self.image_a], layout=half), widgets.VBox([self.image_b], layout=half)]
        )
        return widgets.VBox([buttons, self.mode, self.diff, pictures, self.result])

    def render(self) -> None:
        comparison = self.lab.comparison
        if not comparison.active:
            self.diff.value = "<i>pin the current settings as A, then tune B: both show here</i>"
            self.image_a.value = self.image_b.value = b""
            return
        diff = comparison.diff()
        self.diff.value = "<b>B vs A:</b> " + html.escape(
            "; ".join(diff) if diff else "the same settings"
        )
        model = self.lab.model
        names = model.pipeline.class_names
        if self.mode.value == "batch":
            a, b = comparison.run_a().batch, model.last.batch
            if not (_is_images(a.x) and _is_images(b.x)):
                return
            for image, batch, side in ((self.image_a, a, "A"), (self.image_b, b, "B")):
                image.value = self.picture(
                    displayable_batch(batch.x)[: self.capacity],
                    soft_labels(batch.y, names),
                    f"{side}: {self.lab.header()}",
                    columns=2,
                )
        else:
            for image, batch, side in (
                (self.image_a, comparison.draws_a(self.capacity), "A"),
                (self.image_b, model.draws(self.capacity), "B"),
            ):
                if _is_images(batch.x):
                    image.value = self.picture(
                        displayable_batch(batch.x),
                        [f"draw {k}" for k in range(self.capacity)],
                        f"{side}: one image, {self.capacity} draws",
                        columns=2,
                    )


class ZoomView(LabView):
    """One sample large, its labels and its record of what was drawn, the original beside it."""

    title = "zoom"
    size = 384

    def build(self) -> widgets.Widget:
        self.sample = widgets.BoundedIntText(
            value=0, min=0, max=10**6, description="sample", layout=widgets.Layout(width="12em")
        )
        self.sample.add_class("genlab-zoom-sample")
        self.sample.observe(lambda _change: self.render(), names="value")
        self.labels = widgets.HTML()
        self.labels.add_class("genlab-zoom-labels")
        self.original = image_widget("genlab-zoom-original", self.lab.image_format)
        self.image = image_widget("genlab-zoom-image", self.lab.image_format)
        self.record = widgets.HTML()
        self.record.add_class("genlab-zoom-record")
        pictures = widgets.HBox(
            [
                widgets.VBox(
                    [widgets.HTML("<b>processed</b>"), self.image],
                    layout=widgets.Layout(width="64%"),
                ),
                widgets.VBox(
                    [widgets.HTML("<b>original</b>"), self.original],
                    layout=widgets.Layout(width="34%"),
                ),
            ]
        )
        return widgets.VBox([self.sample, self.labels, pictures, self.record])

    def render(self) -> None:
        model = self.lab.model
        original, processed = model.original_pairs()
        if not (_is_images(original.x) and _is_images(processed.x)) or processed.size == 0:
            return
        self.sample.max = processed.size - 1
        i = min(self.sample.value, processed.size - 1)
        shown = displayable_batch(processed.x)[i]
        self.image.value = encode_image(fit(_rgb3(shown), self.size), self.lab.image_format)
        self.original.value = encode_image(
            fit(_rgb3(original.x[i]), self.size), self.lab.image_format
        )
        names = model.pipeline.class_names
        label = soft_labels(processed.y[i : i + 1], names, most=len(names) or 5)[0]
        path = processed.info.paths[i] if processed.info.paths is not None else ""
        self.labels.value = f"<b>label:</b> {html.escape(label)}" + (
            f" &middot; <small>{html.escape(str(path))}</small>" if path else ""
        )
        records = processed.info.applied[i] if processed.info.applied else ()
        items = "".join(f"<li>{html.escape(describe_record(r))}</li>" for r in records)
        self.record.value = (
            f"<b>what was drawn</b><ol style='margin:0'>{items}</ol>"
            if items
            else "<i>no random op drew anything for this sample</i>"
        )


def _rgb3(image: np.ndarray) -> np.ndarray:
    image = displayable_batch(image[None])[0] if image.dtype != np.uint8 else image
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image[..., :3]


class ClassMixView(LabView):
    """A bar chart of how many samples of each class the preview batch holds."""

    title = "class mix"

    def build(self) -> widgets.Widget:
        return image_widget("genlab-class-mix")

    def render(self) -> None:
        model = self.lab.model
        names = model.pipeline.class_names
        self.widget.value = class_mix_png(
            soft_labels(model.last.batch.y, names), names, model.class_counts()
        )


class MemoryView(LabView):
    """The process's resident memory since the lab opened."""

    title = "memory over time"

    def build(self) -> widgets.Widget:
        return image_widget("genlab-rss")

    def render(self) -> None:
        times, rss = self.lab.model.sampler.arrays()
        self.widget.value = rss_png(times, rss)


#: The lab's views in tab order; the first is the grid, redrawn on every change.
VIEWS: tuple[type[LabView], ...] = (
    GridView,
    CompareView,
    ZoomView,
    PairsView,
    DrawsView,
    OpAloneView,
    ClassMixView,
    MemoryView,
)


def count_text(count: float) -> str:
    """A class count as shown: whole counts as they are, soft ones with two decimals.

    >>> count_text(7), count_text(7.382)
    ('7', '7.38')
    """
    return str(int(count)) if float(count).is_integer() else f"{count:.2f}"


def error_html(title: str, error: BaseException) -> str:
    """An error shown in the lab (never a traceback): ``title``, the type and the message."""
    return (
        f"<div class='genlab-error' style='color:#cf222e'><b>{html.escape(title)}</b> "
        f"{html.escape(type(error).__name__)}: {html.escape(str(error))}</div>"
    )


def class_line_html(counts: dict[str, float]) -> str:
    """The line under the grid: how many samples of each class, a warning when only one."""
    present = sum(1 for c in counts.values() if c)
    warning = (
        " <b style='color:#cf222e'>only one class in this batch!</b>"
        if present == 1 and len(counts) > 1
        else ""
    )
    return (
        f"<small>class mix: {present} of {len(counts)} classes: "
        + ", ".join(f"{html.escape(k)}&nbsp;{count_text(v)}" for k, v in counts.items())
        + f"</small>{warning}"
    )


def memory_html(model: LabModel) -> str:
    """The table of what each stage made (shape, dtype, bytes, time) and the memory figures."""
    figures = model.memory_figures()
    rows = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{r.shape}</td><td>{html.escape(r.dtype)}</td>"
        f"<td class='genlab-bytes' style='text-align:right'>{format_bytes(r.nbytes)}</td>"
        f"<td style='text-align:right'>{r.seconds * 1000:.1f} ms</td></tr>"
        for r in model.last.rows
    )
    return (
        "<table class='genlab-memory-table' style='font-size:90%'><tr><th>stage</th><th>shape</th>"
        "<th>dtype</th><th>bytes</th><th>time</th></tr>" + rows + "</table>"
        f"<div class='genlab-memory-summary'>streaming: <b class='genlab-streaming'>"
        f"{format_bytes(figures.streaming_bytes)}</b> of batches in flight &middot; "
        f"eager load of all {figures.n_images} images as {html.escape(figures.eager_dtype)} "
        f"{figures.eager_shape[1:]}: <b class='genlab-eager'>{format_bytes(figures.eager_bytes)}</b>"
        f" &middot; process RSS <b class='genlab-rss-now'>{format_bytes(figures.rss_bytes)}</b></div>"
    )


def export_html(result: ExportResult) -> str:
    """What the export wrote, and which batch of which epoch the grid is."""
    return (
        f"wrote <code class='genlab-export-spec'>{html.escape(str(result.spec_path))}</code> and "
        f"<code class='genlab-export-python'>{html.escape(str(result.python_path))}</code>; "
        f"the grid is batch {result.batch_index} of epoch {result.epoch}"
    ) + "".join(
        f"; <code class='genlab-export-library'>{html.escape(str(path))}</code>"
        for path in result.library_paths
    )

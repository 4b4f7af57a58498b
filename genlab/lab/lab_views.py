"""The views of :class:`~genlab.lab.PipelineLab`, one class each, dispatched from :data:`VIEWS`.

A view owns its widget and draws it from the lab's :class:`~genlab.lab.lab_model.LabModel` in
:meth:`LabView.render`. The lab builds one of each class in :data:`VIEWS`, in that order, as its
tabs (the tab title is the class's ``title``), and renders the selected one when it is out of
date: adding a view is adding a class to the table, nothing else.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from genlab import registry
from genlab.lab.lab_model import ExportResult, LabModel
from genlab.lab.render import GridRenderer, class_mix_png, displayable_batch, labels_of, rss_png
from genlab.memory import format_bytes

if TYPE_CHECKING:
    from genlab.lab.lab_widget import PipelineLab

__all__ = [
    "ClassMixView",
    "DrawsView",
    "GridView",
    "LabView",
    "MemoryView",
    "OpAloneView",
    "PairsView",
    "VIEWS",
    "image_widget",
]


def image_widget(css_class: str) -> widgets.Image:
    """An image widget as wide as its box at most, carrying ``css_class``."""
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    image.add_class(css_class)
    return image


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

    def renderer(self) -> GridRenderer:
        """A grid renderer for this view (16 images, 4 columns, the lab's image format)."""
        return GridRenderer(capacity=16, columns=4, image_format=self.lab.image_format)


class GridView(LabView):
    """The preview batch as a grid of tiles with their labels."""

    title = "grid"

    def build(self) -> widgets.Widget:
        self.grid_renderer = self.renderer()
        self.png = b""
        return image_widget("genlab-grid")

    def render(self) -> None:
        model = self.lab.model
        batch = model.last.batch
        if hasattr(batch.x, "ndim") and batch.x.ndim == 4:
            labels = labels_of(batch.y, model.pipeline.class_names)
            self.png = self.grid_renderer.render(
                displayable_batch(batch.x), labels, self.lab.header()
            )
            self.widget.value = self.png


class PairsView(LabView):
    """Each sample as read beside the same sample processed."""

    title = "original vs processed"

    def build(self) -> widgets.Widget:
        self.pair_renderer = self.renderer()
        return image_widget("genlab-compare")

    def render(self) -> None:
        model = self.lab.model
        original, processed = model.original_pairs()
        if getattr(original.x, "ndim", 0) != 4 or getattr(processed.x, "ndim", 0) != 4:
            return
        n = min(8, original.size)
        shown = displayable_batch(processed.x)
        pairs = [img for i in range(n) for img in (original.x[i], shown[i])]
        labels = labels_of(processed.y, model.pipeline.class_names)
        titles = [t for i in range(n) for t in (f"original {labels[i]}", "processed")]
        self.widget.value = self.pair_renderer.render(pairs, titles, "original | processed")


class DrawsView(LabView):
    """One image of the batch under 16 draws of the whole chain."""

    title = "one image, many draws"

    def build(self) -> widgets.Widget:
        self.draws_renderer = self.renderer()
        return image_widget("genlab-draws")

    def render(self) -> None:
        draws = self.lab.model.draws(16)
        if getattr(draws.x, "ndim", 0) == 4:
            self.widget.value = self.draws_renderer.render(
                displayable_batch(draws.x),
                [f"draw {k}" for k in range(16)],
                "one image under 16 draws (seeds seed..seed+15)",
            )


class OpAloneView(LabView):
    """One stage alone on one image, 16 draws, the draws where it did not apply marked."""

    title = "one op alone"

    def build(self) -> widgets.Widget:
        self.op_renderer = self.renderer()
        self.choice = widgets.Dropdown(
            description="op",
            style={"description_width": "2em"},
            layout=widgets.Layout(width="22em"),
        )
        self.choice.add_class("genlab-op-choice")
        self.image = image_widget("genlab-op-draws")
        return widgets.VBox([self.choice, self.image])

    def render(self) -> None:
        position = self.choice.value
        if position is None:
            return
        model = self.lab.model
        name = model.pipeline.stages[position].name
        draws = model.op_draws(position, 16)
        if getattr(draws.x, "ndim", 0) != 4:
            return
        if registry.get(name).streamed:
            titles = [
                f"draw {k}" + ("" if applied else " (not applied)")
                for k, applied in enumerate(draws.info.applied)
            ]
        else:
            titles = [f"draw {k}" for k in range(16)]
        self.image.value = self.op_renderer.render(
            displayable_batch(draws.x),
            titles,
            f"{position + 1}. {name} alone on one image, 16 draws",
        )


class ClassMixView(LabView):
    """A bar chart of how many samples of each class the preview batch holds."""

    title = "class mix"

    def build(self) -> widgets.Widget:
        return image_widget("genlab-class-mix")

    def render(self) -> None:
        model = self.lab.model
        names = model.pipeline.class_names
        counts = model.class_counts() if model.pipeline.multi_label else None
        self.widget.value = class_mix_png(labels_of(model.last.batch.y, names), names, counts)


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
    PairsView,
    DrawsView,
    OpAloneView,
    ClassMixView,
    MemoryView,
)


def error_html(title: str, error: BaseException) -> str:
    """An error shown in the lab (never a traceback): ``title``, the type and the message."""
    return (
        f"<div class='genlab-error' style='color:#cf222e'><b>{html.escape(title)}</b> "
        f"{html.escape(type(error).__name__)}: {html.escape(str(error))}</div>"
    )


def class_line_html(counts: dict[str, int]) -> str:
    """The line under the grid: how many samples of each class, a warning when only one."""
    present = sum(1 for c in counts.values() if c)
    warning = (
        " <b style='color:#cf222e'>only one class in this batch!</b>"
        if present == 1 and len(counts) > 1
        else ""
    )
    return (
        f"<small>class mix: {present} of {len(counts)} classes: "
        + ", ".join(f"{html.escape(k)}&nbsp;{v}" for k, v in counts.items())
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

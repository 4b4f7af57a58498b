"""``PipelineLab``: toggle, tune, preview, measure and export a pipeline in JupyterLab."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from genlab import registry
from genlab.lab.controls import ParamControl, make_control
from genlab.lab.menu import is_heading, menu_options
from genlab.lab.model import ExportResult, LabModel, photo_pipeline
from genlab.lab.render import GridRenderer, class_mix_png, displayable_batch, labels_of, rss_png
from genlab.lab.throttle import Throttle
from genlab.memory import format_bytes
from genlab.pipeline import Pipeline
from genlab.sources.dataset import SOURCE_PARAMS

__all__ = ["PipelineLab"]

#: The views, as their tabs read.
_VIEWS = (
    "grid",
    "original vs processed",
    "one image, many draws",
    "one op alone",
    "class mix",
    "memory over time",
)
#: Tabs sized to their titles (a row that wraps when narrow) so every title reads in full.
_STYLE = """<style>
.jupyter-widgets.genlab-views > .lm-TabBar { height: auto !important; min-height: 0 !important; }
.jupyter-widgets.genlab-views > .lm-TabBar .lm-TabBar-content { flex-wrap: wrap; }
.jupyter-widgets.genlab-views > .lm-TabBar .lm-TabBar-tab {
  flex: 0 0 auto !important; max-width: none !important; padding: 0 8px; }
.jupyter-widgets.genlab-views > .lm-TabBar .lm-TabBar-tabLabel { overflow: visible !important; }
.genlab-help .widget-html-content, .genlab-members .widget-html-content {
  line-height: 1.3; align-self: center; }
</style>"""


def _button(
    label: str, css_class: str, action: Callable[[], Any], tooltip: str = ""
) -> widgets.Button:
    button = widgets.Button(
        description=label, tooltip=tooltip, layout=widgets.Layout(width="auto", flex="0 0 auto")
    )
    button.add_class(css_class)
    button.on_click(lambda _button: action())
    return button


def _help(text: str) -> widgets.HTML:
    line = widgets.HTML(
        f"<small>{html.escape(text.replace('``', ''))}</small>", layout=widgets.Layout(width="auto")
    )
    line.add_class("genlab-help")
    return line


def _image(css_class: str) -> widgets.Image:
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    image.add_class(css_class)
    return image


class PipelineLab(widgets.VBox):
    """Tune a genlab pipeline by eye: stage toggles and controls, a live grid, costs, export.

    Parameters
    ----------
    pipeline_or_folder
        A :class:`~genlab.Pipeline`, or a class-folder dataset root (then the post's default
        chain is used with ``batch_size`` and ``seed``). None (the default) opens the ``photos``
        sample set under an ImageNet-style chain of ops
        (:func:`~genlab.lab.model.photo_pipeline`).
    batch_size, seed
        Used only when a folder or None is given.
    epoch, batch_index
        Which source batch the preview shows first.
    throttle
        Fewest seconds between two redraws while a control is dragged (the first change redraws
        at once; 0 redraws on every change).
    export_stem
        Default path (without suffix) the *export* button writes ``.json`` and ``.py`` to.
    image_format
        ``"png"`` or ``"jpeg"`` for the grid pictures.

    Notes
    -----
    Every change is tried on a copy of the pipeline and run on the same source batch; a change that
    fails validation or fails to run shows its message in the lab and leaves the last good state.
    The same actions are methods (:meth:`set_params`, :meth:`enable`, :meth:`move`, :meth:`add_stage`,
    :meth:`remove_stage`, :meth:`next_batch`, :meth:`new_draw`, :meth:`show_op`, :meth:`export`,
    :meth:`load`).
    """

    def __init__(
        self,
        pipeline_or_folder: Pipeline | str | os.PathLike | None = None,
        *,
        batch_size: int = 16,
        seed: int = 0,
        epoch: int = 0,
        batch_index: int = 0,
        throttle: float = 0.15,
        export_stem: str | os.PathLike = "genlab-export/pipeline",
        image_format: str = "png",
    ) -> None:
        if isinstance(pipeline_or_folder, Pipeline):
            pipeline = pipeline_or_folder
        elif pipeline_or_folder is None:
            pipeline = photo_pipeline(batch_size, seed)
        else:
            pipeline = Pipeline.from_folder(
                str(pipeline_or_folder), batch_size=batch_size, seed=seed
            )
        self.model = LabModel(pipeline, epoch=epoch, batch_index=batch_index)
        self.renderer = GridRenderer(capacity=16, columns=4, image_format=image_format)
        self.pair_renderer = GridRenderer(capacity=16, columns=4, image_format=image_format)
        self.draws_renderer = GridRenderer(capacity=16, columns=4, image_format=image_format)
        self.op_renderer = GridRenderer(capacity=16, columns=4, image_format=image_format)
        self.controls: dict[tuple[int, str], ParamControl] = {}
        self.toggles: list[widgets.Checkbox] = []
        self._pending: set[int] = set()
        self._syncing = False
        self._stale_views: set[int] = set(range(len(_VIEWS)))
        self.throttle = Throttle(self._apply_pending, throttle)
        self.grid_png = b""
        self.redraws = 0

        self.message = widgets.HTML()
        self.message.add_class("genlab-message")
        self.status = widgets.HTML()
        self.status.add_class("genlab-status")
        self.stages_box = widgets.VBox(layout=widgets.Layout(max_height="34em", overflow="auto"))
        self.stages_box.add_class("genlab-stages")
        self.add_choice = widgets.Dropdown(
            options=menu_options(), layout=widgets.Layout(width="18em")
        )
        self.add_choice.add_class("genlab-add-choice")
        self.add_help = widgets.HTML()
        self.add_help.add_class("genlab-add-help")
        self.add_help.add_class("genlab-help")
        self.add_choice.observe(lambda _change: self._on_choice(), names="index")
        self._on_choice()
        self.source_controls = {
            name: make_control(name, SOURCE_PARAMS[name], self.model.pipeline.source[name])
            for name in ("batch_size", "shuffle")
        }
        for control in self.source_controls.values():
            control.observe(self._on_source_change)

        self.grid = _image("genlab-grid")
        self.compare = _image("genlab-compare")
        self.draws_image = _image("genlab-draws")
        self.op_choice = widgets.Dropdown(
            description="op",
            style={"description_width": "2em"},
            layout=widgets.Layout(width="22em"),
        )
        self.op_choice.add_class("genlab-op-choice")
        self.op_choice.observe(lambda _change: self._on_op_choice(), names="value")
        self.op_image = _image("genlab-op-draws")
        self.class_mix_image = _image("genlab-class-mix")
        self.rss_image = _image("genlab-rss")
        self.class_line = widgets.HTML()
        self.class_line.add_class("genlab-class-line")
        self.memory_table = widgets.HTML()
        self.memory_table.add_class("genlab-memory")
        self.views = widgets.Tab(
            children=[
                self.grid,
                self.compare,
                self.draws_image,
                widgets.VBox([self.op_choice, self.op_image]),
                self.class_mix_image,
                self.rss_image,
            ]
        )
        for i, title in enumerate(_VIEWS):
            self.views.set_title(i, title)
        self.views.add_class("genlab-views")
        self.target_show = {
            name: widgets.Checkbox(value=True, description=name, indent=False,
                                   layout=widgets.Layout(width="7em"))
            for name in ("boxes", "masks", "keypoints", "labels")
        }  # fmt: skip
        for name, checkbox in self.target_show.items():  # shown when the batches carry targets
            checkbox.add_class(f"genlab-show-{name}")
            checkbox.observe(lambda _change: self._redraw(), names="value")
        self.target_toggles = widgets.HBox(list(self.target_show.values()))
        self.target_toggles.add_class("genlab-target-toggles")
        self.views.observe(lambda _change: self._render_views(), names="selected_index")

        self.export_path = widgets.Text(
            value=str(export_stem), description="export to", layout=widgets.Layout(width="26em")
        )
        self.export_path.add_class("genlab-export-path")
        self.export_result = widgets.HTML()
        self.export_result.add_class("genlab-export-result")
        self.load_path = widgets.Text(
            placeholder="spec.json", description="load spec", layout=widgets.Layout(width="26em")
        )
        self.load_path.add_class("genlab-load-path")
        self.stats_progress = widgets.IntProgress(
            value=0, min=0, max=1, layout=widgets.Layout(width="10em")
        )
        self.stats_progress.add_class("genlab-stats-progress")

        left = widgets.VBox(
            [
                widgets.HTML("<b>source</b>"),
                *[c.widget for c in self.source_controls.values()],
                widgets.HTML("<b>stages</b> (run top to bottom)"),
                self.stages_box,
                widgets.HBox([self.add_choice, _button("add", "genlab-add", self._on_add)]),
                self.add_help,
                widgets.HBox(
                    [
                        self.export_path,
                        _button(
                            "export",
                            "genlab-export",
                            self._on_export,
                            "write the spec (.json) and a Python file (.py)",
                        ),
                    ]
                ),
                self.export_result,
                widgets.HBox([self.load_path, _button("load", "genlab-load", self._on_load)]),
                widgets.HBox(
                    [
                        _button(
                            "mean/std from the data",
                            "genlab-stats",
                            self.fill_statistics,
                            "one pass over the dataset fills rescale_images' mean and std",
                        ),
                        self.stats_progress,
                    ]
                ),
            ],
            layout=widgets.Layout(width="46%", min_width="30em", padding="0 1em 0 0"),
        )
        right = widgets.VBox(
            [
                widgets.HBox(
                    [
                        _button("next batch", "genlab-next-batch", self.next_batch),
                        _button(
                            "new draw",
                            "genlab-new-draw",
                            self.new_draw,
                            "new random augmentations of the same images (raises augment's seed)",
                        ),
                        self.status,
                    ]
                ),
                self.target_toggles,
                self.views,
                self.class_line,
                self.memory_table,
            ],
            layout=widgets.Layout(width="54%"),
        )
        super().__init__([widgets.HTML(_STYLE), self.message, widgets.HBox([left, right])])
        self.add_class("genlab-lab")
        self._rebuild_stages()
        self._redraw()

    # -- public actions -------------------------------------------------------------------
    @property
    def pipeline(self) -> Pipeline:
        """A copy of the pipeline exactly as the lab shows it."""
        return self.model.pipeline.copy()

    def set_params(self, stage: int | str, **params: Any) -> bool:
        """Change parameters of a stage (by position or name); returns whether it was kept."""
        return self._act(lambda: self.model.set_params(stage, **params))

    def enable(self, stage: int | str, enabled: bool = True) -> bool:
        """Switch a stage on or off."""
        return self._act(lambda: self.model.enable(stage, enabled))

    def move(self, stage: int | str, to: int) -> bool:
        """Move a stage to position ``to``."""
        return self._act(lambda: self.model.move(stage, to), structure=True)

    def add_stage(self, name: str, index: int | None = None, **params: Any) -> bool:
        """Insert a registered stage at ``index``; by default an op goes after the last op
        (or after ``read_images``), a pipeline stage at the end (:meth:`LabModel.place_for`)."""
        return self._act(lambda: self.model.add(name, index, **params), structure=True)

    def remove_stage(self, stage: int | str) -> bool:
        """Remove a stage."""
        return self._act(lambda: self.model.remove(stage), structure=True)

    def next_batch(self) -> bool:
        """Show the next source batch."""
        return self._act(self.model.next_batch)

    def new_draw(self) -> bool:
        """Draw the random augmentations anew on the same images."""
        return self._act(self.model.new_draw)

    def show_op(self, stage: int | str) -> None:
        """Open the "one op alone" view on a stage (by position or name): 16 draws of it alone."""
        position = self.model.pipeline._position(stage)
        self.op_choice.value = position
        self.views.selected_index = _VIEWS.index("one op alone")

    def export(self, stem: str | os.PathLike | None = None) -> ExportResult:
        """Return the pipeline the grid shows and, given ``stem``, write ``stem.json``/``stem.py``.

        Batch ``batch_index`` of epoch ``epoch`` of the returned pipeline (or of the reloaded
        files) is exactly the batch in the grid.
        """
        return self.model.export(stem)

    def fill_statistics(self, client: Any = False) -> bool:
        """Fill ``rescale_images``' mean and std with the dataset's per-channel statistics.

        One pass over the whole dataset (:func:`genlab.integrations.dask.channel_stats`) with
        the progress bar moving; ``client=False`` runs it here, a Dask client or scheduler
        address runs it on a cluster.
        """
        from ..integrations.dask import channel_stats

        def progress(done: int, total: int) -> None:
            self.stats_progress.max = max(total, 1)
            self.stats_progress.value = done

        def action() -> None:
            stats = channel_stats(self.model.pipeline, client=client, progress=progress)
            self.model.apply(stats.apply_to)

        return self._act(action)

    def load(self, spec_or_path: dict | str | os.PathLike) -> bool:
        """Load a spec (dict or JSON file) into the lab."""
        return self._act(lambda: self.model.load(spec_or_path), structure=True)

    # -- building the stage panel -----------------------------------------------------------
    def _rebuild_stages(self) -> None:
        self._syncing = True
        try:
            self.controls.clear()
            self.toggles = []
            rows = []
            stages = self.model.pipeline.stages
            for position, config in enumerate(stages):
                info = registry.get(config.name)
                toggle = widgets.Checkbox(
                    value=config.enabled,
                    description=f"{position + 1}. {config.name}",
                    indent=False,
                    layout=widgets.Layout(width="16em"),
                )
                toggle.add_class("genlab-toggle")
                toggle.add_class(f"genlab-toggle-{config.name}")
                toggle.observe(
                    lambda change, p=position: self._on_toggle(p, change["new"]), names="value"
                )
                self.toggles.append(toggle)
                header = widgets.HBox(
                    [
                        toggle,
                        _button(
                            "▲", "genlab-move-up", lambda p=position: self.move(p, p - 1), "move up"
                        ),
                        _button(
                            "▼",
                            "genlab-move-down",
                            lambda p=position: self.move(p, p + 1),
                            "move down",
                        ),
                        _button(
                            "✕", "genlab-remove", lambda p=position: self.remove_stage(p), "remove"
                        ),
                        _button(
                            "alone",
                            "genlab-show-op",
                            lambda p=position: self.show_op(p),
                            "this stage alone on one image, 16 draws",
                        ),
                        _help(info.help),
                    ]
                )
                controls = []
                for name, param in info.params.items():
                    control = make_control(name, param, config.params[name])
                    control.observe(lambda _c, p=position: self._on_param_change(p))
                    self.controls[(position, name)] = control
                    controls.append(control.widget)
                box = widgets.VBox(
                    [header, *controls],
                    layout=widgets.Layout(
                        border="1px solid #d0d7de", padding="2px", margin="2px 0", flex="0 0 auto"
                    ),
                )
                box.add_class(f"genlab-stage-{config.name}")
                rows.append(box)
            self.stages_box.children = rows
            chosen = self.add_choice.value
            self.add_choice.options = menu_options()
            if chosen in registry.names():
                self.add_choice.value = chosen
            shown = self.op_choice.value
            self.op_choice.options = [
                (f"{position + 1}. {config.name}", position)
                for position, config in enumerate(stages)
            ]
            if shown is not None and shown < len(stages):
                self.op_choice.value = shown
            elif stages:
                self.op_choice.value = _first_op(stages)
        finally:
            self._syncing = False

    def _sync_controls(self) -> None:
        """Show the model's (last good) values in every control."""
        self._syncing = True
        try:
            for position, config in enumerate(self.model.pipeline.stages):
                self.toggles[position].value = config.enabled
                for name, value in config.params.items():
                    self.controls[(position, name)].value = value
            for name, control in self.source_controls.items():
                control.value = self.model.pipeline.source[name]
        finally:
            self._syncing = False

    # -- reacting to the user ---------------------------------------------------------------
    def _act(self, action: Callable[[], Any], structure: bool = False) -> bool:
        """Run a model action; show its error (keeping the last good state) or redraw."""
        try:
            action()
        except Exception as error:  # shown in the widget, not as a traceback
            self.message.value = (
                f"<div class='genlab-error' style='color:#cf222e'><b>not applied:</b> "
                f"{html.escape(type(error).__name__)}: {html.escape(str(error))}"
                f"<br><small>the lab keeps the last good state</small></div>"
            )
            if structure:
                self._rebuild_stages()
            else:
                self._sync_controls()
            return False
        self.message.value = ""
        if structure:
            self._rebuild_stages()
        self._sync_controls()
        self._redraw()
        return True

    def _on_toggle(self, position: int, enabled: bool) -> None:
        if not self._syncing:
            self.enable(position, enabled)

    def _on_param_change(self, position: int) -> None:
        if self._syncing:
            return
        self._pending.add(position)
        self.throttle.trigger()

    def _apply_pending(self) -> None:
        pending, self._pending = sorted(self._pending), set()
        names = {position: self.model.pipeline.stages[position].name for position in pending}
        values = {
            position: {name: c.value for (p, name), c in self.controls.items() if p == position}
            for position in pending
        }

        def edit(pipeline: Pipeline) -> None:
            for position in pending:
                if pipeline.stages[position].name != names[position]:
                    raise RuntimeError("the stages changed while a value was being edited")
                pipeline.set_params(position, **values[position])

        self._act(lambda: self.model.apply(edit))

    def _on_source_change(self, _control: ParamControl) -> None:
        if not self._syncing:
            values = {name: c.value for name, c in self.source_controls.items()}
            self._act(lambda: self.model.set_source(**values))

    def _on_choice(self) -> None:
        """A heading chosen moves to its first entry; the chosen entry's help shows below."""
        index, name = self.add_choice.index, self.add_choice.value
        if is_heading(name):
            if index + 1 < len(self.add_choice.options):
                self.add_choice.index = index + 1  # observed: this method runs again
            return
        info = registry.get(name) if name is not None else None
        self.add_help.value = (
            "" if info is None else
            f"<small><code>{html.escape(name)}</code> ({html.escape(info.kind)}): "
            f"{html.escape(info.help.replace('``', ''))}</small>"
        )  # fmt: skip

    def _on_add(self) -> None:
        if not is_heading(self.add_choice.value):
            self.add_stage(self.add_choice.value)

    def _on_op_choice(self) -> None:
        if not self._syncing:
            self._stale_views.add(_VIEWS.index("one op alone"))
            self._render_views()

    def _on_export(self) -> None:
        try:
            result = self.export(self.export_path.value)
        except Exception as error:
            self.export_result.value = (
                f"<span style='color:#cf222e'>export failed: {html.escape(type(error).__name__)}: "
                f"{html.escape(str(error))}</span>"
            )
            return
        self.export_result.value = (
            f"wrote <code class='genlab-export-spec'>{html.escape(str(result.spec_path))}</code> and "
            f"<code class='genlab-export-python'>{html.escape(str(result.python_path))}</code>; "
            f"the grid is batch {result.batch_index} of epoch {result.epoch}"
        ) + "".join(
            f"; <code class='genlab-export-library'>{html.escape(str(path))}</code>"
            for path in result.library_paths
        )

    def _on_load(self) -> None:
        path = self.load_path.value.strip()
        if not path:
            self.message.value = (
                "<span style='color:#cf222e'>type the path of a spec file to load</span>"
            )
            return
        self.load(Path(path))

    # -- drawing ------------------------------------------------------------------------------
    def _redraw(self) -> None:
        """Redraw the grid, the status line, the class line and the memory table."""
        model = self.model
        batch = model.last.batch
        class_names = model.pipeline.class_names
        labels = labels_of(batch.y, class_names)
        header = f"seed {model.pipeline.seed}, epoch {model.epoch}, batch {model.batch_index}"
        augment = next((s for s in model.pipeline.stages if s.name == "augment"), None)
        draw = model.pipeline.augment_seed or (augment.params["seed"] if augment else 0)
        if draw:
            header += f", draw {draw}"
        self.target_toggles.layout.display = None if batch.targets is not None else "none"
        if hasattr(batch.x, "ndim") and batch.x.ndim == 4:
            self.grid_png = self.renderer.render(
                displayable_batch(batch.x), labels, header, **self._drawn(batch.targets)
            )
            self.grid.value = self.grid_png
        self.redraws += 1
        self.status.value = (
            f"<span class='genlab-status-text'>{html.escape(header)} &middot; "
            f"{len(model.pipeline)} batches per epoch &middot; stages ran in "
            f"{model.last.seconds * 1000:.0f} ms</span>"
        )
        counts = model.class_counts()
        present = sum(1 for c in counts.values() if c)
        warning = (
            " <b style='color:#cf222e'>only one class in this batch!</b>"
            if present == 1 and len(counts) > 1
            else ""
        )
        self.class_line.value = (
            f"<small>class mix: {present} of {len(counts)} classes: "
            + ", ".join(f"{html.escape(k)}&nbsp;{v}" for k, v in counts.items())
            + f"</small>{warning}"
        )
        self.memory_table.value = self._memory_html()
        self._stale_views = set(range(1, len(_VIEWS)))
        self._render_views()

    def _drawn(self, targets, dashed=None, count=None) -> dict:
        """The targets a grid draws (with the show/hide switches), none for classification or
        when they are not one per image (``count``)."""
        if targets is None or (count is not None and len(targets) != count):
            return {}
        show = {name: c.value for name, c in self.target_show.items()}
        fmt = self.model.pipeline.target_format
        return {"targets": targets, "target_format": fmt, "show": show, "dashed": dashed}

    def _memory_html(self) -> str:
        figures = self.model.memory_figures()
        rows = "".join(
            f"<tr><td>{html.escape(r.name)}</td><td>{r.shape}</td><td>{html.escape(r.dtype)}</td>"
            f"<td class='genlab-bytes' style='text-align:right'>{format_bytes(r.nbytes)}</td>"
            f"<td style='text-align:right'>{r.seconds * 1000:.1f} ms</td></tr>"
            for r in self.model.last.rows
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

    def _render_views(self) -> None:
        """Render the selected secondary view if it is out of date (the others wait)."""
        selected = self.views.selected_index or 0
        if selected not in self._stale_views:
            return
        self._stale_views.discard(selected)
        try:
            self._render_view(selected)
        except Exception as error:  # shown in the widget, not as a traceback
            self.message.value = (
                f"<div class='genlab-error' style='color:#cf222e'><b>cannot draw the "
                f"{html.escape(_VIEWS[selected])} view:</b> {html.escape(type(error).__name__)}: "
                f"{html.escape(str(error))}</div>"
            )

    def _render_view(self, selected: int) -> None:
        model = self.model
        names = model.pipeline.class_names
        view = _VIEWS[selected]
        if view == "original vs processed":
            original, processed = model.original_pairs()
            if getattr(original.x, "ndim", 0) == 4 and getattr(processed.x, "ndim", 0) == 4:
                n = min(8, original.size)
                shown = displayable_batch(processed.x)
                pairs = [img for i in range(n) for img in (original.x[i], shown[i])]
                labels = labels_of(processed.y, names)
                titles = [t for i in range(n) for t in (f"original {labels[i]}", "processed")]
                drawn = {}
                if original.targets is not None and processed.targets is not None:
                    from ..overlay import dropped_ids

                    t_o, t_p = original.targets, processed.targets
                    targets = [t for i in range(n) for t in (t_o[i], t_p[i])]
                    gone = [d for i in range(n) for d in (dropped_ids(t_o[i], t_p[i]), ())]
                    drawn = self._drawn(targets, gone)
                self.compare.value = self.pair_renderer.render(
                    pairs, titles, "original | processed (dashed: dropped)" if drawn else
                    "original | processed", **drawn,
                )  # fmt: skip
        elif view == "one image, many draws":
            draws = model.draws(16)
            if getattr(draws.x, "ndim", 0) == 4:
                self.draws_image.value = self.draws_renderer.render(
                    displayable_batch(draws.x),
                    [f"draw {k}" for k in range(16)],
                    "one image under 16 draws (seeds seed..seed+15)",
                    **self._drawn(draws.targets, count=len(draws.x)),
                )
        elif view == "one op alone":
            position = self.op_choice.value
            if position is None:
                return
            name = model.pipeline.stages[position].name
            draws = model.op_draws(position, 16)
            if getattr(draws.x, "ndim", 0) == 4:
                titles = [
                    f"draw {k}" + ("" if applied else " (not applied)")
                    for k, applied in enumerate(draws.info.applied)
                ] if registry.get(name).streamed else [f"draw {k}" for k in range(16)]  # fmt: skip
                self.op_image.value = self.op_renderer.render(
                    displayable_batch(draws.x),
                    titles,
                    f"{position + 1}. {name} alone on one image, 16 draws",
                    **self._drawn(draws.targets, count=len(draws.x)),
                )
        elif view == "class mix":
            counts = model.class_counts() if model.pipeline.multi_label else None
            self.class_mix_image.value = class_mix_png(
                labels_of(model.last.batch.y, names), names, counts
            )
        elif view == "memory over time":
            times, rss = model.sampler.arrays()
            self.rss_image.value = rss_png(times, rss)


def _first_op(stages) -> int:
    """The position of the first stage that draws per sample (an op), else 0."""
    return next((i for i, s in enumerate(stages) if registry.get(s.name).streamed), 0)

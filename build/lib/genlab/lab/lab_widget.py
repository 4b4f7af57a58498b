"""``PipelineLab``: toggle, tune, preview, measure and export a pipeline in JupyterLab."""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from genlab import registry
from genlab.integrations.dask import channel_stats
from genlab.lab.controls import ParamControl, make_control
from genlab.lab.lab_compare import Comparison
from genlab.lab.lab_io import FilesBox
from genlab.lab.lab_model import ExportResult, LabModel, lab_pipeline
from genlab.lab.lab_panel import STYLE, AddMenu, StagePanel, button, short_error
from genlab.lab.lab_views import (
    VIEWS,
    ClassMixView,
    CompareView,
    DrawsView,
    GridView,
    LabView,
    MemoryView,
    OpAloneView,
    PairsView,
    ZoomView,
    class_line_html,
    error_html,
    export_html,
    memory_html,
)
from genlab.lab.throttle import Throttle
from genlab.pipeline import Pipeline
from genlab.sources.dataset import SOURCE_PARAMS

__all__ = ["PipelineLab"]


class PipelineLab(widgets.VBox):
    """Tune a genlab pipeline by eye: stage toggles and controls, a live grid, costs, export.

    Parameters
    ----------
    pipeline_or_folder
        A :class:`~genlab.Pipeline`, or a class-folder dataset root, Parquet files (a path,
        pattern or list) or a Hugging Face ``datasets`` object (then the post's default chain is
        used with ``batch_size`` and ``seed``). None (the default) opens the ``photos``
        sample set under an ImageNet-style chain of ops
        (:func:`~genlab.lab.lab_model.photo_pipeline`).
    batch_size, seed
        Used only when a folder, files, a dataset or None is given.
    epoch, batch_index
        Which source batch the preview shows first.
    throttle
        Fewest seconds between two redraws while a control is dragged (the first change redraws
        at once; 0 redraws on every change).
    export_stem
        Default path (without suffix) the *export* button writes ``.json`` and ``.py`` to.
    image_format
        ``"jpeg"`` (quality 90: some 20 times faster to encode than PNG and a quarter of the
        bytes, the largest share of a redraw otherwise) or ``"png"`` (lossless) for the pictures
        of samples.
    tile_px
        Side of a tile in the grids, in pixels (say 160 on a wide screen).

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
        image_format: str = "jpeg",
        tile_px: int = 112,
    ) -> None:
        self.model = LabModel(
            lab_pipeline(pipeline_or_folder, batch_size, seed), epoch, batch_index
        )
        self.image_format = image_format
        self.tile_px = tile_px
        self.comparison = Comparison(self.model)
        self._pending: set[int] = set()
        self._syncing = False
        self.throttle = Throttle(self._apply_pending, throttle)
        self.redraws = 0
        self.message = _html("genlab-message")
        self.status = _html("genlab-status")
        self.panel = StagePanel(
            on_toggle=self._on_toggle,
            on_param=self._on_param_change,
            move=self.move,
            remove=self.remove_stage,
            show_op=self.show_op,
        )
        left = self._build_left(export_stem)
        right = self._build_right()
        super().__init__([widgets.HTML(STYLE), self.message, widgets.HBox([left, right])])
        self.add_class("genlab-lab")
        self._rebuild_stages()
        self._redraw()

    # -- building the widget ------------------------------------------------------------------
    def _build_left(self, export_stem: str | os.PathLike) -> widgets.VBox:
        """The source settings, the stage panel, the add menu, export, load and statistics."""
        self.source_controls = {
            name: make_control(name, SOURCE_PARAMS[name], self.model.pipeline.source[name])
            for name in ("batch_size", "shuffle")
        }
        for control in self.source_controls.values():
            control.observe(self._on_source_change)
        return widgets.VBox(
            [
                widgets.HTML("<b>source</b>"),
                *[c.widget for c in self.source_controls.values()],
                widgets.HTML("<b>stages</b> (run top to bottom)"),
                self.panel.box,
                *self._build_add_menu(),
                *self._build_files(export_stem),
                self._build_statistics(),
            ],
            layout=widgets.Layout(width="46%", min_width="30em", padding="0 1em 0 0"),
        )

    def _build_add_menu(self) -> list[widgets.Widget]:
        self.add_menu = AddMenu(self.add_stage)
        self.add_choice, self.add_help = self.add_menu.choice, self.add_menu.help
        return [self.add_menu.widget]

    def _build_files(self, export_stem: str | os.PathLike) -> list[widgets.Widget]:
        self.files = FilesBox(self, export_stem)
        self.export_path, self.export_result = self.files.export_path, self.files.export_result
        self.load_path = self.files.load_path
        return [self.files.widget]

    def _build_statistics(self) -> widgets.HBox:
        self.stats_progress = widgets.IntProgress(
            value=0, min=0, max=1, layout=widgets.Layout(width="10em")
        )
        self.stats_progress.add_class("genlab-stats-progress")
        stats = button(
            "mean/std from the data",
            "genlab-stats",
            self.fill_statistics,
            "one pass over the dataset fills rescale_images' mean and std",
        )
        return widgets.HBox([stats, self.stats_progress])

    def _build_right(self) -> widgets.VBox:
        """The batch buttons, the views (one tab per class of :data:`VIEWS`) and the costs."""
        self.view_list: list[LabView] = [view(self) for view in VIEWS]
        self._stale_views: set[int] = set(range(len(self.view_list)))
        self.op_view = next(v for v in self.view_list if isinstance(v, OpAloneView))
        self.op_view.choice.observe(lambda _change: self._on_op_choice(), names="value")
        self.views = widgets.Tab(children=[view.widget for view in self.view_list])
        for i, view in enumerate(self.view_list):
            self.views.set_title(i, view.title)
        self.views.add_class("genlab-views")
        # the views' widgets, by the names the lab has always offered
        self.grid = self.view(GridView).image
        self.compare = self.view(PairsView).widget
        self.draws_image = self.view(DrawsView).widget
        self.op_choice, self.op_image = self.op_view.choice, self.op_view.image
        self.class_mix_image = self.view(ClassMixView).widget
        self.rss_image = self.view(MemoryView).widget
        self.controls, self.toggles = self.panel.controls, self.panel.toggles
        self.views.observe(lambda _change: self._render_views(), names="selected_index")
        self.class_line = _html("genlab-class-line")
        self.memory_table = _html("genlab-memory")
        self.target_show = {  # drawn over the pictures when the batches carry targets
            name: widgets.Checkbox(
                value=True, description=name, indent=False, layout=widgets.Layout(width="7em")
            )
            for name in ("boxes", "masks", "keypoints", "labels")
        }
        for name, checkbox in self.target_show.items():
            checkbox.add_class(f"genlab-show-{name}")
            checkbox.observe(lambda _change: self._redraw(), names="value")
        self.target_toggles = widgets.HBox(list(self.target_show.values()))
        self.target_toggles.add_class("genlab-target-toggles")
        self.target_toggles.layout.display = "none"
        new_draw = button(
            "new draw",
            "genlab-new-draw",
            self.new_draw,
            "new random augmentations of the same images (raises augment's seed)",
        )
        pin = button("pin as A", "genlab-pin-top", self.pin, "keep these settings as A and compare")
        buttons = [button("next batch", "genlab-next-batch", self.next_batch), new_draw, pin]
        return widgets.VBox(
            [
                widgets.HBox([*buttons, self.status]),
                self.target_toggles,
                self.views,
                self.class_line,
                self.memory_table,
            ],  # fmt: skip
            layout=widgets.Layout(width="54%"),
        )

    # -- the views' widgets, by the names the lab has always offered -------------------------------
    def view(self, view_class: type[LabView]) -> LabView:
        """The lab's view of class ``view_class``."""
        return next(v for v in self.view_list if type(v) is view_class)

    @property
    def grid_png(self) -> bytes:
        """The bytes of the grid last drawn."""
        return self.view(GridView).png

    # -- public actions -------------------------------------------------------------------
    @property
    def pipeline(self) -> Pipeline:
        """A copy of the pipeline exactly as the lab shows it."""
        return self.model.pipeline.copy()

    def set_params(self, stage: int | str, **params: Any) -> bool:
        """Change parameters of a stage (by position or name); returns whether it was kept."""
        return self._act(lambda: self.model.set_params(stage, **params), stage=stage)

    def enable(self, stage: int | str, enabled: bool = True) -> bool:
        """Switch a stage on or off."""
        return self._act(lambda: self.model.enable(stage, enabled), stage=stage)

    def move(self, stage: int | str, to: int) -> bool:
        """Move a stage to position ``to``."""
        return self._act(lambda: self.model.move(stage, to), structure=True)

    def add_stage(self, name: str, index: int | None = None, **params: Any) -> bool:
        """Insert a registered stage at ``index``, by default where it belongs
        (:meth:`LabModel.place_for`: an op before batch mixing, ``rescale_images`` and
        ``shuffle_samples``); its box opens, highlighted."""
        try:
            at = self.model.place_for(name) if index is None else index
        except Exception:  # an unknown name: the model's add says so
            at = None
        return self._act(lambda: self.model.add(name, at, **params), structure=True, new=at)

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
        self.views.selected_index = self.view_list.index(self.op_view)

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

        def progress(done: int, total: int) -> None:
            self.stats_progress.max = max(total, 1)
            self.stats_progress.value = done

        def action() -> None:
            stats = channel_stats(self.model.pipeline, client=client, progress=progress)
            self.model.apply(stats.apply_to)

        return self._act(action)

    def load(self, spec_or_path: dict | str | os.PathLike) -> bool:
        """Load a spec (dict or JSON file) into the lab, at the position an export saved with it
        (so the grid is the exported one), and say so under the load button."""
        kept = self._act(lambda: self.model.load(spec_or_path), structure=True)
        if kept:
            name = "the spec given" if isinstance(spec_or_path, dict) else spec_or_path
            pipeline = self.model.pipeline
            self.files.loaded(name, self.model.epoch, self.model.batch_index, pipeline.augment_seed)
        return kept

    # -- compare and zoom -------------------------------------------------------------------
    def select(self, view_class: type[LabView]) -> None:
        """Show the view of class ``view_class``."""
        self.views.selected_index = self.view_list.index(self.view(view_class))

    def pin(self) -> None:
        """Pin the current settings as A and open the compare view (go on tuning B)."""
        self.comparison.pin()
        self._stale_views.add(self.view_list.index(self.view(CompareView)))
        self.select(CompareView)
        self._render_views()

    def swap(self) -> bool:
        """Tune A from now on; what was B is pinned."""
        return self._act(self.comparison.swap, structure=True)

    def drop_pinned(self) -> None:
        """Forget A."""
        self.comparison.drop()
        self._stale_views.add(self.view_list.index(self.view(CompareView)))
        self._render_views()

    def export_compared(
        self, which: str, stem: str | os.PathLike | None = None
    ) -> ExportResult | None:
        """Export A or B as the compare view shows it, to ``stem`` (by default the export
        path with ``-A`` or ``-B`` added)."""
        view = self.view(CompareView)
        stem = stem or f"{Path(self.export_path.value).with_suffix('')}-{which}"
        try:
            result = self.comparison.export(which, stem)
        except Exception as error:  # shown in the widget, not as a traceback
            view.result.value = error_html(f"cannot export {which}:", error)
            return None
        view.result.value = f"<b>{which}</b>: " + export_html(result)
        return result

    def zoom(self, sample: int) -> None:
        """Open the zoom view on sample ``sample`` of the grid."""
        view = self.view(ZoomView)
        self._stale_views.add(self.view_list.index(view))
        view.sample.value = sample
        self.select(ZoomView)
        self._render_views()

    # -- building the stage panel -----------------------------------------------------------
    def _rebuild_stages(self, new: int | None = None) -> None:
        self._syncing = True
        try:
            self.panel.rebuild(self.model.pipeline, new=new)
            self.add_menu.refresh()
            stages = self.model.pipeline.stages
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

    def _sync_controls(self, keep: int | None = None) -> None:
        """Show the model's (last good) values in every control but those of stage ``keep``."""
        self._syncing = True
        try:
            self.panel.show(self.model.pipeline, keep=keep)
            for name, control in self.source_controls.items():
                control.value = self.model.pipeline.source[name]
        finally:
            self._syncing = False

    # -- reacting to the user ---------------------------------------------------------------
    def _act(
        self,
        action: Callable[[], Any],
        structure: bool = False,
        stage: int | str | None = None,
        new: int | None = None,
    ) -> bool:
        """Run a model action; show its error (keeping the last good state) or redraw.

        The error of an action on ``stage`` shows in that stage's box, whose controls keep
        what the user typed; any other error shows at the top. ``new`` is the position of a
        stage just added (unfolded, highlighted, scrolled to).
        """
        try:
            action()
        except Exception as error:  # shown in the widget, not as a traceback
            at = self._position_or_none(stage)
            if structure:
                self._rebuild_stages()
            if at is None:
                self.message.value = (
                    f"<div class='genlab-error' style='color:#cf222e'><b>not applied:</b> "
                    f"{html.escape(short_error(error))}"
                    f"<br><small>the lab keeps the last good state</small></div>"
                )
                self._sync_controls()
            else:
                self.message.value = ""
                self._sync_controls(keep=at)
                self.panel.show_error(at, error)
            return False
        self.message.value = ""
        at = self._position_or_none(stage)
        if at is not None:
            self.panel.fixed(at)
        if structure:
            self._rebuild_stages(new=new)
        self._sync_controls()
        self._redraw()
        return True

    def _position_or_none(self, stage: int | str | None) -> int | None:
        try:
            return None if stage is None else self.model.pipeline._position(stage)
        except (IndexError, KeyError, ValueError, TypeError):
            return None

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

        self._act(lambda: self.model.apply(edit), stage=pending[0] if len(pending) == 1 else None)

    def _on_source_change(self, _control: ParamControl) -> None:
        if not self._syncing:
            values = {name: c.value for name, c in self.source_controls.items()}
            self._act(lambda: self.model.set_source(**values))

    def _on_op_choice(self) -> None:
        if not self._syncing:
            self._stale_views.add(self.view_list.index(self.op_view))
            self._render_views()

    # -- drawing ------------------------------------------------------------------------------
    def header(self) -> str:
        """Which batch the grid shows: seed, epoch, batch and (when it moved) draw."""
        model = self.model
        header = f"seed {model.pipeline.seed}, epoch {model.epoch}, batch {model.batch_index}"
        augment = next((s for s in model.pipeline.stages if s.name == "augment"), None)
        draw = model.pipeline.augment_seed or (augment.params["seed"] if augment else 0)
        return header + (f", draw {draw}" if draw else "")

    def _redraw(self) -> None:
        """Redraw the grid, the status line, the class line and the memory table."""
        model = self.model
        started = time.perf_counter()
        has_targets = model.last.batch.targets is not None
        self.target_toggles.layout.display = None if has_targets else "none"
        self.view(GridView).render()
        self.picture_seconds = time.perf_counter() - started
        self.redraws += 1
        self.status.value = (
            f"<span class='genlab-status-text'>{html.escape(self.header())} &middot; "
            f"{len(model.pipeline)} batches per epoch &middot; stages ran in "
            f"<span class='genlab-stage-ms'>{model.last.seconds * 1000:.0f}</span> ms, "
            f"picture in <span class='genlab-picture-ms'>{self.picture_seconds * 1000:.0f}</span>"
            " ms</span>"
        )
        self.class_line.value = class_line_html(model.class_counts())
        self.memory_table.value = memory_html(self.model)
        self._stale_views = set(range(1, len(self.view_list)))
        self._render_views()

    def _render_views(self) -> None:
        """Render the selected view if it is out of date (the others wait until selected)."""
        selected = self.views.selected_index or 0
        if selected not in self._stale_views:
            return
        self._stale_views.discard(selected)
        view = self.view_list[selected]
        try:
            view.render()
        except Exception as error:  # shown in the widget, not as a traceback
            self.message.value = error_html(f"cannot draw the {view.title} view:", error)


def _html(css_class: str) -> widgets.HTML:
    widget = widgets.HTML()
    widget.add_class(css_class)
    return widget


def _first_op(stages) -> int:
    """The position of the first stage that draws per sample (an op), else 0."""
    return next((i for i, s in enumerate(stages) if registry.get(s.name).streamed), 0)

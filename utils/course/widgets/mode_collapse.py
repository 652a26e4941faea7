"""ModeCollapseExplorer: browse recorded 2-D GAN runs (notebook 03), and the file format of recorded runs.

``save_runs`` writes the runs of ``utils.remedies.train_runs`` to a compressed ``.npz`` file (what
``scripts/measure_mode_collapse.py`` stores in ``notebooks/data/``); ``load_runs`` reads them back as frames for
the explorer, so a notebook can browse runs it did not train.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from ... import metrics, viz
from ...data import Mixture
from .base import _LiveOrStatic, figure_png

FRAME_KEYS = ("step", "samples", "surface")


def save_runs(
    path: str | Path, runs: dict[tuple[str, str], Sequence[dict]], about: dict, n_samples: int | None = None
) -> None:
    """Write recorded runs to ``path`` (``.npz``): per run the steps, the samples and D's surfaces of every frame.

    ``runs`` maps ``(dataset, method)`` to ``Snapshots2D`` frames. Samples are kept as float16 (the first
    ``n_samples`` of each frame, or all), surfaces in [0, 1] as uint8 (1/255 steps): small enough for git.
    ``about`` (JSON-serialisable: how and where the runs were made) is stored next to them.
    """
    arrays: dict[str, np.ndarray] = {}
    for (dataset, method), frames in runs.items():
        if "/" in dataset or "/" in method:
            raise ValueError(f"run names must not contain '/': {(dataset, method)}")
        key = f"{dataset}/{method}"
        arrays[f"{key}/steps"] = np.array([f["step"] for f in frames], dtype=np.int64)
        arrays[f"{key}/samples"] = torch.stack([f["samples"][:n_samples] for f in frames]).numpy().astype(np.float16)
        surfaces = torch.stack([f["surface"] for f in frames]).clamp(0, 1).numpy()
        arrays[f"{key}/surface"] = np.round(surfaces * 255).astype(np.uint8)
    arrays["about"] = np.array(json.dumps({**about, "runs": [list(k) for k in runs]}))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def load_runs(path: str | Path) -> tuple[dict[tuple[str, str], list[dict]], dict]:
    """Read runs written by :func:`save_runs`: ``(runs, about)``, with ``runs[(dataset, method)]`` a list of frames
    ``{"step", "samples" (N, 2) float32, "surface" (R, R) float32 in [0, 1]}`` in the order they were saved."""
    with np.load(path, allow_pickle=False) as stored:
        about = json.loads(str(stored["about"]))
        runs = {}
        for dataset, method in about.pop("runs"):
            key = f"{dataset}/{method}"
            samples = torch.from_numpy(stored[f"{key}/samples"].astype(np.float32))
            surfaces = torch.from_numpy(stored[f"{key}/surface"].astype(np.float32) / 255)
            runs[dataset, method] = [
                {"step": int(step), "samples": x, "surface": surface}
                for step, x, surface in zip(stored[f"{key}/steps"], samples, surfaces)
            ]
    return runs, about


class ModeCollapseExplorer(_LiveOrStatic):
    """Browse 2-D GAN runs recorded with ``utils.train.Snapshots2D``: choose the data set and the method, slide
    over the training steps, and see the samples over the true modes and D's decision surface, the samples
    per mode, and the metrics up to that step.

    ``runs`` maps ``(dataset, method)`` to a list of frames ``{"step", "samples" (N, 2), "surface" (R, R)}``;
    ``mixtures`` maps each dataset name to its :class:`utils.data.Mixture`. ``sources`` optionally names where
    each run comes from (e.g. "recorded" or "trained here"); the name appears in the picture's title.
    """

    def __init__(
        self,
        runs: dict[tuple[str, str], Sequence[dict]],
        mixtures: dict[str, Mixture],
        extents: dict[str, tuple[float, float, float, float]] | None = None,
        sources: dict[tuple[str, str], str] | None = None,
    ) -> None:
        if not runs:
            raise ValueError("runs is empty: train at least one method and record its frames with Snapshots2D")
        for key, frames in runs.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise TypeError(f"runs must be keyed by (dataset, method) tuples, got {key!r}")
            if key[0] not in mixtures:
                raise ValueError(
                    f"run {key} uses dataset {key[0]!r}, which has no entry in mixtures {sorted(mixtures)}"
                )
            if not frames:
                raise ValueError(f"run {key} has no frames")
            missing = [k for k in FRAME_KEYS if k not in frames[0]]
            if missing:
                raise ValueError(f"frames of run {key} lack {missing}; record them with utils.train.Snapshots2D")
        self.runs = {k: list(v) for k, v in runs.items()}
        self.sources = dict(sources or {})
        self.mixtures = mixtures
        self.extents = extents or {
            name: m.extent(margin=0.3 + 0.1 * float(m.modes.abs().max())) for name, m in mixtures.items()
        }
        self._history: dict[tuple[str, str], list[metrics.ModeReport]] = {}
        self._busy = False

        datasets = list(dict.fromkeys(d for d, _ in self.runs))
        self.dataset = w.ToggleButtons(options=datasets, value=datasets[0], description="data")
        self.method = w.Dropdown(options=self._methods(datasets[0]), description="method")
        self.step = w.SelectionSlider(
            options=self._steps(), description="step", continuous_update=False, layout=w.Layout(width="420px")
        )
        self.step.value = self.step.options[-1]
        self.image = w.Image(format="png")
        self.ui = w.VBox([w.HBox([self.dataset, self.method]), self.step, self.image])
        self.dataset.observe(self._on_dataset, names="value")
        self.method.observe(self._on_method, names="value")
        self.step.observe(self._on_step, names="value")
        self.redraw()

    def __repr__(self) -> str:
        shown = f"{self.dataset.value} / {self.method.value} at step {self.step.value}"
        return f"ModeCollapseExplorer({len(self.runs)} runs; showing {shown})"

    # --- what is shown -------------------------------------------------------------------------------------
    def _methods(self, dataset: str) -> list[str]:
        return [m for d, m in self.runs if d == dataset]

    def _steps(self) -> list[int]:
        return [f["step"] for f in self.runs[(self.dataset.value, self.method.value)]]

    def _frame_index(self) -> int:
        return self._steps().index(self.step.value)

    def history(self, dataset: str, method: str) -> list[metrics.ModeReport]:
        """The mode metrics of every recorded frame of one run (computed once, then cached)."""
        key = (dataset, method)
        if key not in self._history:
            mix = self.mixtures[dataset]
            self._history[key] = [metrics.mode_metrics(f["samples"], mix.modes, mix.std) for f in self.runs[key]]
        return self._history[key]

    def state(self) -> dict:
        """What the explorer shows now: the choices, the frame, and its metrics (modes, high quality, KL)."""
        dataset, method = self.dataset.value, self.method.value
        i = self._frame_index()
        frame = self.runs[(dataset, method)][i]
        mix = self.mixtures[dataset]
        report = self.history(dataset, method)[i]
        return {
            "dataset": dataset,
            "method": method,
            "step": frame["step"],
            "frame": frame,
            "report": report,
            "kl": metrics.mode_histogram_kl(frame["samples"], mix.modes, mix.std),
        }

    def figure(self) -> Figure:
        """Samples over the modes and D's surface | samples per mode | metrics over training, at the chosen step."""
        s = self.state()
        mix, frame, report = self.mixtures[s["dataset"]], s["frame"], s["report"]
        source = f"\n({self.sources[s['dataset'], s['method']]})" if (s["dataset"], s["method"]) in self.sources else ""
        fig, axes = plt.subplots(1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 1.1, 1.1]})
        viz.plot_2d(
            frame["samples"],
            mix.modes,
            frame["surface"],
            self.extents[s["dataset"]],
            ax=axes[0],
            title=f"{s['method']} on the {s['dataset']}, step {s['step']}" + source,
        )
        nearest, _ = metrics.nearest_mode(frame["samples"], mix.modes)
        all_counts = torch.bincount(nearest, minlength=mix.n_modes)
        axes[1].bar(
            range(mix.n_modes), all_counts.tolist(), color="navajowhite", width=0.8, label="nearest to the mode"
        )
        axes[1].bar(
            range(mix.n_modes), report.counts.tolist(), color="tab:orange", width=0.8, label="… and high quality"
        )
        axes[1].axhline(len(nearest) / mix.n_modes, color="k", ls=":", label="uniform")
        axes[1].set(xlabel="mode", ylabel="samples", title=f"{report}\nKL(histogram || uniform) = {s['kl']:.2f} nats")
        axes[1].legend(fontsize=8)
        hist = self.history(s["dataset"], s["method"])
        steps = self._steps()
        ax = axes[2]
        ax.plot(steps, [h.modes_captured / h.n_modes * 100 for h in hist], "o-", ms=3, label="modes captured (%)")
        ax.plot(steps, [h.high_quality * 100 for h in hist], "s-", ms=3, label="high-quality samples (%)")
        ax.axvline(s["step"], color="0.5", ls="--")
        ax.set(xlabel="training step", ylabel="%", ylim=(-3, 103), title="metrics over training")
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        return fig

    def redraw(self) -> None:
        """Draw the current choice into the widget's image."""
        self.image.value = figure_png(self.figure())

    # --- reactions to the controls ---------------------------------------------------------------------------
    def _on_dataset(self, _) -> None:
        method = self.method.value
        options = self._methods(self.dataset.value)
        self._busy = True  # changing the options fires value events: redraw once, at the end
        self.method.options = options
        self.method.value = method if method in options else options[0]
        self._busy = False
        self._reset_steps()

    def _on_method(self, _) -> None:
        if not self._busy:
            self._reset_steps()

    def _reset_steps(self) -> None:
        step = self.step.value
        steps = self._steps()
        self._busy = True
        self.step.options = steps
        self.step.value = step if step in steps else steps[-1]
        self._busy = False
        self.redraw()

    def _on_step(self, _) -> None:
        if not self._busy:
            self.redraw()

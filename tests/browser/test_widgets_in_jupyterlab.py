"""The interactive explorers work in a real JupyterLab: run a notebook in the browser, move a control, and the
picture the widget draws changes.

* notebook 03: the mode-collapse lab (``utils.course.widgets.ModeCollapseExplorer``): move the training-step slider;
* notebook 08: the Gram-matrix explorer (``utils.course.widgets.GramExplorer``): pick another layer;
* notebook 00, the start page a learner meets first: its machine check runs clean, and JupyterLab does not ask to
  fetch news from the web (the course is offline).

Before/after screenshots of each widget go to ``tests/browser/output/``. Every wait is on JupyterLab's own
signals (the app restored, the session ready, the kernel status indicator, the run-all command finished, the
kernel idle in the REST API, the widget's image replaced and loaded), never a fixed sleep.
"""

from __future__ import annotations

import re
import time

import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api",
    exc_type=ImportError,
    reason="Playwright for Python is missing: `make setup` (or `.venv/bin/pip install -e .`) "
    "installs it; it drives Debian's Chromium (`apt-get install -y chromium`), no browser download is needed",
)
expect = sync_api.expect
Locator, Page = sync_api.Locator, sync_api.Page

RUN_ALL_TIMEOUT_MS = 300_000  # quick mode: well under a minute of kernel time per notebook on 2 cores

# The notebook's state as the browser sees it: code cells, how many have run, error outputs.
NOTEBOOK_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const state = {code: 0, run: 0, errors: []};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    state.code++;
    if (cell.executionCount !== null && cell.executionCount !== undefined) state.run++;
    for (let j = 0; j < cell.outputs.length; j++) {
      const out = cell.outputs.get(j).toJSON();
      if (out.output_type === 'error') state.errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
    }
  }
  return state;
}"""

# SHA-256 of the PNG an ipywidgets Image shows (its src is a blob: URL holding the bytes the kernel sent).
IMAGE_DIGEST = """async (img) => {
  const bytes = await (await fetch(img.src)).arrayBuffer();
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join('');
}"""


def open_notebook(page: Page, lab, notebook: str) -> None:
    """Open ``notebook`` in JupyterLab and wait until the app is restored and the kernel is idle."""
    page.goto(lab.page_url(notebook))
    page.wait_for_selector("#main")
    page.wait_for_function("window.jupyterapp !== undefined")
    page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
    name = notebook.rsplit("/", 1)[-1]
    page.wait_for_function(f"""() => {{
      const w = window.jupyterapp.shell.currentWidget;
      return !!(w && w.context && w.context.path.endsWith({name!r}) && w.content && w.content.model);
    }}""")
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.ready; }")
    kernel = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.name")
    assert kernel == "cgm-course", f"{notebook} started kernel {kernel!r}, expected the course's cgm-course"
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=120_000
    )


def run_all_cells(page: Page, lab, notebook: str) -> float:
    """Run every cell through JupyterLab's "Run All Cells" command; wait until it finished and the kernel is
    idle; fail with the error outputs when a cell failed. Returns the seconds it took."""
    start = time.monotonic()
    page.evaluate("""() => {
      window.__runAll = undefined;
      window.jupyterapp.commands.execute('notebook:run-all-cells').then(
        ok => { window.__runAll = {ok: ok}; }, err => { window.__runAll = {error: String(err)}; });
    }""")
    page.wait_for_function("window.__runAll !== undefined", timeout=RUN_ALL_TIMEOUT_MS, polling=500)
    result = page.evaluate("window.__runAll")
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=60_000
    )
    deadline = time.monotonic() + 60
    while any(k["execution_state"] != "idle" for k in lab.api("/api/kernels")):  # the server agrees
        assert time.monotonic() < deadline, f"kernels still busy: {lab.api('/api/kernels')}"
        time.sleep(0.2)
    state = page.evaluate(NOTEBOOK_STATE)
    assert not state["errors"], f"{notebook} failed in JupyterLab:\n" + "\n".join(state["errors"])
    assert result.get("ok") is True and state["run"] == state["code"], (
        f"{notebook}: run-all answered {result}, {state['run']} of {state['code']} code cells ran"
    )
    return time.monotonic() - start


def widget_output(page: Page, *must_contain: str) -> Locator:
    """The (single) rendered widget output that contains every selector in ``must_contain`` and an image."""
    out = page.locator(".jp-OutputArea-output")
    for selector in (*must_contain, "img.widget-image"):
        out = out.filter(has=page.locator(selector))
    expect(out).to_have_count(1)
    return out


def loaded_image(page: Page, out: Locator) -> tuple[str, str]:
    """Wait until the widget's <img> has loaded; return its src and the SHA-256 of its PNG."""
    img = out.locator("img.widget-image")
    expect(img).to_be_visible()
    handle = img.element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=handle)
    return handle.get_attribute("src"), handle.evaluate(IMAGE_DIGEST)


def wait_for_redraw(page: Page, out: Locator, old_src: str) -> tuple[str, str]:
    """Wait until the kernel sent a new picture (the <img> got a new src) and it loaded; return src and digest."""
    handle = out.locator("img.widget-image").element_handle()
    page.wait_for_function(
        "([img, old]) => img.src !== old && img.complete && img.naturalWidth > 0", arg=[handle, old_src]
    )
    return handle.get_attribute("src"), handle.evaluate(IMAGE_DIGEST)


def shutdown_kernels(lab) -> None:
    for kernel in lab.api("/api/kernels"):
        lab.api(f"/api/kernels/{kernel['id']}", method="DELETE")


def test_mode_collapse_lab_step_slider(page, lab, output_dir):
    notebook = "notebooks/03_mode_collapse.ipynb"
    open_notebook(page, lab, notebook)
    seconds = run_all_cells(page, lab, notebook)
    print(f"{notebook}: all cells ran in JupyterLab in {seconds:.1f} s")

    out = widget_output(page, ".widget-slider", ".widget-dropdown", ".widget-toggle-buttons")
    readout = out.locator(".widget-slider .widget-readout")
    step_before = readout.inner_text()
    src_before, digest_before = loaded_image(page, out)
    shot_before = out.screenshot(path=str(output_dir / "03_mode_collapse_before.png"))

    handle = out.locator(".widget-slider .noUi-handle")
    handle.focus()
    handle.press("Home")  # the slider starts at the last recorded step: go to the first
    expect(readout).not_to_have_text(step_before)
    src_after, digest_after = wait_for_redraw(page, out, src_before)
    shot_after = out.screenshot(path=str(output_dir / "03_mode_collapse_after.png"))

    assert digest_after != digest_before, "moving the step slider did not change the explorer's picture"
    assert shot_after != shot_before
    print(
        f"step {step_before} -> {readout.inner_text()}: picture changed ({digest_before[:12]} -> {digest_after[:12]})"
    )
    shutdown_kernels(lab)


def test_gram_explorer_layer(page, lab, output_dir):
    notebook = "notebooks/08_perceptual_loss_and_style_transfer.ipynb"
    open_notebook(page, lab, notebook)
    seconds = run_all_cells(page, lab, notebook)
    print(f"{notebook}: all cells ran in JupyterLab in {seconds:.1f} s")

    out = widget_output(page, "button.widget-toggle-button:text-is('relu2_1')")
    layer = lambda name: out.locator("button.widget-toggle-button", has_text=re.compile(f"^{name}$"))  # noqa: E731
    expect(layer("relu1_1")).to_have_class(re.compile(r"\bmod-active\b"))
    src_before, digest_before = loaded_image(page, out)
    shot_before = out.screenshot(path=str(output_dir / "08_gram_explorer_before.png"))

    layer("relu2_1").click()
    expect(layer("relu2_1")).to_have_class(re.compile(r"\bmod-active\b"))
    src_after, digest_after = wait_for_redraw(page, out, src_before)
    shot_after = out.screenshot(path=str(output_dir / "08_gram_explorer_after.png"))

    assert digest_after != digest_before, "choosing another layer did not change the Gram explorer's picture"
    assert shot_after != shot_before
    print(f"layer relu1_1 -> relu2_1: picture changed ({digest_before[:12]} -> {digest_after[:12]})")
    shutdown_kernels(lab)


def test_start_page_runs_and_lab_stays_offline(page, lab, output_dir):
    notebook = "notebooks/00_start_here.ipynb"
    # What the frontend will use: the server folds overrides.json into the schema's defaults; user settings win
    answer = lab.api("/lab/api/settings/@jupyterlab/apputils-extension:notification")
    notification = {
        key: answer["settings"].get(key, answer["schema"]["properties"][key]["default"])
        for key in ("fetchNews", "checkForUpdates")
    }
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False, (
        f"JupyterLab would ask a learner to fetch news from the web: {notification}; `make setup` installs "
        "scripts/jupyterlab-overrides.json into .venv/share/jupyter/lab/settings/overrides.json"
    )
    open_notebook(page, lab, notebook)
    seconds = run_all_cells(page, lab, notebook)
    report = page.locator(".jp-OutputArea-output pre").filter(has_text="widgets frontend")
    expect(report).to_have_count(1)
    text = report.inner_text()
    assert re.search(r"^ok\s+widgets frontend", text, re.M), f"the start page finds no widgets frontend:\n{text}"
    assert not re.search(r"^FAIL", text, re.M), f"the start page reports a FAIL:\n{text}"
    assert page.locator(".Toastify__toast", has_text="Jupyter news").count() == 0, "JupyterLab asked for news"
    report.screenshot(path=str(output_dir / "00_start_here_check.png"))
    print(f"{notebook}: all cells ran in JupyterLab in {seconds:.1f} s; no FAIL, widgets frontend ok")
    shutdown_kernels(lab)

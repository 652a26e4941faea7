"""python -m utils.scale.bench runs on the CPU (small sizes) and prints a table of images per second, plain vs fast."""

from __future__ import annotations

import json

import pytest

from utils.scale import bench


def test_bench_smoke_on_cpu(tmp_path, capsys):
    out = tmp_path / "bench.json"
    results = bench.main(
        [
            "--device",
            "cpu",
            "--size",
            "32",
            "--width",
            "8",
            "--steps",
            "1",
            "--warmup",
            "1",
            "--batches",
            "2",
            "--channels-last",
            "on",
            "--json",
            str(out),
        ]
    )
    assert {(r.model, r.path.split(":")[0]) for r in results} == {
        (m, p) for m in bench.MODELS for p in ("plain", "fast")
    }
    assert all(r.images_per_second > 0 and r.batch == 2 and r.size == 32 and r.peak_gib is None for r in results)
    assert all(r.reference is None for r in results)  # the official figures are for 256x256 at width 64 only
    printed = capsys.readouterr().out
    assert "img/s" in printed and "x plain" in printed and "fast: channels_last, fused_adam" in printed
    assert len(json.loads(out.read_text())["results"]) == 6


def test_official_figures_are_compared_only_like_for_like():
    r = bench.Result("pix2pix", "plain", 1, 256, 1.32, 0.76, None, bench.REFERENCE_CPU[("pix2pix", 1)])
    assert "2.00" in bench.table([r])  # 1.32 / 0.66
    assert bench.REFERENCE_H200[("cyclegan", 8)] == 44.6 and bench.GPU_BATCHES["pix2pix"] == (1, 16, 64)
    with pytest.raises(ValueError, match="model must be one of"):
        bench.measure("stylegan", 1, 32, None, bench.torch.device("cpu"))


def test_paths_and_the_graph_path_needs_cuda(capsys):
    sp = bench.fast.speed(True, "cpu")
    assert bench.path_speed("plain", sp) is None and bench.path_speed("fast", sp) is sp
    with pytest.raises(ValueError, match="path must be one of"):
        bench.path_speed("turbo", sp)
    with pytest.raises(SystemExit):
        bench.main(["--device", "cpu", "--paths", "graph"])
    assert "needs --device cuda" in capsys.readouterr().err


def test_keep_going_reports_a_failed_measurement_and_goes_on(monkeypatch, capsys):
    real = bench.measure

    def measure(model, *args, **kwargs):
        if model == "cyclegan":
            raise RuntimeError("capture failed\nsecond line")
        return real(model, *args, **kwargs)

    monkeypatch.setattr(bench, "measure", measure)
    args = [
        "--device",
        "cpu",
        "--size",
        "32",
        "--width",
        "8",
        "--steps",
        "1",
        "--warmup",
        "0",
        "--batches",
        "1",
        "--models",
        "cyclegan",
        "pix2pix",
    ]
    results = bench.main([*args, "--keep-going"])
    assert [(r.model, r.path) for r in results] == [("pix2pix", "plain"), ("pix2pix", "fast: fused_adam")]
    assert "cyclegan batch 1 plain: FAILED: RuntimeError: capture failed" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="capture failed"):
        bench.main(args)


def test_loss_curves_of_the_plain_and_fast_paths_agree_on_the_cpu(capsys):
    sp = bench.fast.speed(True, "cpu")  # fused Adam (channels-last would draw other dropout masks: see test_fast)
    curves = bench.loss_curves(4, 2, 32, sp, bench.torch.device("cpu"), ("plain", "fast"), width=8, pairs=6)
    assert set(curves) == {"plain", "fast"} and all(len(c) == 4 for c in curves.values())
    for p, q in zip(curves["plain"], curves["fast"]):
        assert set(p) == {"d_loss", "g_loss", "g_gan", "l1"}
        for key in p:
            assert q[key] == pytest.approx(p[key], rel=1e-4, abs=1e-5), key
    # the steps differ: the model learns, and the data are shuffled batches
    assert len({round(e["l1"], 6) for e in curves["plain"]}) == 4
    printed = bench.curve_table(curves, windows=2)
    assert printed.splitlines()[0].split()[:5] == ["steps", "path", "d_loss", "g_gan", "l1"]
    assert "1-2" in printed and "3-4" in printed and printed.count("fast") == 2
    # the graph path's warm-up steps are not logged: their windows show nan, the others the mean
    table = bench.curve_table(
        {"graph": [None, None, {"d_loss": 1.0, "g_gan": 2.0, "l1": 3.0}, {"d_loss": 3.0, "g_gan": 2.0, "l1": 1.0}]},
        windows=2,
    )
    assert "nan" in table.splitlines()[1] and table.splitlines()[2].split()[2:] == ["2.0000", "2.0000", "2.0000"]


def test_the_gpu_script_runs_end_to_end_on_a_cpu(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(bench.__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "BENCH_ARGS": "--device cpu --size 32 --width 8",
        "CONFIGS": "pix2pix:2",
        "STEPS": "1",
        "WARMUP": "0",
        "CURVE_STEPS": "2",
    }
    done = subprocess.run(
        ["bash", str(root / "scripts" / "bench_gpu.sh"), str(tmp_path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    runs = [json.loads(line) for line in (tmp_path / "bench.jsonl").read_text().splitlines()]
    assert [(r["model"], r["batch"], r["path"]) for run in runs for r in run["results"]] == [
        ("pix2pix", 2, "plain"),
        ("pix2pix", 2, "fast: fused_adam"),
    ]
    curves = json.loads((tmp_path / "curves.json").read_text())["curves"]
    assert set(curves) == {"plain", "fast"} and len(curves["plain"]) == 2
    log = (tmp_path / "log.txt").read_text()
    assert "skipped: no CUDA GPU" in log and "x official" in log

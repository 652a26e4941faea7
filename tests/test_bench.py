"""python -m utils.bench runs on the CPU (small sizes) and prints a table of images per second, plain vs fast."""
from __future__ import annotations

import json

import pytest

from utils import bench


def test_bench_smoke_on_cpu(tmp_path, capsys):
    out = tmp_path / "bench.json"
    results = bench.main(["--device", "cpu", "--size", "32", "--width", "8", "--steps", "1", "--warmup", "1",
                          "--batches", "2", "--channels-last", "on", "--json", str(out)])
    assert {(r.model, r.path.split(":")[0]) for r in results} == {(m, p) for m in bench.MODELS for p in ("plain", "fast")}
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

"""The body of ``benchmarks/gpu_check.sh`` (run that script; it checks for a GPU first).

Usage: ``python benchmarks/gpu_check.py OUT [DEVICE]`` (DEVICE ``cuda`` by default; ``cpu`` dry-runs it).
Writes ``OUT/gpu_check.json``: the device and versions, the gpu-marked test results, the CUDA benchmarks with
their speed-up over the committed 2-core CPU results, and, for each Monte-Carlo driver, the smoke preset on
CUDA compared with the shipped CPU rows (``mdtheory.montecarlo.drivers.compare``).
"""

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_RESULTS = ROOT / "benchmarks" / "results" / "cpu-2core"


def _tests(out: Path) -> dict:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-m", "gpu", "-p", "no:cacheprovider", "tests",
                        f"--junitxml={out / 'gpu_tests.xml'}"], cwd=ROOT, capture_output=True, text=True)
    (out / "gpu_tests.log").write_text(r.stdout + r.stderr)
    print(r.stdout[-3000:], flush=True)
    return {"exit_code": r.returncode, "summary": (r.stdout.strip().splitlines() or [""])[-1],
            "seconds": time.perf_counter() - t0}


def _bench(out: Path, device: str) -> dict:
    from mdtheory.bench import run_benchmarks

    res = {r["name"]: r for r in run_benchmarks(out_dir=out / "bench", only=["round_throughput", "real_throughput"],
                                                device=device)}
    speedups = {}
    cpu_real = json.loads((CPU_RESULTS / "real_throughput.json").read_text())
    for name in ("digits", "text", "antiberty"):
        key = f"{name}_samples_per_s"
        if key in res["real_throughput"] and key in cpu_real:
            speedups[f"{name}_sampling"] = res["real_throughput"][key] / cpu_real[key]
    cpu_rounds = json.loads((CPU_RESULTS / "round_throughput.json").read_text())
    for key in ("maskgit_samples_per_s", "moment_samples_per_s"):
        speedups[key.removesuffix("_samples_per_s") + "_round"] = res["round_throughput"][key] / cpu_rounds[key]
    return {"results": res, "speedup_over_cpu_2core": speedups}


def _drivers(out: Path, device: str) -> dict:
    from mdtheory.montecarlo.drivers import DRIVERS, SHIPPED_SMOKE, run_driver
    from mdtheory.montecarlo.drivers.compare import compare_runs

    report = {}
    for name in DRIVERS:
        t0 = time.perf_counter()
        run_driver(name, out / "simulations" / name, preset="smoke", seed=0, device=device, progress=False)
        cmp = compare_runs(name, SHIPPED_SMOKE / name, out / "simulations" / name)
        report[name] = {**cmp, "seconds": time.perf_counter() - t0}
        print(json.dumps(report[name]), flush=True)
    return report


def main(out: Path, device: str = "cuda") -> int:
    """``device`` is ``cuda`` on a GPU; ``cpu`` dry-runs the same pipeline (the gpu tests then skip)."""
    import torch

    from mdtheory.bench import environment

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = {"environment": environment(device)}
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        result["device_properties"] = {"name": props.name, "memory_gib": props.total_memory / 2 ** 30,
                                       "multiprocessors": props.multi_processor_count}
    print(json.dumps(result), flush=True)

    def save():  # after every stage, so a run cut short still leaves what it measured
        (out / "gpu_check.json").write_text(json.dumps(result, indent=1, default=float))

    result["tests"] = _tests(out)
    save()
    result["bench"] = _bench(out, device)
    save()
    result["drivers"] = _drivers(out, device)
    result["seconds"] = time.perf_counter() - t0
    result["passed"] = (result["tests"]["exit_code"] == 0 and all(d["agree"] for d in result["drivers"].values()))
    save()
    print(f"gpu_check: {'PASS' if result['passed'] else 'FAIL'} in {result['seconds']:.0f} s; "
          f"written to {out / 'gpu_check.json'}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), *sys.argv[2:3]))

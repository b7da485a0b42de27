"""Executors: rows are the same in this process, in local worker processes and on a Dask cluster; a worker
killed mid-task has its task run again; a coordinator killed mid-run resumes without redoing finished tasks."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mdtheory.sweeps.executors import (DaskExecutor, InProcess, ProcessPool, check_scheduler_address,
                                           executor_from_options)
from mdtheory.exact.tv_sweeps import tv_sweep_task, tv_sweep_tasks
from mdtheory.sweeps.runner import run_sweep

CLI = [sys.executable, "-m", "mdtheory.cli"]
TASKS = tv_sweep_tasks(family="dirichlet", n_values=[8, 16, 32, 64], k_values=[1, 2], alpha_values=[0.5, 2.0],
                       vocab_values=[3])


def table(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def log_keys(out):
    return [json.loads(line)["_key"] for line in (out / "results.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return run_sweep(TASKS, tv_sweep_task, tmp_path_factory.mktemp("serial"), progress=False)


def _die_once(task: dict) -> dict:
    """The sweep's task, except that the worker running task ``die_at`` is killed (SIGKILL) mid-task, once."""
    marker = task["marker"]
    if task["n_masked"] == task["die_at"] and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return tv_sweep_task(task)


def _with_kill(tmp_path):
    return [{**t, "marker": str(tmp_path / "killed"), "die_at": 32} for t in TASKS]


def test_process_pool_rows_equal_serial(serial, tmp_path):
    with ProcessPool(2) as pool:
        rows = run_sweep(TASKS, tv_sweep_task, tmp_path, progress=False, executor=pool)
    assert table(rows) == table(serial)
    run = json.loads((tmp_path / "run.json").read_text())["runs"][-1]
    assert run["executor"] == "process-pool" and run["workers"] == 2 and run["computed"] == len(TASKS)


def test_progress_counts_tasks_done_across_workers(tmp_path, capsys):
    tasks = TASKS[:6]
    run_sweep(tasks[:2], tv_sweep_task, tmp_path, progress=False)  # two already done: the bar starts at 2/6
    with ProcessPool(2) as pool:
        run_sweep(tasks, tv_sweep_task, tmp_path, progress=True, desc="tv", executor=pool)
    err = capsys.readouterr().err
    assert "2/6" in err and "6/6" in err and "task" in err


def test_process_pool_worker_killed_mid_task_loses_and_duplicates_nothing(serial, tmp_path):
    tasks = _with_kill(tmp_path)
    with ProcessPool(2) as pool:
        rows = run_sweep(tasks, _die_once, tmp_path / "out", progress=False, executor=pool)
    assert (tmp_path / "killed").exists(), "a worker must have been killed"
    keys = log_keys(tmp_path / "out")
    assert len(keys) == len(set(keys)) == len(tasks)
    assert [{k: v for k, v in r.items() if k not in ("marker", "die_at")} for r in table(rows)] == table(serial)


def _die(task: dict) -> dict:
    os.kill(os.getpid(), signal.SIGKILL)


def test_process_pool_gives_up_after_its_restarts(tmp_path):
    with pytest.raises(RuntimeError, match="died 2 times; 2 tasks left undone"), ProcessPool(1, restarts=1) as pool:
        run_sweep(TASKS[:2], _die, tmp_path, progress=False, executor=pool)


def _threads_seen(task: dict) -> dict:
    import torch
    from threadpoolctl import threadpool_info

    return {"blas": max(p["num_threads"] for p in threadpool_info()), "torch": torch.get_num_threads()}


@pytest.mark.parametrize("threads", [1, 2])
def test_each_task_runs_on_the_executors_thread_count(tmp_path, threads):
    import torch

    before = torch.get_num_threads()
    rows = run_sweep([{"device": "cpu"}], _threads_seen, tmp_path, progress=False, executor=InProcess(threads=threads))
    assert (rows[0]["blas"], rows[0]["torch"]) == (threads, threads)
    assert torch.get_num_threads() == before  # restored after the sweep
    assert json.loads((tmp_path / "run.json").read_text())["runs"][-1]["threads_per_task"] == threads


def test_thread_count_is_validated():
    with pytest.raises(ValueError, match="threads"):
        InProcess(threads=0)


@pytest.mark.parametrize("kw, message", [
    (dict(workers=2, cluster="local:2"), "at most one"),
    (dict(cluster="local"), "local:N"),
    (dict(cluster="remote:2"), "local:N"),
    (dict(scheduler="localhost:8786"), "tcp://HOST:PORT"),
    (dict(workers=0), "workers must be >= 1"),
])
def test_executor_options_are_validated(kw, message):
    with pytest.raises(ValueError, match=message):
        executor_from_options(**kw)


def test_scheduler_addresses():
    assert check_scheduler_address("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    for bad in ("10.0.0.5:8786", "tcp://", "http://host:1", "tcp://host:port"):
        with pytest.raises(ValueError):
            check_scheduler_address(bad)


def test_dask_without_the_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    with pytest.raises(ImportError, match=r'pip install "mdtheory\[dask\]"'):
        DaskExecutor(local_workers=1)


def test_cli_rejects_bad_executor_options(tmp_path):
    for args, message in ((["--cluster", "local:0"], "local:N"), (["--workers", "2", "--cluster", "local:2"],
                                                                   "not allowed with")):
        r = subprocess.run(CLI + ["sweep", "tv", "--family", "dirichlet", "--out", str(tmp_path), *args],
                           capture_output=True, text=True)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------------------------
# a real Dask engine (the dask extra; CI installs it)
def test_dask_local_cluster_rows_equal_serial(serial, tmp_path):
    pytest.importorskip("distributed")
    with DaskExecutor(local_workers=2) as ex:
        rows = run_sweep(TASKS, tv_sweep_task, tmp_path, progress=False, executor=ex)
        assert ex.describe()["workers"] == 2
    assert table(rows) == table(serial)
    run = json.loads((tmp_path / "run.json").read_text())["runs"][-1]
    assert run["executor"] == "dask" and run["cluster"] == "local:2" and run["computed"] == len(TASKS)


def test_dask_worker_killed_mid_task_loses_and_duplicates_nothing(serial, tmp_path):
    pytest.importorskip("distributed")
    tasks = _with_kill(tmp_path)
    with DaskExecutor(local_workers=2) as ex:
        rows = run_sweep(tasks, _die_once, tmp_path / "out", progress=False, executor=ex)
    assert (tmp_path / "killed").exists(), "a worker must have been killed"
    keys = log_keys(tmp_path / "out")
    assert len(keys) == len(set(keys)) == len(tasks)
    assert [{k: v for k, v in r.items() if k not in ("marker", "die_at")} for r in table(rows)] == table(serial)


@pytest.mark.slow  # about 40 s; the Dask sweep rows are checked against serial by the faster tests here
def test_dask_driver_smoke_equals_serial(smoke, tmp_path):
    pytest.importorskip("distributed")
    r = subprocess.run(CLI + ["simulate", "real_asymptotics", "--cluster", "local:2", "--out", str(tmp_path),
                              "--no-progress", "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    serial_rows = json.loads((smoke / "results.json").read_text())
    assert table(json.loads((tmp_path / "results.json").read_text())) == table(serial_rows)
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads((smoke / "summary.json").read_text())


def test_dask_coordinator_killed_resumes_without_redoing_finished_tasks(serial, tmp_path):
    pytest.importorskip("distributed")
    cmd = CLI + ["sweep", "tv", "--family", "dirichlet", "--n", "8,16,32,64,128,256,512", "--k", "1,2", "--alpha", "0.5,2",
                 "--vocab", "3", "--cluster", "local:2", "--out", str(tmp_path),
                 "--no-progress", "--quiet"]
    # the coordinator and its LocalCluster in one process group, killed together with SIGKILL
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    log = tmp_path / "results.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 6):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = log.read_text().splitlines()
    n_tasks = 7 * 2 * 2
    assert 6 <= len(before) < n_tasks, "the kill must land midway"
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    after = log.read_text().splitlines()
    assert after[:len(before)] == before  # finished rows are kept as written
    keys = log_keys(tmp_path)
    assert len(keys) == len(set(keys)) == n_tasks
    run = json.loads((tmp_path / "run.json").read_text())["runs"]
    assert len(run) == 1 and run[0]["computed"] == n_tasks - len(before)  # the killed run wrote no record
    by_key = {json.dumps({k: r[k] for k in TASKS[0]}, sort_keys=True): r
              for r in json.loads((tmp_path / "results.json").read_text())}
    for s in table(serial):  # the serial sweep's tasks are a subset; their rows are the same
        assert table([by_key[json.dumps({k: s[k] for k in TASKS[0]}, sort_keys=True)]]) == [s]


def _peer(reply: bytes | None):
    """A TCP peer on localhost that accepts and then sends ``reply`` (None: says nothing, ever)."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held = []

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return srv, f"tcp://127.0.0.1:{srv.getsockname()[1]}"


@pytest.mark.parametrize("reply, message", [(None, "did not complete the Dask handshake within 2 s"),
                                            (b"\xff" * 64, "cannot connect to the Dask scheduler")])
def test_a_peer_that_is_not_a_dask_scheduler_fails_in_bounded_time_with_one_error(reply, message):
    pytest.importorskip("distributed")
    from mdtheory.sweeps.executors import DaskFailure

    srv, address = _peer(reply)
    try:
        t0 = time.perf_counter()
        with pytest.raises(DaskFailure, match=message) as info:
            DaskExecutor(scheduler=address, connect_timeout=2)
        assert time.perf_counter() - t0 < 10 and address in str(info.value)
        assert isinstance(info.value, ValueError)  # exit 2 from the command line
    finally:
        srv.close()


def test_a_silent_scheduler_is_exit_2_from_the_command_line(tmp_path):
    pytest.importorskip("distributed")
    srv, address = _peer(None)
    try:
        r = subprocess.run(CLI + ["sweep", "tv", "--family", "dirichlet", "--out", str(tmp_path), "--scheduler", address,
                                  "--connect-timeout", "1"], capture_output=True, text=True, timeout=120)
    finally:
        srv.close()
    assert r.returncode == 2 and "handshake" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]


@pytest.mark.parametrize("address, message", [("tcp://h:0", "1..65535"), ("tcp://h:65536", "1..65535"),
                                              ("tcp://h:99999", "1..65535")])
def test_scheduler_ports_are_in_range(address, message):
    with pytest.raises(ValueError, match=message):
        check_scheduler_address(address)
    assert check_scheduler_address("tcp://h:65535") == "tcp://h:65535"


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), "30"])
def test_connect_timeout_is_validated(timeout):
    with pytest.raises(ValueError, match="connect_timeout"):
        DaskExecutor(scheduler="tcp://h:1", connect_timeout=timeout)

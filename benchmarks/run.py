"""`python -m benchmarks.run`: bring up a fresh stack, measure SPEC §7, print, tear it all down."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import traceback
import uuid
from pathlib import Path
from typing import Any

import httpx

from benchmarks import fanout, phases, procstat
from benchmarks.bare import READY_LINE, worker_argv
from benchmarks.phases import (
    IDLE_TIMEOUT_S,
    PhaseError,
    Throughput,
    add_throughput,
    progress,
    wait_idle,
)
from benchmarks.receiver import Receiver, ReceiverTimeout
from benchmarks.report import render, summary, verdicts
from benchmarks.stack import SYSTEM_TASK_TYPE, Stack, StackError

LATENESS_LEAD_S = 2.0  # each task is due this long after its submit
LATENESS_SPREAD_S = 5.0  # submits are spread over this long


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; defaults are the SPEC §7 run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000, help="tasks per throughput run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="alternating bare/Tasklane rounds the tasks split into",
    )
    parser.add_argument("--concurrency", type=int, default=50, help="submits in flight")
    parser.add_argument("--rate", type=float, default=20.0, help="req/s of the latency runs")
    parser.add_argument("--latency-requests", type=int, default=200)
    parser.add_argument(
        "--system-rate", type=float, default=200.0, help="req/s of the System tasks list run"
    )
    parser.add_argument("--system-requests", type=int, default=1000)
    parser.add_argument(
        "--system-running", type=int, default=20, help="tasks running in the listed account"
    )
    parser.add_argument("--lateness-tasks", type=int, default=100)
    parser.add_argument(
        "--fanout-urls", type=int, default=100, help="URLs in the group (at most max_group_urls)"
    )
    parser.add_argument("--fanout-rounds", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per phase")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir on success")
    return parser.parse_args(argv)


def _throughput_json(t: Throughput) -> dict[str, float]:
    return {**dataclasses.asdict(t), "per_s": t.per_s}


def _add_cpu(total: dict[str, float], part: dict[str, float]) -> dict[str, float]:
    return {k: total.get(k, 0.0) + v for k, v in part.items()}


async def interleaved_throughput(
    args: argparse.Namespace,
    stack: Stack,
    receiver: Receiver,
    apis: list[httpx.AsyncClient],
    warmup: int,
) -> tuple[dict[str, Throughput], dict[str, dict[str, float]], list[str]]:
    """Figures 1 and 2 in alternating rounds (bare, Tasklane, Tasklane, bare, ...).

    On a shared machine a neighbour's burst lasts seconds; run one side after the other and
    the burst lands on one side only. Alternating rounds in ABBA order spread it over both,
    so the ratio measures Tasklane, not the neighbours.
    """
    assert stack.client is not None
    client = stack.client
    queue = f"bare-{uuid.uuid4().hex[:8]}"
    worker = stack.spawn("bare-worker", worker_argv(stack.temporal_address, queue))
    idle = {"bare": f"TaskQueue = '{queue}'", "tasklane": "WorkflowType = 'TaskWorkflow'"}
    pids = {"bare": ("temporal", "bare-worker"), "tasklane": ("temporal", "worker", "api")}

    async def run(side: str, phase: str, n: int) -> Throughput:
        if side == "bare":
            return await phases.bare_throughput(
                client, receiver, queue, phase, n, args.concurrency, args.timeout
            )
        result, new_ids = await phases.tasklane_throughput(apis, receiver, phase, n, args.timeout)
        ids.extend(new_ids)
        return result

    ids: list[str] = []
    totals: dict[str, Throughput | None] = {"bare": None, "tasklane": None}
    cpu: dict[str, dict[str, float]] = {"bare": {}, "tasklane": {}}
    try:
        await stack.wait_log("bare-worker", READY_LINE)
        for side in ("bare", "tasklane"):
            await run(side, f"{side}-warmup", warmup)
            await wait_idle(client, idle[side], IDLE_TIMEOUT_S)
        ids.clear()
        sizes = [
            args.tasks // args.rounds + (r < args.tasks % args.rounds) for r in range(args.rounds)
        ]
        for r, n in enumerate(sizes):
            order = ("bare", "tasklane") if r % 2 == 0 else ("tasklane", "bare")
            for side in order:
                watched = _pids(stack, *pids[side])
                before = procstat.cpu_snapshot(watched)
                part = await run(side, f"{side}-{r}", n)
                cpu[side] = _add_cpu(
                    cpu[side], procstat.cpu_delta(before, procstat.cpu_snapshot(watched))
                )
                totals[side] = add_throughput(totals[side], part)
                progress(f"    round {r + 1}/{args.rounds} {side}: {part.per_s:.1f} tasks/s")
                # The next side starts on a quiet system: every workflow of this one closed.
                await wait_idle(client, idle[side], IDLE_TIMEOUT_S)
    finally:
        stack.stop(worker)
    done = {side: total for side, total in totals.items() if total is not None}
    return done, cpu, ids


def _api_client(stack: Stack, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stack.api_url,
        headers={"Authorization": f"Bearer {stack.token}"},
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=30.0,
    )


def _pids(stack: Stack, *names: str) -> dict[str, int]:
    return {"bench": os.getpid(), **{name: stack.by_name(name).pid for name in names}}


async def measure(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    """Every figure, in one run, on one stack."""
    receiver = Receiver()
    await receiver.start()
    warmup = min(50, max(5, args.tasks // 20))
    tasklane_workflows = "WorkflowType = 'TaskWorkflow'"
    try:
        progress(f"starting the stack in {stack.workdir}")
        await stack.start(receiver.hold_url)
        assert stack.client is not None
        client = stack.client
        async with contextlib.AsyncExitStack() as clients:
            # One single-connection client per sender: a shared pool of 50 connections costs
            # the benchmark ~4x the CPU per request (httpcore scans its pool on every request),
            # CPU it would take from the stack it measures on 2 cores.
            apis = [
                await clients.enter_async_context(_api_client(stack, 1))
                for _ in range(args.concurrency)
            ]
            # The paced runs get a roomy pool: a late answer must not hold up the next send.
            api = await clients.enter_async_context(_api_client(stack, 100))
            progress(
                f"1-2/7 bare Temporal vs Tasklane: {warmup} warm-up each, then {args.tasks} "
                f"tasks each in {args.rounds} alternating rounds"
            )
            throughput, cpu, ids = await interleaved_throughput(args, stack, receiver, apis, warmup)
            bare, tasklane = throughput["bare"], throughput["tasklane"]
            cpu_bare, cpu_tasklane = cpu["bare"], cpu["tasklane"]
            progress(f"    bare {bare.per_s:.1f} tasks/s, Tasklane {tasklane.per_s:.1f} tasks/s")

            progress(f"3/7 POST latency: {args.latency_requests} at {args.rate:g} req/s")
            post = await phases.post_latency(
                api, receiver, "latency", args.latency_requests, args.rate, args.timeout
            )
            await wait_idle(client, tasklane_workflows, IDLE_TIMEOUT_S)
            progress(f"4/7 GET latency: {args.latency_requests} at {args.rate:g} req/s")
            get = await phases.get_latency(api, ids, args.latency_requests, args.rate, args.timeout)
            progress(
                f"5/7 System tasks list: {args.system_requests} at {args.system_rate:g} req/s, "
                f"{args.system_running} tasks running"
            )
            system = await phases.system_tasks_latency(
                api,
                receiver,
                SYSTEM_TASK_TYPE,
                "system-tasks",
                # A fresh account: no other phase's tasks in it.
                secrets.randbelow(10**9) + 10**9,
                args.system_running,
                args.system_requests,
                args.system_rate,
                args.timeout,
            )
            await wait_idle(client, tasklane_workflows, IDLE_TIMEOUT_S)
            progress(f"6/7 lateness: {args.lateness_tasks} tasks due +{LATENESS_LEAD_S:g} s")
            late = await phases.lateness(
                api,
                receiver,
                "lateness",
                args.lateness_tasks,
                LATENESS_LEAD_S,
                LATENESS_SPREAD_S,
                args.timeout,
            )
            await wait_idle(client, tasklane_workflows, IDLE_TIMEOUT_S)
            progress(
                f"7/7 group fan-out to {args.fanout_urls} URLs: bare vs Tasklane, "
                f"{args.fanout_rounds} alternating rounds after a warm-up"
            )
            fanned = await fanout.interleaved(
                stack, receiver, api, args.fanout_urls, args.fanout_rounds, args.timeout
            )
        memory = {
            name: {
                "pid": stack.by_name(name).pid,
                **dataclasses.asdict(procstat.memory(stack.by_name(name).pid)),
            }
            for name in ("worker", "api", "temporal")
        }
    finally:
        await receiver.close()
    results: dict[str, Any] = {
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "throughput": {
            "bare": _throughput_json(bare),
            "tasklane": _throughput_json(tasklane),
            "ratio": tasklane.per_s / bare.per_s,
            "warmup_tasks": warmup,
        },
        "cpu_s": {"bare": cpu_bare, "tasklane": cpu_tasklane},
        "post_latency": {**summary(post.latencies_ms), "errors": len(post.errors)},
        "get_latency": {**summary(get.latencies_ms), "errors": len(get.errors)},
        "lateness": summary(late.latencies_ms),
        "memory": memory,
        "system_tasks": {
            **summary(system.latencies_ms),
            "errors": len(system.errors),
            "rate": args.system_rate,
            "running": args.system_running,
        },
        "fanout": {
            "urls": args.fanout_urls,
            "bare": _throughput_json(fanned["bare"]),
            "tasklane": _throughput_json(fanned["tasklane"]),
            "ratio": fanned["tasklane"].per_s / fanned["bare"].per_s,
        },
        "duplicates": dict(receiver.duplicates),
        "errors_sample": (post.errors + get.errors + system.errors)[:5],
    }
    results["verdicts"] = [dataclasses.asdict(v) for v in verdicts(results)]
    return results


def _event_loop() -> asyncio.AbstractEventLoop:
    # uvloop when present: the driver and receiver share 2 cores with what they measure,
    # so the cheaper loop leaves more CPU to the stack (same for both bare and Tasklane).
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def _interrupt(signum: int, frame: object) -> None:
    # Hand SIGTERM to the SIGINT handler asyncio.Runner installs: it cancels the main task,
    # so every finally block runs, instead of raising in whatever code happens to run.
    signal.raise_signal(signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    """Run; exit 0 whenever the run completed, whatever the targets say."""
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="tasklane-bench-"))
    stack = Stack(workdir)
    # SIGTERM takes the same path as Ctrl-C: cancel, then stop every child below.
    signal.signal(signal.SIGTERM, _interrupt)
    results: dict[str, Any] | None = None
    interrupted = False
    try:
        with asyncio.Runner(loop_factory=_event_loop) as runner:
            results = runner.run(measure(args, stack))
    except KeyboardInterrupt:
        interrupted = True
        progress("interrupted")
    except (StackError, PhaseError, ReceiverTimeout) as e:
        progress(f"benchmark failed: {e}")
    except Exception:  # noqa: BLE001 - report anything, then still tear down
        traceback.print_exc()
    finally:
        progress("stopping the stack")
        stack.stop_all()
    if results is None:
        # A failure shows where it happened; an interrupt only says where the logs are.
        for child in [] if interrupted else stack.children:
            print(stack.tail(child, 15), file=sys.stderr)
        print(f"child logs kept in {workdir}", file=sys.stderr)
        return 1
    print(render(results), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.keep_logs:
        print(f"child logs kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Saved histories replay against today's workflows (TaskWorkflow, UrlGroupRegistry): a
change that would break running workflows (non-determinism) fails here, before it reaches a
worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.task import TaskWorkflow
from workflows.url_group_registry import UrlGroupRegistry

HISTORIES = {
    path.stem: path.read_text()
    for path in sorted((Path(__file__).parent / "histories").glob("*.json"))
}


def test_there_are_histories_to_replay() -> None:
    assert len(HISTORIES) >= 5


@pytest.mark.parametrize("name", HISTORIES)
async def test_history_replays_without_nondeterminism(name: str) -> None:
    history = WorkflowHistory.from_json(name, HISTORIES[name])
    result = await Replayer(workflows=[TaskWorkflow, UrlGroupRegistry]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None, result.replay_failure

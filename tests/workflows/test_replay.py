"""Saved histories replay against today's workflows (every one TasklanePlugin registers:
TaskWorkflow, UrlGroupRegistry): a change that would break running workflows
(non-determinism) fails here, before it reaches a worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tasklane.plugin import TasklanePlugin

HISTORIES = {
    path.stem: path.read_text()
    for path in sorted((Path(__file__).parent / "histories").glob("*.json"))
}


def test_there_are_histories_to_replay() -> None:
    assert len(HISTORIES) >= 5


@pytest.mark.parametrize("name", HISTORIES)
async def test_history_replays_without_nondeterminism(name: str) -> None:
    history = WorkflowHistory.from_json(name, HISTORIES[name])
    result = await Replayer(workflows=list(TasklanePlugin().workflows)).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None, result.replay_failure


def test_every_workflow_type_the_plugin_registers_has_saved_histories() -> None:
    registered = {
        workflow.__temporal_workflow_definition.name  # type: ignore[attr-defined]
        for workflow in TasklanePlugin().workflows
    }
    saved = {
        WorkflowHistory.from_json(name, text)
        .events[0]
        .workflow_execution_started_event_attributes.workflow_type.name
        for name, text in HISTORIES.items()
    }
    assert registered <= saved, f"no saved history of {registered - saved}"

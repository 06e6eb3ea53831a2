"""A key limited to some client accounts and projects sees only those (and tasks of none),
through every dialect: reads, lists, results, cursors and blockers."""

from __future__ import annotations

from tasklane.ids import as_uuid
from tests.conftest import OTHER_PROJECT, PROJECT, eventually


async def test_a_limited_key_cannot_see_another_projects_task(stack, tasklane_client) -> None:
    payload = {"results": [{"data": "secret", "encoding": "utf-8"}]}
    hidden = await tasklane_client.start(
        "SCRIPTED", organisation="acme", project=OTHER_PROJECT, client_account=99, payload=payload
    )
    mine = await tasklane_client.start("SCRIPTED", organisation="acme", project=PROJECT)
    unscoped = await tasklane_client.start("SCRIPTED", organisation="acme")
    for task_id in (hidden, mine, unscoped):
        await eventually(lambda t=task_id: _finished(tasklane_client, t))
    async with stack.client("bob") as bearer, stack.client("bob", scheme="Token") as token:
        assert (await bearer.get(f"/v1/tasks/{hidden}")).status_code == 404
        assert (await token.get(f"/tasks/{as_uuid(hidden)}")).status_code == 404
        assert (await bearer.get(f"/v1/tasks/{mine}")).status_code == 200
        assert (await bearer.get(f"/v1/tasks/{unscoped}")).status_code == 200

        [result] = await tasklane_client.results(hidden)
        assert (await token.get(f"/results/{result.info.id}")).status_code == 404
        assert (await token.get(f"/results/{result.info.id}/data")).status_code == 404
        listed = (await token.get(f"/results?task={hidden}")).json()
        assert listed["total_count"] == 0

        blocked = {"target": "http://127.0.0.1:9/x", "blocked_by": [hidden]}
        answer = await bearer.post("/v1/tasks", json=blocked)
        assert answer.status_code == 400 and "blocked_by" in answer.text
        cursor = await token.get(f"/tasks?after_id={as_uuid(hidden)}")
        assert cursor.status_code == 400

        taskhook_ids = {t["id"] for t in (await bearer.get("/v1/tasks?limit=1000")).json()["tasks"]}
        assert hidden not in taskhook_ids and {mine, unscoped} <= taskhook_ids
        ricloud_ids = {
            t["id"] for t in (await token.get("/tasks?limit=1000&type=SCRIPTED")).json()["data"]
        }
        assert as_uuid(hidden) not in ricloud_ids
        assert {as_uuid(mine), as_uuid(unscoped)} <= ricloud_ids


async def _finished(tasklane_client, task_id: str) -> bool:  # type: ignore[no-untyped-def]
    return (await tasklane_client.get(task_id)).state.status.finished

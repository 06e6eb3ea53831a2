"""Record TaskWorkflow histories for the replay test, from a running `tasklane dev`.

Run it after a deliberate, patched change to TaskWorkflow, to add histories of the new code
beside the old ones (never replace old ones: they stand for workflows still running):

    tasklane dev --port 18000 --temporal-port 17233 --data-dir /tmp/rec    # elsewhere
    python tests/workflows/histories/record.py /tmp/rec/dev-token
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx
from temporalio.client import Client

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.receiver import Receiver  # noqa: E402

API, TEMPORAL = "http://127.0.0.1:18000", "127.0.0.1:17233"


def cases(r: Receiver) -> dict[str, dict[str, object]]:
    hooks = r.script("/hooks", 200)
    fast = {"max_attempts": 3, "backoff": "fixed", "initial_delay": 0.5}
    return {
        "completed_after_retry": {
            "target": r.script("/a", 500, 200),
            "notifications": hooks,
            "retry": fast,
        },
        "failed_400": {
            "target": r.script("/b", 400),
            "notifications": {"url": hooks, "events": ["task.failed"]},
        },
        "cancelled_scheduled": {
            "target": r.script("/c", 200),
            "execute_after": "PT1H",
            "notifications": hooks,
        },
        "abandoned": {
            "target": r.script("/d", 500),
            "expires_after": "PT3S",
            "retry": {"max_attempts": 5, "backoff": "fixed", "initial_delay": 5},
        },
        "delayed_unique": {
            "target": r.script("/e", 200),
            "execute_after": "PT1S",
            "unique_id": f"rec-{time.time()}",
        },
    }


async def main(token: str) -> None:
    receiver = Receiver().start()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=API, headers=headers) as api:
        ids = {}
        for name, body in cases(receiver).items():
            answer = await api.post("/v1/tasks", json=body)
            answer.raise_for_status()
            ids[name] = answer.json()["id"]
        await asyncio.sleep(1)
        (await api.delete(f"/v1/tasks/{ids['cancelled_scheduled']}")).raise_for_status()
        client = await Client.connect(TEMPORAL)
        for name, task_id in ids.items():
            handle = client.get_workflow_handle(task_id)
            await handle.result()
            history = await handle.fetch_history()
            (HERE / f"{name}.json").write_text(history.to_json())  # noqa: ASYNC240
            print(name, (await api.get(f"/v1/tasks/{task_id}")).json()["status"])
    receiver.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).read_text().strip()))

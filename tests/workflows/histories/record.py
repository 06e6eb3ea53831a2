"""Record TaskWorkflow histories for the replay test, from a running `tasklane dev`.

Run it after a deliberate, patched change to TaskWorkflow, to add histories of the new code
beside the old ones (never replace old ones: they stand for workflows still running):
    tasklane dev --port 18000 --temporal-port 17233 --data-dir /tmp/rec   # elsewhere
    python tests/workflows/histories/record.py
"""

import asyncio, sys, time
import httpx
from temporalio.client import Client

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
from tests.receiver import Receiver, Reply


async def main():
    token = open(sys.argv[1] if len(sys.argv) > 1 else "/tmp/rec/dev-token").read().strip()
    r = Receiver().start()
    hooks = r.script("/hooks", 200)
    api = httpx.AsyncClient(
        base_url="http://127.0.0.1:18000", headers={"Authorization": f"Bearer {token}"}
    )
    cases = {
        "completed_after_retry": {
            "target": r.script("/a", 500, 200),
            "notifications": hooks,
            "retry": {"max_attempts": 3, "backoff": "fixed", "initial_delay": 0.5},
            "tags": ["replay"],
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
    ids = {}
    for name, body in cases.items():
        resp = await api.post("/v1/tasks", json=body)
        resp.raise_for_status()
        ids[name] = resp.json()["id"]
    await asyncio.sleep(1)
    print((await api.delete(f"/v1/tasks/{ids['cancelled_scheduled']}")).json())
    client = await Client.connect("127.0.0.1:17233")
    for name, wid in ids.items():
        handle = client.get_workflow_handle(wid)
        await handle.result()
        history = await handle.fetch_history()
        (__import__("pathlib").Path(__file__).parent / f"{name}.json").open("w").write(
            history.to_json()
        )
        print(name, (await api.get(f"/v1/tasks/{wid}")).json()["status"])
    r.stop()


asyncio.run(main())

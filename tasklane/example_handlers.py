"""A Python task handler the dev config registers, to try typed tasks and results at once.

POST /tasks  {"type": "echo", "payload": {"hello": "world"}}    (Authorization: Token …)
"""

from typing import Any

from tasklane.handlers import TaskContext


async def echo(ctx: TaskContext) -> dict[str, Any]:
    """Publish the payload back as a JSON result; result_meta says how big it was."""
    ctx.heartbeat({"step": "publishing"})
    info = await ctx.publish_result(ctx.payload, identifier="echo.json")
    return {"size": info.size}

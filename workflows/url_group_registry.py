"""UrlGroupRegistry: one long-lived workflow per organisation holding its URL groups.

Changes are updates, so the API's answer is the registry's real decision (a name already
taken is refused here, where no two requests can race). Reads are a query. The registry
continues as new every few hundred changes so its history stays short; the groups travel in
its input.
"""

from __future__ import annotations

import dataclasses
import json

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from tasklane.url_groups import (
        GROUP_NAME_TAKEN,
        GROUP_NOT_FOUND,
        MAX_REGISTRY_BYTES,
        REGISTRY_FULL,
        REGISTRY_WORKFLOW_TYPE,
        GroupChange,
        GroupRef,
        NewGroup,
        RegistryInput,
        UrlGroup,
    )

CHANGES_BEFORE_CONTINUE_AS_NEW = 500


@workflow.defn(name=REGISTRY_WORKFLOW_TYPE)
class UrlGroupRegistry:
    @workflow.init
    def __init__(self, registry: RegistryInput) -> None:
        self._organisation = registry.organisation
        self._groups: dict[str, UrlGroup] = {g.id: g for g in registry.groups}
        self._changes = 0

    @workflow.run
    async def run(self, registry: RegistryInput) -> None:
        self._show()
        await workflow.wait_condition(
            lambda: (
                self._changes >= CHANGES_BEFORE_CONTINUE_AS_NEW
                or workflow.info().is_continue_as_new_suggested()
            )
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(RegistryInput(self._organisation, list(self._groups.values())))

    @workflow.update
    def create(self, request: NewGroup) -> UrlGroup:
        now = workflow.now()
        group = UrlGroup(
            id=f"ug_{workflow.uuid4().hex}",
            name=request.name,
            urls=request.urls,
            description=request.description,
            created_at=now,
            updated_at=now,
        )
        return self._store(group)

    @create.validator
    def _may_create(self, request: NewGroup) -> None:
        if len(self._groups) >= request.max_groups:
            raise ApplicationError(
                f"the organisation already has {len(self._groups)} URL groups, the limit",
                type=REGISTRY_FULL,
            )
        self._check_name(request.name, None)
        now = workflow.now()
        self._check_size(UrlGroup("", request.name, request.urls, now, now, request.description))

    @workflow.update
    def change(self, request: GroupChange) -> UrlGroup:
        return self._store(self._changed(self._groups[request.group_id], request))

    @change.validator
    def _may_change(self, request: GroupChange) -> None:
        self._check_exists(request.group_id)
        if request.name is not None:
            self._check_name(request.name, request.group_id)
        self._check_size(self._changed(self._groups[request.group_id], request))

    @workflow.update
    def delete(self, request: GroupRef) -> UrlGroup:
        group = self._groups.pop(request.group_id)
        self._changes += 1
        self._show()
        return group

    @delete.validator
    def _may_delete(self, request: GroupRef) -> None:
        self._check_exists(request.group_id)

    @workflow.query
    def groups(self) -> list[UrlGroup]:
        """Every group, oldest first."""
        return sorted(self._groups.values(), key=lambda g: (g.created_at, g.id))

    def _changed(self, group: UrlGroup, request: GroupChange) -> UrlGroup:
        return dataclasses.replace(
            group,
            name=request.name if request.name is not None else group.name,
            urls=request.urls if request.urls is not None else group.urls,
            description=request.description if request.set_description else group.description,
            updated_at=workflow.now(),
        )

    def _store(self, group: UrlGroup) -> UrlGroup:
        self._groups[group.id] = group
        self._changes += 1
        self._show()
        return group

    def _check_exists(self, group_id: str) -> None:
        if group_id not in self._groups:
            raise ApplicationError(f"no URL group {group_id}", type=GROUP_NOT_FOUND)

    def _check_name(self, name: str, group_id: str | None) -> None:
        for other in self._groups.values():
            if other.name == name and other.id != group_id:
                raise ApplicationError(
                    f"a URL group named {name!r} already exists ({other.id})",
                    type=GROUP_NAME_TAKEN,
                )

    def _check_size(self, candidate: UrlGroup) -> None:
        """Refuse a group that would take the registry past what its input may carry."""
        others = sum(_stored_size(g) for g in self._groups.values() if g.id != candidate.id)
        if others + _stored_size(candidate) > MAX_REGISTRY_BYTES:
            raise ApplicationError(
                f"the organisation's URL groups would take more than {MAX_REGISTRY_BYTES} "
                "bytes; delete or shorten some",
                type=REGISTRY_FULL,
            )

    def _show(self) -> None:
        """What an operator sees in the Web UI: each group and its size."""
        lines = [f"**{self._organisation}**: {len(self._groups)} URL group(s)"]
        lines += [f"- `{g.name}` ({g.id}): {len(g.urls)} URL(s)" for g in self.groups()[:50]]
        workflow.set_current_details("\n".join(lines))


def _stored_size(group: UrlGroup) -> int:
    """About what the group takes in a payload (JSON, as Temporal stores it): escapes and
    non-ASCII count at their stored length."""
    return len(json.dumps([group.name, group.description, group.urls])) + 200

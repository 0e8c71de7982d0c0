"""The plan's vocabulary: a few actions, one change per item of any kind (pure data)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["Action", "Change", "FieldChange"]


class Action(StrEnum):
    """What a change does. Only the first five write anything."""

    CREATE = "create"
    UPDATE = "update"
    """Code or configuration changed: upload."""
    RETAG = "retag"
    """Only tags changed (plan, protection, user tags): replace tags."""
    DELETE = "delete"
    ADOPT = "adopt"
    """An unmanaged script with a declared name, explicitly taken over: upload."""
    CONFLICT = "conflict"
    """An unmanaged script has a declared name: never overwritten."""
    PROTECTED = "protected"
    """Would be deleted, but carries the protect tag."""
    SKIPPED = "skipped"
    """The customer is suspended: neither updated nor deleted."""

    @property
    def writes(self) -> bool:
        return self in _WRITES


_WRITES = frozenset({Action.CREATE, Action.UPDATE, Action.RETAG, Action.DELETE, Action.ADOPT})


class FieldChange(BaseModel):
    """One changed field: ``code``, ``config`` or ``tags`` (fingerprint halves and tags),
    or a setting named by ``wfp_reconcile.details`` (``compatibility_date``,
    ``binding NAME``, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    before: str | None
    after: str | None


class Change(BaseModel):
    """One change to one item; ``kind`` is the name of a registered kind
    (``wfp_reconcile.kinds``): ``tail``, ``outbound``, ``script``, ``dispatcher``, ..."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    kind: str
    name: str
    customer: str | None = None
    fields: tuple[FieldChange, ...] = ()
    reason: str = ""

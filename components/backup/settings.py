"""``airflow:backup``: a dump of the metadata database taken before an upgrade may migrate it.

Airflow migrates its schema in the chart's migration Job, once per install or upgrade of the release;
a migration cannot be undone by deploying the older program, so the dump taken just before it is the
way back. Off by default where the stack does not protect its stateful resources (dev), on where it
does (prod).
"""

from __future__ import annotations

from pydantic import Field

from components.images.settings import PinnedReference
from components.model import ConfigModel, MemoryQuantity, Resources, resources_of

__all__ = ["BackupSettings"]


class BackupSettings(ConfigModel):
    """Where the dumps go and when one is taken.

    A dump is taken by the migration Job, before ``airflow db migrate``, whenever the schema's version
    key changed since the last one: the Airflow and chart versions, and ``generation``, which a user
    raises by one to take a dump at the next ``up`` that upgrades the release. The newest ``keep``
    dumps stay on a volume claim of ``storageSize``, protected with the stack's stateful resources.
    """

    enabled: bool | None = None  # None: as airflow:protectStatefulResources
    storage_size: MemoryQuantity = "8Gi"
    keep: int = Field(5, ge=1, le=100)
    generation: int = Field(0, ge=0, le=1_000_000)
    # pg_dump's image; its major version must be the server's or newer. Default: the bundled
    # PostgreSQL's (airflow:images.postgresql, or chart 1.22.0's own).
    image: PinnedReference | None = None
    resources: Resources = resources_of("100m", "128Mi", "512Mi")

"""A desired Worker -> what the pre-flight Worker loads, and how to map its modules back.

The bundle is the engine's own desired upload (``wfp_reconcile.desired``): pre-flight never
bundles anything itself, so it loads exactly the bytes and metadata apply would send.
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import PurePosixPath
from typing import Any

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.desired import DesiredWorker, WorkerKind
from wfp_reconcile.local.runtime.process import MAX_COMPAT_DATE

from .locate import ModuleSource, WorkerRef

__all__ = ["LoadSpec", "load_spec"]


@dataclasses.dataclass(frozen=True)
class LoadSpec:
    """One Worker to load: the JSON for the pre-flight Worker and the map back."""

    id: str
    worker: WorkerRef
    modules: dict[str, ModuleSource]
    body: dict[str, Any]


def _customer_paths(repo: PlatformRepo, worker: DesiredWorker) -> tuple[str, dict[str, str]]:
    customer = next(c for c in repo.customers if c.id == worker.customer)
    script = customer.scripts[worker.name]
    base = PurePosixPath("customers") / customer.id
    paths = {PurePosixPath(p).name: p for p in repo.platform.platform_modules}
    for name in (script.main_module, *script.modules):
        paths[name] = str(base / name)
    return str(base / "customer.yaml"), paths


def _platform_paths(repo: PlatformRepo, worker: DesiredWorker) -> tuple[str, dict[str, str]]:
    platform = repo.platform
    specs = platform.tail_workers if worker.kind is WorkerKind.TAIL else platform.outbound_workers
    spec = specs[worker.name]
    return "platform.yaml", {PurePosixPath(p).name: p for p in (spec.main_module, *spec.modules)}


def module_paths(repo: PlatformRepo, worker: DesiredWorker) -> tuple[str, dict[str, str]]:
    """Where the Worker is declared, and bundle module name -> repository path."""
    if worker.kind is WorkerKind.SCRIPT:
        return _customer_paths(repo, worker)
    if worker.kind in (WorkerKind.OUTBOUND, WorkerKind.TAIL):
        return _platform_paths(repo, worker)
    # The dispatcher is generated from the package's template: its modules have no
    # repository file, so findings name the template module.
    return "platform.yaml", {
        m.name: f"(generated dispatcher)/{m.name}" for m in worker.upload.modules
    }


def load_spec(repo: PlatformRepo, worker: DesiredWorker) -> LoadSpec:
    """What pre-flight loads for ``worker``, exactly as apply would upload it."""
    metadata = worker.upload.metadata
    config_path, paths = module_paths(repo, worker)
    modules = {
        m.name: ModuleSource(path=paths.get(m.name, m.name), content=m.content)
        for m in worker.upload.modules
    }
    date = str(metadata.get("compatibility_date") or MAX_COMPAT_DATE)
    flags = tuple(str(f) for f in metadata.get("compatibility_flags", ()))
    spec_id = f"{worker.kind.value}:{worker.name}"
    body = {
        "id": spec_id,
        "main_module": metadata["main_module"],
        # workerd refuses dates newer than its build; Cloudflare accepts any past date.
        "compatibility_date": min(date, MAX_COMPAT_DATE),
        "compatibility_flags": list(flags),
        "bindings": list(metadata.get("bindings", ())),
        "modules": [
            {
                "name": m.name,
                "content_type": m.content_type,
                "content_b64": base64.b64encode(m.content).decode("ascii"),
            }
            for m in worker.upload.modules
        ],
    }
    ref = WorkerRef(
        kind=worker.kind.value,
        name=worker.name,
        customer=worker.customer,
        config_path=config_path,
        main_module=str(metadata["main_module"]),
        compatibility_flags=flags,
    )
    return LoadSpec(id=spec_id, worker=ref, modules=modules, body=body)

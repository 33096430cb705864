from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from kubernetes_validate import utils as kubernetes_validate


@pytest.fixture(autouse=True, scope="session")
def _cache_kubernetes_schemas() -> Iterator[None]:
    """kubernetes-validate re-reads and re-parses its (large, immutable) schema files for
    every object; reading each once makes strict validation of all overlays ~10x faster."""
    with pytest.MonkeyPatch.context() as patch:
        cached = functools.cache(kubernetes_validate.schema_contents)
        patch.setattr(kubernetes_validate, "schema_contents", cached)
        yield

"""SQL only through bound parameters: a static audit of the adapters and a behavioural check."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from tests.integration.tracker.pg import with_search_path
from tests.security.sql_audit import SqlAudit
from tests.unit.tracker.factories import make_signal
from tracker.adapters.migrations import load_migrations
from tracker.adapters.postgres_ingest import IngestMethod
from tracker.adapters.postgres_store import PostgresSignalStore
from tracker.adapters.sql_common import Params
from tracker.adapters.sqlite_store import SqliteSignalStore
from tracker.domain import SignalFilter, SourceContribution
from tracker.ports import SignalStore

pytestmark = pytest.mark.security
SERVICES = Path(__file__).resolve().parents[2] / "services"
ROOTS = {
    "tracker": SERVICES / "tracker" / "tracker",
    "signal_engine": SERVICES / "signal_engine" / "signal_engine",
}
NASTY = "x'); DROP TABLE signals; -- \" ; DELETE FROM signals WHERE ''=' %s ? $1 {0}"

_BAD_MODULE = """
TABLE = "signals"

async def by_symbol(conn, symbol):
    return await conn.fetch(f"SELECT * FROM signals WHERE symbol = '{symbol}'")

async def by_percent(conn, symbol):
    return await conn.execute("DELETE FROM signals WHERE symbol = '%s'" % symbol)

async def by_format(db, symbol):
    sql = "SELECT * FROM {} WHERE symbol = '{}'".format(TABLE, symbol)
    return await db.execute(sql)

async def by_attribute(db, request):
    return await db.executemany(request.sql, [])

async def fine(conn, symbol):
    return await conn.fetch(f"SELECT * FROM {TABLE} WHERE symbol = $1", symbol)
"""


def test_adapters_build_sql_only_from_constants_and_placeholders() -> None:
    """Without it, a query built from a request field (symbol, filter, cursor) could run
    attacker-chosen SQL against the signal history: read, alter or drop it."""
    findings, checked = SqlAudit(ROOTS).findings(("tracker.adapters", "signal_engine.adapters"))
    assert findings == []
    assert checked >= 50  # the audit really walked the stores (71 SQL calls today)


def test_the_audit_flags_interpolated_values(tmp_path: Path) -> None:
    """Without it, the audit above could pass because it sees nothing (a broken walker)."""
    package = tmp_path / "badpkg"
    (package / "adapters").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "adapters" / "__init__.py").write_text("")
    (package / "adapters" / "store.py").write_text(_BAD_MODULE)
    findings, checked = SqlAudit({"badpkg": package}).findings(("badpkg.adapters",))
    assert checked == 5
    assert sorted(f.function for f in findings) == [
        "by_attribute",
        "by_format",
        "by_percent",
        "by_symbol",
    ]


def test_placeholders_and_migrations_trusted_by_the_audit_are_what_it_assumes() -> None:
    """Without it, the audit's two assumptions (Params.add returns only a placeholder, the
    migration SQL is the package's own files) could silently stop holding."""
    numbered, marks = Params(numbered=True), Params(numbered=False)
    assert [numbered.add(NASTY), numbered.add(NASTY)] == ["$1", "$2"]
    assert marks.add(NASTY) == "?" and marks.values == [NASTY]
    folder = ROOTS["tracker"] / "adapters" / "migrations"
    for dialect in ("sqlite", "postgres"):
        files = {p.read_text(encoding="utf-8") for p in (folder / dialect).glob("*.sql")}
        migrations = load_migrations(dialect)
        assert migrations and {m.sql for m in migrations} <= files


@pytest_asyncio.fixture(params=["sqlite", "postgres-copy", "postgres-unnest"])
async def any_store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> AsyncIterator[SignalStore]:
    """A migrated, empty store of each kind (PostgreSQL in a schema of its own)."""
    if request.param == "sqlite":
        store: SignalStore = SqliteSignalStore(tmp_path / "tracker.db")
        await store.migrate()
        yield store
        await store.aclose()
        return
    schema = f"sql_audit_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_url, timeout=5)
    await admin.execute(f'CREATE SCHEMA "{schema}"')  # a generated identifier, not input
    ingest = IngestMethod.COPY if request.param == "postgres-copy" else IngestMethod.UNNEST
    store = PostgresSignalStore(with_search_path(postgres_url, schema), pool_max=2, ingest=ingest)
    try:
        await store.migrate()
        yield store
    finally:
        await store.aclose()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


@pytest.mark.asyncio
async def test_sql_metacharacters_are_stored_and_queried_verbatim(any_store: SignalStore) -> None:
    """Without it, text holding quotes, semicolons or placeholders could break a statement,
    be altered on the way in, or (injected into a filter) match rows it must not — on
    SQLite and on PostgreSQL through both ingest paths (COPY and UNNEST)."""
    store = any_store
    base = make_signal()
    lineage = (
        SourceContribution(
            source=NASTY, direction=0.5, confidence=0.5, weight=1.0, data_age_ms=1,
            provider="p'; DROP TABLE signals; --",
        ),
    )  # fmt: skip
    signal = replace(base, lineage=lineage)
    result = await store.record([signal], record_time=base.create_time)
    assert result.accepted == 1
    rows, _ = await store.query(SignalFilter(symbols=frozenset({"AAPL"})), 10, None)
    assert [r.signal.lineage for r in rows] == [lineage]
    injected = SignalFilter(symbols=frozenset({"AAPL' OR '1'='1"}))
    assert (await store.query(injected, 10, None))[0] == []  # no row matches the text

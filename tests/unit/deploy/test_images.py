"""The Dockerfiles, read rather than built (no Docker engine here): multi-stage, base pinned
by digest, dependencies from the hashed lock, nothing to compile, non-root, no build tools
in the final stage; the .dockerignore lets in exactly what they copy; and each service
imports with nothing but its image's source roots on the path."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field

import pytest

from tests.unit.deploy.manifests import REPO

SERVICES = {  # package: (image name, gRPC port, admin port)
    "market_gateway": ("market-gateway", 50051, 9101),
    "signal_engine": ("signal-engine", 50052, 9102),
    "tracker": ("tracker", 50053, 9103),
}
BASE = re.compile(r"python:3\.11-slim@sha256:[0-9a-f]{64}")
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|make|build-essential|pip install)\b")


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for k, args in self.instructions if k == keyword]


def parse(text: str) -> list[Stage]:
    """Dockerfile stages; comments dropped and continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            logical.append(" ".join(pending.split()))
            pending = ""
    stages: list[Stage] = []
    for statement in logical:
        keyword, _, args = statement.partition(" ")
        if keyword.upper() == "FROM":
            base, _, alias = args.partition(" AS ")
            stages.append(Stage(base.strip(), alias.strip()))
        else:
            stages[-1].instructions.append((keyword.upper(), args))
    return stages


def _env(stage: Stage) -> dict[str, str]:
    return dict(
        pair.split("=", 1) for args in stage.all("ENV") for pair in args.split() if "=" in pair
    )


@pytest.fixture(params=sorted(SERVICES), name="package")
def _package(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _stages(package: str) -> list[Stage]:
    return parse((REPO / "services" / package / "Dockerfile").read_text())


def test_parser_joins_continuations_and_splits_stages() -> None:
    stages = parse("FROM a AS b\nRUN x \\\n    && y\n# note\nFROM c\nUSER 1\n")
    assert [(s.base, s.name) for s in stages] == [("a", "b"), ("c", "")]
    assert stages[0].all("RUN") == ["x && y"]


def test_multi_stage_from_the_same_digest_pinned_base(package: str) -> None:
    stages = _stages(package)
    assert len(stages) >= 2
    for stage in stages:
        assert BASE.fullmatch(stage.base), stage.base
    assert len({s.base for s in stages}) == 1, "the venv's interpreter symlink needs one base"


def test_dependencies_come_from_the_hashed_lock_as_wheels(package: str) -> None:
    builder = _stages(package)[0]
    assert "requirements/main.txt /tmp/requirements.txt" in builder.all("COPY")
    installs = [r for r in builder.all("RUN") if "pip install" in r]
    assert len(installs) == 1
    assert "--require-hashes" in installs[0]
    assert "--only-binary=:all:" in installs[0]
    assert "-r /tmp/requirements.txt" in installs[0]


def test_each_image_copies_the_shared_roots_and_only_its_own_service(package: str) -> None:
    builder = _stages(package)[0]
    sources = {args.split()[0] for args in builder.all("COPY") if not args.startswith("--")}
    assert sources == {
        "requirements/main.txt",
        "gen/python",
        "libs",
        f"services/{package}/{package}",
    }


def test_final_stage_is_non_root_unbuffered_and_has_no_build_tools(package: str) -> None:
    final = _stages(package)[-1]
    user = final.all("USER")[-1]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0, "numeric non-root UID (runAsNonRoot can verify it)"
    assert gid.isdigit() and int(gid) > 0
    env = _env(final)
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    roots = ["/app/gen/python", "/app/libs", f"/app/services/{package}"]
    assert env["PYTHONPATH"] == ":".join(roots)
    for command in final.all("RUN"):
        assert not BUILD_TOOLS.search(command), command
    copies = final.all("COPY")
    assert copies and all(c.startswith("--from=builder ") for c in copies), copies


def test_image_runs_the_service_on_its_ports(package: str) -> None:
    final = _stages(package)[-1]
    _, grpc_port, admin_port = SERVICES[package]
    assert json.loads(final.all("ENTRYPOINT")[-1]) == ["python", "-m", f"{package}.main"]
    assert final.all("EXPOSE")[-1].split() == [str(grpc_port), str(admin_port)]
    env = _env(final)
    assert (env["GRPC_PORT"], env["ADMIN_PORT"]) == (str(grpc_port), str(admin_port))


def _ignored(patterns: list[str], path: str) -> bool:
    """.dockerignore semantics: the last matching pattern wins; a pattern that matches a
    parent directory matches everything under it; `!` re-includes."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*", "\0").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]").replace("/\0", "(/.*)?").replace("\0/", "(.*/)?")
        regex = regex.replace("\0", ".*").replace(r"\[", "[").replace(r"\]", "]")
        if any(re.fullmatch(regex, c) for c in candidates):
            ignored = not negate
    return ignored


def _dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_admits_what_the_images_copy_and_nothing_else() -> None:
    patterns = _dockerignore()
    copied = ["requirements/main.txt", "gen/python", "libs"]
    copied += [f"services/{p}/{p}" for p in SERVICES]
    for root in copied:
        files = [REPO / root] if (REPO / root).is_file() else (REPO / root).rglob("*.py")
        for path in files:
            if "__pycache__" not in path.parts:
                assert not _ignored(patterns, str(path.relative_to(REPO))), path
    for kept_out in (
        ".venv/bin/python",
        ".git/HEAD",
        "tests/conftest.py",
        "var/tracker.db",
        "deploy/k8s/base/kustomization.yaml",
        "requirements/dev.txt",
        "tools/run_suite.py",
        "libs/resilience/__pycache__/cache.cpython-311.pyc",
        "README.md",
    ):
        assert _ignored(patterns, kept_out), kept_out


def test_dockerignore_matcher_is_not_vacuous() -> None:
    assert _ignored(["*", "!libs/"], "gen/python/x.py")
    assert not _ignored(["*", "!libs/"], "libs/a/b.py")
    assert _ignored(["*", "!libs/", "**/__pycache__"], "libs/a/__pycache__/b.pyc")


def test_no_service_needs_the_repository_root_on_its_path() -> None:
    """The images leave out tools/ and the other services; nothing of ours imports them."""
    offenders = [
        str(path.relative_to(REPO))
        for package in SERVICES
        for path in (REPO / "services" / package / package).rglob("*.py")
        if re.search(r"^\s*(from|import)\s+(tools|tests)\b", path.read_text(), re.M)
    ]
    assert not offenders


def test_each_service_imports_with_only_its_image_path() -> None:
    """`python -S` skips the dev venv's .pth (which lists every source root); the path is
    the image's PYTHONPATH plus the installed dependencies."""
    site_packages = sysconfig.get_paths()["purelib"]
    processes = {}
    for package in SERVICES:
        roots = [str(REPO / "gen/python"), str(REPO / "libs"), str(REPO / "services" / package)]
        code = (
            f"import sys; sys.path[1:1] = {roots!r}; sys.path.append({site_packages!r}); "
            f"import {package}.main, {package}.bootstrap; "
            "leaked = sorted({n.split('.')[0] for n in sys.modules} & "
            "{'market_gateway', 'signal_engine', 'tracker', 'tools'} - "
            f"{{{package!r}}}); print(leaked)"
        )
        processes[package] = subprocess.Popen(
            [sys.executable, "-S", "-c", code],
            cwd="/",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    for package, process in processes.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"{package}: {err[-2000:]}"
        assert out.strip() == "[]", f"{package} pulled in {out.strip()}"

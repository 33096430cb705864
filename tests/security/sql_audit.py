"""A static proof that SQL text in the adapters is built only from constants and placeholders.

For every execute/fetch/copy call in the scanned packages, the SQL argument must be "trusted":
a string constant; a module constant (also imported from a sibling module); an f-string,
`%`, `+`, `.format` or `.join` of trusted parts; a placeholder from `Params.add` (checked
behaviourally by the test: it returns only `$n` or `?`); an int (`len(...)`, `range(...)`); a
local whose every assignment/append is trusted; a loop variable over trusted items; a
parameter whose every call site passes trusted text; or the value returned by a package
function whose every return is trusted. Anything else (a request field, an attribute, a
subscript...) makes the call a finding.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

SQL_METHODS = {
    "execute", "executemany", "executescript", "fetch", "fetchrow", "fetchval",
    "copy_records_to_table", "copy_to_table", "copy_from_query", "copy_from_table",
}  # fmt: skip
PLACEHOLDER_METHODS = {"add"}  # Params.add: the bound value goes to the driver, "$n"/"?" here
INT_FUNCTIONS = {"len", "range", "int"}
# Statements read from the package's own migration files (static, reviewed like code).
MIGRATION_LOADER = "load_migrations"  # `m.sql` of its items is a package file; see the test
STATIC_SQL_SPLITTERS = {"split_statements"}  # splits one migration file into its statements


class ElementOf(ast.expr):
    """Position `index` of every item of `iterable` (a `for a, b in items` target)."""

    def __init__(self, iterable: ast.expr, index: int) -> None:
        super().__init__()
        self.iterable = iterable
        self.index = index


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    constants: dict[str, ast.expr] = field(default_factory=dict)
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    where: str
    function: str
    call: str


class SqlAudit:
    def __init__(self, roots: dict[str, Path]) -> None:
        """`roots`: import name of a package (e.g. "tracker") -> its directory."""
        self.modules: dict[str, Module] = {}
        for root in roots.values():
            for path in sorted(root.rglob("*.py")):
                parts = path.relative_to(root.parent).with_suffix("").parts
                name = ".".join(p for p in parts if p != "__init__")
                self.modules[name] = self._index(name, path)
        self._checking: set[int] = set()

    def _index(self, name: str, path: Path) -> Module:
        tree = ast.parse(path.read_text(), filename=str(path))
        module = Module(name, path, tree)
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    module.constants[target.id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.value is not None:
                    module.constants[node.target.id] = node.value
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = (node.module, alias.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                module.functions.setdefault(node.name, node)
        return module

    def findings(self, scanned: tuple[str, ...]) -> tuple[list[Finding], int]:
        """Untrusted SQL arguments in modules whose name starts with one of `scanned`,
        and how many SQL calls were checked."""
        found: list[Finding] = []
        checked = 0
        for module in self.modules.values():
            if not module.name.startswith(scanned):
                continue
            for func in module.functions.values():
                for node in ast.walk(func):
                    if not (isinstance(node, ast.Call) and _sql_call(node)):
                        continue
                    checked += 1
                    sql = node.args[0] if node.args else None
                    if sql is None or not self.trusted(sql, module, func):
                        where = f"{module.path.name}:{node.lineno}"
                        found.append(Finding(where, func.name, ast.unparse(node)[:120]))
        return found, checked

    def trusted(self, e: ast.expr, module: Module, func: ast.AST | None) -> bool:
        key = id(e)
        if key in self._checking:
            return True  # a cycle adds nothing new; the other paths decide
        self._checking.add(key)
        try:
            return self._trusted(e, module, func)
        finally:
            self._checking.discard(key)

    def _trusted(self, e: ast.expr, module: Module, func: ast.AST | None) -> bool:
        t = lambda x: self.trusted(x, module, func)  # noqa: E731
        match e:
            case ast.Constant(value=str() | int() | float() | bool() | None):
                return True
            case ast.JoinedStr(values=values):
                return all(t(v.value) if isinstance(v, ast.FormattedValue) else True
                           for v in values)  # fmt: skip
            case ast.BinOp(op=ast.Mult(), left=ast.Constant(value=str()), right=right):
                return _is_int_like(right)
            case ast.BinOp(op=ast.Add() | ast.Mod(), left=left, right=right):
                return t(left) and t(right)
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                return all(t(x) for x in elts)
            case ast.IfExp(body=body, orelse=orelse):
                return t(body) and t(orelse)
            case ast.GeneratorExp(elt=elt) | ast.ListComp(elt=elt):
                return t(elt)
            case ast.Call(func=ast.Attribute(attr="format", value=base), args=args, keywords=kw):
                return t(base) and all(t(a) for a in args) and all(t(k.value) for k in kw)
            case ast.Call(func=ast.Attribute(attr="join", value=base), args=[arg]):
                return t(base) and t(arg)
            case ast.Call(func=ast.Attribute(attr=attr)) if attr in PLACEHOLDER_METHODS:
                return True
            case ast.Call(func=ast.Name(id=name)) if name in INT_FUNCTIONS:
                return True
            case ast.Call(func=ast.Name(id=name), args=[arg]) if name in STATIC_SQL_SPLITTERS:
                return t(arg)
            case ElementOf():
                return self._elements_trusted(e, module, func)
            case ast.Call(func=ast.Name(id=name)):
                return self._returns_trusted(name, module)
            case ast.Attribute(attr="sql", value=ast.Name(id=name)) if func is not None:
                return _from_migrations(ast.Name(name), func, 0)
            case ast.Name(id=name):
                return self._name_trusted(name, e, module, func)
        return False

    def _elements_trusted(self, e: ElementOf, module: Module, func: ast.AST | None) -> bool:
        sources: list[tuple[ast.expr, Module, ast.AST | None]] = [(e.iterable, module, func)]
        if isinstance(e.iterable, ast.Name) and func is not None:
            local = _local_sources(func, e.iterable.id) or []
            sources = [(v, module, func) for v in local]
        checked = 0
        for value, owner, scope in sources:
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                target = self._resolve_function(value.func.id, owner)
                if target is None:
                    return False
                owner, fn = target
                returns = [n.value for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value]
                for r in returns:
                    if not self._items_trusted(r, e.index, owner, fn):
                        return False
                    checked += 1
            elif not self._items_trusted(value, e.index, owner, scope):
                return False
            else:
                checked += 1
        return checked > 0

    def _items_trusted(
        self, items: ast.expr, index: int, module: Module, func: ast.AST | None
    ) -> bool:
        if not isinstance(items, ast.Tuple | ast.List):
            return False
        for item in items.elts:
            if not (isinstance(item, ast.Tuple) and len(item.elts) > index):
                return False
            if not self.trusted(item.elts[index], module, func):
                return False
        return True

    def _returns_trusted(self, name: str, module: Module) -> bool:
        target = self._resolve_function(name, module)
        if target is None:
            return False
        owner, fn = target
        returns = [n.value for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value]
        first = [r.elts[0] if isinstance(r, ast.Tuple) else r for r in returns]
        return bool(first) and all(self.trusted(r, owner, fn) for r in first)

    def _resolve_function(
        self, name: str, module: Module
    ) -> tuple[Module, ast.FunctionDef | ast.AsyncFunctionDef] | None:
        if name in module.functions:
            return module, module.functions[name]
        if name in module.imports:
            source, original = module.imports[name]
            other = self.modules.get(source)
            if other is not None and original in other.functions:
                return other, other.functions[original]
        return None

    def _name_trusted(self, name: str, at: ast.expr, module: Module, func: ast.AST | None) -> bool:
        if func is not None:
            local = _local_sources(func, name)
            if local is not None:
                return bool(local) and all(self.trusted(v, module, func) for v in local)
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                position = _parameter_position(func, name)
                if position is not None:
                    return self._call_sites_trusted(func.name, position, name)
        if name in module.constants:
            return self.trusted(module.constants[name], module, None)
        if name in module.imports:
            source, original = module.imports[name]
            other = self.modules.get(source)
            if other is not None and original in other.constants:
                return self.trusted(other.constants[original], other, None)
        return False

    def _call_sites_trusted(self, function: str, position: int, keyword: str) -> bool:
        sites = 0
        for module in self.modules.values():
            for caller in module.functions.values():
                for node in ast.walk(caller):
                    if isinstance(node, ast.Call) and _called_name(node) == function:
                        sites += 1
                        arg = _argument(node, position, keyword)
                        if arg is None or not self.trusted(arg, module, caller):
                            return False
        return sites > 0


def _sql_call(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and node.func.attr in SQL_METHODS


def _is_int_like(e: ast.expr) -> bool:
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in INT_FUNCTIONS


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    return node.func.attr if isinstance(node.func, ast.Attribute) else None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    offset = position - 1 if isinstance(call.func, ast.Attribute) else position
    return call.args[offset] if 0 <= offset < len(call.args) else None


def _parameter_position(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> int | None:
    names = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    return names.index(name) if name in names else None


def _local_sources(func: ast.AST, name: str) -> list[ast.expr] | None:
    """Every value bound to local `name` in `func` (None: not a local of it)."""
    sources: list[ast.expr] = []
    bound = False
    for node in ast.walk(func):
        match node:
            case ast.Assign(targets=targets, value=value):
                for target in targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        bound = True
                        sources.append(value)
                    elif isinstance(target, ast.Tuple) and _in_tuple(target, name):
                        bound = True
                        sources.append(value)  # tuple results: the call's first element
            case ast.AnnAssign(target=ast.Name(id=n), value=value) if n == name:
                bound = True
                if value is not None:
                    sources.append(value)
            case ast.For(target=target, iter=it) | ast.comprehension(target=target, iter=it):
                if isinstance(target, ast.Name) and target.id == name:
                    bound = True
                    sources.append(it if not _is_int_like(it) else ast.Constant(0))
                elif isinstance(target, ast.Tuple) and _in_tuple(target, name):
                    bound = True
                    index = [getattr(x, "id", None) for x in target.elts].index(name)
                    sources.append(ElementOf(it, index))
            case ast.Call(func=ast.Attribute(attr="append", value=ast.Name(id=n)), args=[arg]):
                if n == name:
                    sources.append(arg)
    return sources if bound else None


def _in_tuple(target: ast.Tuple, name: str) -> bool:
    return any(isinstance(x, ast.Name) and x.id == name for x in target.elts)


def _from_migrations(e: ast.expr, func: ast.AST, depth: int) -> bool:
    """Is `e` an item (or list of items) of `load_migrations(...)` in `func`?"""
    if depth > 5:
        return False
    match e:
        case ast.Call(func=ast.Name(id=name)):
            return name == MIGRATION_LOADER
        case ast.ListComp(elt=ast.Name(id=elt), generators=[gen]):
            same = isinstance(gen.target, ast.Name) and gen.target.id == elt
            return same and _from_migrations(gen.iter, func, depth + 1)
        case ast.Name(id=name):
            sources = _local_sources(func, name)
            return bool(sources) and all(_from_migrations(v, func, depth + 1) for v in sources)
    return False

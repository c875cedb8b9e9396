"""What "the code of a step" is, for its cache key.

A step's code is its own source plus, transitively, the source of the project's
functions and classes it refers to, and the values of simple module constants it
reads. Third-party and standard-library code is represented by its package
version instead of its source (hashing all of pandas would be slow and pointless:
the version names it). The engine itself counts as a library too.

Module names are left out: the same code imported under another module name (or
moved to another file) keeps its cache. Fingerprints are kept per function object
for the life of the process, so a cached step costs a dictionary lookup, not a
walk of the code.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import inspect
import sys
import sysconfig
import types
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.pipelines.materializers import canonical_json, is_json_value

#: Modules of the engine: represented by sluice's version, never walked.
ENGINE_PREFIXES = (
    "sluice.pipelines",
    "sluice.store",
    "sluice.artifacts",
    "sluice.workspace",
    "sluice.errors",
    "sluice.config",
)
_SIMPLE = (int, float, str, bool, bytes, type(None))


@dataclass(frozen=True)
class Fingerprint:
    """The code a function depends on: a digest of project sources and library versions."""

    digest: str
    libraries: tuple[tuple[str, str], ...]


_cache: weakref.WeakKeyDictionary[Any, Fingerprint] = weakref.WeakKeyDictionary()


def fingerprint(fn: Any) -> Fingerprint:
    """The fingerprint of ``fn`` (a function or a class), computed once per process."""
    try:
        return _cache[fn]
    except KeyError:
        pass
    walker = _Walker()
    walker.visit(fn)
    result = walker.result()
    _cache[fn] = result
    return result


class _Walker:
    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.parts: list[str] = []
        self.libraries: dict[str, str] = {}

    def result(self) -> Fingerprint:
        digest = hashlib.sha256("\n".join(sorted(self.parts)).encode()).hexdigest()
        return Fingerprint(digest, tuple(sorted(self.libraries.items())))

    def visit(self, obj: Any) -> None:
        obj = inspect.unwrap(getattr(obj, "fn", obj)) if _is_step(obj) else obj
        if id(obj) in self.seen:
            return
        self.seen.add(id(obj))
        module = getattr(obj, "__module__", None)
        library = library_of(module) if isinstance(module, str) else None  # exec'd code
        if library is not None:
            self.libraries[library] = library_version(library)
            return
        if isinstance(obj, types.FunctionType):
            self._function(obj)
        elif isinstance(obj, type):
            self._class(obj)

    def _function(self, fn: types.FunctionType) -> None:
        self.parts.append(f"{fn.__qualname__}={_source_hash(fn)}")
        names = _referenced_names(fn.__code__)
        for name in sorted(names):
            if name in fn.__globals__:
                self._value(name, fn.__globals__[name], names)
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
            try:
                self._value(f"{fn.__qualname__}<{name}>", cell.cell_contents, names)
            except ValueError:  # an empty cell
                continue

    def _class(self, cls: type) -> None:
        self.parts.append(f"{cls.__qualname__}={_source_hash(cls)}")
        for member in vars(cls).values():
            func = getattr(member, "__func__", member)
            if isinstance(func, types.FunctionType):
                self.visit(func)

    def _value(self, label: str, value: Any, names: set[str]) -> None:
        if isinstance(value, _SIMPLE) or _is_simple_tuple(value):
            self.parts.append(f"{label}={value!r}")
        elif isinstance(value, dict | list) and is_json_value(value):
            self.parts.append(f"{label}={canonical_json(value)}")  # a config table, say
        elif isinstance(value, types.ModuleType):
            self._module(value, names)
        elif callable(value) or isinstance(value, type):
            self.visit(value)
        else:
            library = library_of(type(value).__module__)
            if library is not None:
                self.libraries[library] = library_version(library)

    def _module(self, module: types.ModuleType, names: set[str]) -> None:
        library = library_of(module.__name__)
        if library is not None:
            self.libraries[library] = library_version(library)
            return
        for name in sorted(names):  # attributes the code reads from a project module
            if name in vars(module):
                self._value(name, vars(module)[name], names)


def _is_step(obj: Any) -> bool:
    return hasattr(obj, "fn") and hasattr(obj, "outputs") and hasattr(obj, "version")


def _is_simple_tuple(value: Any) -> bool:
    return isinstance(value, tuple | frozenset) and all(isinstance(v, _SIMPLE) for v in value)


def _referenced_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _referenced_names(const)
    return names


def _source_hash(obj: Any) -> str:
    try:
        text = inspect.getsource(obj)
    except (OSError, TypeError):  # no source file: a REPL or generated code
        code = getattr(obj, "__code__", None)
        if code is None:
            return "unknown"
        text = _code_text(code)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _code_text(code: types.CodeType) -> str:
    """Bytecode, names and constants, with nested code objects spelled out (no addresses)."""
    consts = [_code_text(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return repr((code.co_code, code.co_names, consts))


@functools.lru_cache(maxsize=4096)
def library_of(module: str | None) -> str | None:
    """The distribution of a module ('python': standard library; None: the project's code)."""
    if not module:
        return "python"
    top = module.partition(".")[0]
    if top in sys.stdlib_module_names or top in ("builtins", "__future__"):
        return "python"
    if module.startswith(ENGINE_PREFIXES):
        return "sluice"
    file = _file_of(top)
    if file is None:
        return "python" if top in sys.builtin_module_names else None
    if not _in_site_packages(file):
        return None
    return _distribution(top)


def _file_of(top: str) -> str | None:
    module = sys.modules.get(top)
    if module is not None:
        return getattr(module, "__file__", None)
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def _in_site_packages(file: str) -> bool:
    parts = Path(file).parts
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return any(file.startswith(p) for p in _library_roots())


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths})


@functools.lru_cache(maxsize=512)
def _distribution(top: str) -> str:
    try:
        importlib.metadata.version(top)
        return top
    except importlib.metadata.PackageNotFoundError:
        pass
    names = _packages_distributions().get(top)
    return names[0] if names else top


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


@functools.lru_cache(maxsize=512)
def library_version(name: str) -> str:
    """The installed version of a distribution ('python' gives the interpreter's)."""
    if name == "python":
        return "{}.{}.{}".format(*sys.version_info[:3])
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        module = sys.modules.get(name)
        return str(getattr(module, "__version__", "unknown"))

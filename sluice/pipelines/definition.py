"""``@step`` and ``@pipeline``: plain functions that become a DAG when a pipeline runs.

Definitions are checked when they are written, not halfway through a run: a step's
parameters must be named, its outputs unique identifiers; a call inside a pipeline
is bound against the step's signature at once; a pipeline's parameters are checked
when it is run, with suggestions for misspelt names. Steps and pipelines are
immutable values.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import inspect
import keyword
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, overload

from sluice.errors import PipelineError, did_you_mean
from sluice.pipelines.dag import Graph, Node, Output
from sluice.pipelines.materializers import is_json_value, materializer_for

if TYPE_CHECKING:
    from sluice.pipelines.events import StepEvent
    from sluice.pipelines.executors import Executor
    from sluice.pipelines.results import PipelineRun
    from sluice.workspace import Workspace

_RESERVED = {"on_event", "executor"}
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class _Wrapper:
    """What steps and pipelines share: they stand for the function they wrap.

    They pickle as the ``module:qualname`` of that function, so that another
    process re-imports them rather than receiving a copy.
    """

    fn: Callable[..., Any]
    name: str

    def __post_init__(self) -> None:
        for attr in ("__module__", "__qualname__", "__doc__"):
            object.__setattr__(self, attr, getattr(self.fn, attr, None))

    @property
    def __name__(self) -> str:
        return self.name

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.fn

    @property
    def import_path(self) -> str:
        """``module:qualname``, recorded with each run so that resume can re-import it."""
        return f"{self.fn.__module__}:{self.fn.__qualname__}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (import_object, (self.import_path,))


@dataclass(frozen=True, eq=False)
class Step(_Wrapper):
    """A function whose calls inside a pipeline become nodes of the DAG."""

    fn: Callable[..., Any]
    name: str
    version: str = "1"
    retries: int = 0
    cache: bool = True
    outputs: tuple[str, ...] = ("output",)
    signature: inspect.Signature = field(repr=False, default=inspect.Signature())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tracer = _tracer.get()
        if tracer is None:  # outside a pipeline a step is its plain function
            return self.fn(*args, **kwargs)
        return tracer.call(self, args, kwargs)


@overload
def step(fn: Callable[..., Any], /) -> Step: ...
@overload
def step(
    *,
    version: str | int = "1",
    retries: int = 0,
    cache: bool = True,
    outputs: tuple[str, ...] | list[str] | str = ("output",),
) -> Callable[[Callable[..., Any]], Step]: ...
def step(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    version: str | int = "1",
    retries: int = 0,
    cache: bool = True,
    outputs: tuple[str, ...] | list[str] | str = ("output",),
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Make a function a pipeline step: ``@step`` or ``@step(version="2", retries=1, ...)``."""

    def make(func: Callable[..., Any]) -> Step:
        return _make_step(func, version, retries, cache, outputs)

    return make(fn) if fn is not None else make


def _make_step(
    fn: Callable[..., Any], version: Any, retries: Any, cache: Any, outputs: Any
) -> Step:
    name = getattr(fn, "__name__", repr(fn))
    if isinstance(fn, Step) or not inspect.isfunction(fn) or inspect.iscoroutinefunction(fn):
        raise PipelineError(
            f"Expected @step on a plain (not async) function; got {fn!r}. "
            "Decorate a def function once."
        )
    signature = inspect.signature(fn)
    bad = [p.name for p in signature.parameters.values() if p.kind not in _NAMED]
    if bad:
        raise PipelineError(
            f"Expected step '{name}' to take named parameters only; got {', '.join(bad)} "
            "(positional-only, *args or **kwargs). Name each input: the cache key and the "
            "lineage record them by name."
        )
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise PipelineError(
            f"Expected retries of step '{name}' to be a whole number >= 0; got {retries!r}."
        )
    if not isinstance(version, str | int) or isinstance(version, bool):
        raise PipelineError(f"Expected version of step '{name}' to be a string; got {version!r}.")
    return Step(fn, name, str(version), retries, bool(cache), _outputs(name, outputs), signature)


def _outputs(name: str, outputs: Any) -> tuple[str, ...]:
    names = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    bad = [
        o for o in names if not isinstance(o, str) or not o.isidentifier() or keyword.iskeyword(o)
    ]
    if not names or bad or len(set(names)) != len(names):
        raise PipelineError(
            f"Expected outputs of step '{name}' to be distinct identifiers; got {outputs!r}. "
            "Write e.g. @step(outputs=('train', 'test'))."
        )
    return names


# -- tracing -------------------------------------------------------------------

_tracer: contextvars.ContextVar[_Tracer | None] = contextvars.ContextVar(
    "sluice_tracer", default=None
)


class _Tracer:
    """Collects the step calls a pipeline function makes."""

    def __init__(self, pipeline: str) -> None:
        self.pipeline = pipeline
        self.nodes: list[Node] = []
        self.counts: dict[str, int] = {}

    def call(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        bound = self._bind(step, args, kwargs)
        n = self.counts[step.name] = self.counts.get(step.name, 0) + 1
        name = step.name if n == 1 else f"{step.name}-{n}"
        params: dict[str, Any] = {}
        inputs: dict[str, Output] = {}
        literals: dict[str, Any] = {}
        for arg, value in bound.arguments.items():
            if isinstance(value, Output):
                inputs[arg] = value
            elif _holds_handle(value):
                raise PipelineError(
                    f"Step '{name}' got handles inside a container for argument '{arg}'. "
                    "Expected each handle as an argument of its own; pass them separately."
                )
            elif is_json_value(value):
                params[arg] = value
            else:
                materializer_for(value, f"argument '{arg}' of step '{name}'")
                literals[arg] = value
        self.nodes.append(Node(name, step, params, inputs, literals))
        handles = tuple(Output(name, out) for out in step.outputs)
        return handles[0] if len(handles) == 1 else handles

    def _bind(
        self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> inspect.BoundArguments:
        return _bind(
            step.signature,
            args,
            kwargs,
            who=f"Step '{step.name}'",
            where=f" (in pipeline '{self.pipeline}')",
            wrong=f"was called with wrong arguments in pipeline '{self.pipeline}'",
            call=step.name,
        )


def _bind(
    signature: inspect.Signature,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    who: str,
    where: str,
    wrong: str,
    call: str,
) -> inspect.BoundArguments:
    """Arguments bound to a signature, defaults applied; PipelineError saying what is wrong.

    ``who`` names the step or pipeline, ``where`` is said of a misspelt name, ``wrong``
    of other mistakes, and ``call`` is the name in the call form the message suggests.
    """
    known = signature.parameters
    for key in kwargs:
        if key not in known:
            raise PipelineError(
                f"{who} has no parameter '{key}'{where}; it takes {_describe(signature)}."
                f"{did_you_mean(key, known)}"
            )
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise PipelineError(
            f"{who} {wrong}: {exc}. Expected {_call_form(call, signature)}."
        ) from exc
    bound.apply_defaults()
    return bound


def _holds_handle(value: Any) -> bool:
    if isinstance(value, list | tuple | set):
        return any(isinstance(v, Output) or _holds_handle(v) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, Output) or _holds_handle(v) for v in value.values())
    return False


def _call_form(name: str, signature: inspect.Signature) -> str:
    """``fit(train, alpha=1.0)``: the call a user should write, without annotations."""
    parts = [
        p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
        for p in signature.parameters.values()
    ]
    return f"{name}({', '.join(parts)})"


def _describe(signature: inspect.Signature) -> str:
    names = list(signature.parameters)
    return ", ".join(names) if names else "no parameters"


# -- pipelines -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Pipeline(_Wrapper):
    """A function that calls steps; running it traces the calls into a DAG and executes it."""

    fn: Callable[..., Any]
    name: str
    signature: inspect.Signature = field(repr=False, default=inspect.Signature())

    def with_name(self, name: str) -> Pipeline:
        """The same pipeline, recorded under another name."""
        return replace(self, name=name)

    def bind(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The full parameters of a run (defaults applied); PipelineError for wrong names."""
        bound = _bind(
            self.signature,
            (),
            params,
            who=f"Pipeline '{self.name}'",
            where="",
            wrong="was given wrong parameters",
            call=self.name,
        )
        return dict(bound.arguments)

    def trace(self, **params: Any) -> Graph:
        """The DAG the pipeline builds for these parameters, without running anything."""
        arguments = self.bind(params)
        tracer = _Tracer(self.name)
        token = _tracer.set(tracer)
        try:
            self.fn(**arguments)
        finally:
            _tracer.reset(token)
        if not tracer.nodes:
            raise PipelineError(
                f"Expected pipeline '{self.name}' to call at least one step; it called none. "
                "Call functions decorated with @step inside it."
            )
        return Graph.from_nodes(tracer.nodes)

    def run(
        self,
        ws: Workspace,
        /,
        *,
        on_event: Callable[[StepEvent], Any] | None = None,
        executor: Executor | None = None,
        **params: Any,
    ) -> PipelineRun:
        """Trace, execute and record one run; StepFailed when a step raises."""
        from sluice.pipelines.runner import run_pipeline

        return run_pipeline(ws, self, params, on_event=on_event, executor=executor)


def pipeline(fn: Callable[..., Any]) -> Pipeline:
    """Make a function that calls steps a pipeline."""
    if not inspect.isfunction(fn) or inspect.iscoroutinefunction(fn):
        raise PipelineError(f"Expected @pipeline on a plain (not async) function; got {fn!r}.")
    signature = inspect.signature(fn)
    bad = [p.name for p in signature.parameters.values() if p.kind not in _NAMED]
    reserved = sorted(_RESERVED & set(signature.parameters))
    if bad or reserved:
        raise PipelineError(
            f"Expected pipeline '{fn.__name__}' to take named parameters other than "
            f"{', '.join(sorted(_RESERVED))}; got {', '.join(bad + reserved)}. Rename them."
        )
    return Pipeline(fn, fn.__name__, signature)


def import_object(path: str) -> Any:
    """The object at ``module:qualname``; PipelineError saying how to make it importable.

    The current folder is searched too, as ``python`` does for scripts, so that
    ``sluice runs resume`` finds the project's modules when run from its folder.
    """
    module_name, _, qualname = path.partition(":")
    try:
        with _cwd_on_path():
            obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        if module_name == "__main__":
            raise PipelineError(
                f"Expected to import '{path}'; it was defined in a script run directly, "
                "which another process cannot import. Move the pipeline into a module, or "
                "pass it: resume(ws, run_id, pipeline=my_pipeline)."
            ) from exc
        raise PipelineError(
            f"Expected to import '{path}'; got {type(exc).__name__}: {exc}. Run from the "
            "folder of your project (or add it to PYTHONPATH) so the module can be imported."
        ) from exc
    return obj


@contextlib.contextmanager
def _cwd_on_path() -> Iterator[None]:
    cwd = os.getcwd()
    added = cwd not in sys.path and "" not in sys.path
    if added:
        sys.path.append(cwd)
    try:
        yield
    finally:
        if added:
            sys.path.remove(cwd)

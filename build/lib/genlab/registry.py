"""The stage registry: the only names a spec may use, and :class:`StageConfig`, one use of one.

Loading a spec never executes code from it; it can only name stages registered here:
genlab's built-ins, plus any the user registers in their own process, plus the public
transform classes of albumentations and torchvision named ``"albumentations.HorizontalFlip"``
/ ``"torchvision.RandomResizedCrop"``. Those are resolved on first use by a resolver that
:mod:`genlab.foreign` adds with :func:`add_resolver` (it only looks a name up among the
library's transform classes and never imports a path), so this module imports nothing above it.

There is one registry. Every entry has a ``kind``: ``"stage"`` for the pipeline's own stages,
an op kind (``"geometry"``, ``"colour"``, ...) for augmentation ops, whose factory is the op
itself (:func:`genlab.transforms.get_op`), or a library's name for a resolved transform class.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from .params import Param, validate_params

__all__ = [
    "StageInfo",
    "StageConfig",
    "register",
    "get",
    "names",
    "entries",
    "unregister",
    "add_resolver",
    "builtin",
    "lookup",
]

StageFactory = Callable[..., Generator]


@dataclass(frozen=True)
class StageInfo:
    """A registered stage: its name, factory, declared parameters and one-line help.

    ``kind`` groups stages in the lab ("stage" for the pipeline's own, an op kind such as
    "geometry" or "colour" for augmentation ops). A ``streamed`` stage draws random values
    per sample: its factory takes ``stream=``, the name its draws are seeded from, which
    :class:`~genlab.pipeline.Pipeline` sets from the stage's place in the chain.
    """

    name: str
    factory: StageFactory
    params: dict[str, Param] = field(default_factory=dict)
    help: str = ""
    kind: str = "stage"
    streamed: bool = False

    def validate(self, given: dict[str, Any]) -> dict[str, Any]:
        """Complete and check parameters; ValueError names the stage and the parameter."""
        return validate_params(self.name, self.params, given)

    def defaults(self) -> dict[str, Any]:
        """The declared default of every parameter."""
        return {name: p.default for name, p in self.params.items()}

    def default_params(self) -> dict[str, Any]:
        """The parameters the stage runs with when none are given (for showing what changed)."""
        return self.validate({})


_REGISTRY: dict[str, StageInfo] = {}
_SHADOWED: dict[str, StageInfo] = {}  # built-ins replaced by a user's stage of the same name
_RESOLVERS: list[Callable[[str], StageInfo]] = []


def register(
    name: str,
    factory: StageFactory,
    params: dict[str, Param] | None = None,
    help: str = "",
    *,
    replace: bool = False,
    kind: str = "stage",
    streamed: bool = False,
) -> StageInfo:
    """Register a stage factory under ``name`` with its declared parameters.

    A hand-written two-yield coroutine factory can be registered too, so that specs and
    the lab can name it::

        def invert():
            while True:
                x, y = yield
                yield 255 - x, y

        genlab.register("invert", invert)
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"stage name must be an identifier, got {name!r}")
    if name in _REGISTRY and not replace and _REGISTRY[name].factory is not factory:
        existing = _REGISTRY[name].factory
        same_code = getattr(existing, "__qualname__", None) == getattr(factory, "__qualname__", 0)
        if _is_builtin(existing) and not _is_builtin(factory):
            # A name genlab took after the user's code was written (0.2 added ops such as
            # "invert"): the user's stage wins, so their code and saved specs keep working.
            warnings.warn(
                f"your stage {name!r} replaces genlab's built-in stage of that name in the "
                f"registry (specs naming {name!r} get yours); rename it to use both",
                stacklevel=2,
            )
            _SHADOWED[name] = _REGISTRY[name]
        elif not same_code:  # re-running a notebook cell re-registers the same function
            raise ValueError(f"a stage named {name!r} is already registered; pass replace=True")
    summary = help or next(iter((factory.__doc__ or "").strip().splitlines()), "")
    info = StageInfo(name, factory, dict(params or {}), summary, kind, streamed)
    _REGISTRY[name] = info
    return info


def _is_builtin(factory: Any) -> bool:
    return str(getattr(factory, "__module__", "")).startswith("genlab.")


def lookup(name: str) -> StageInfo | None:
    """The entry registered as ``name``, or None (no error, no library class resolved)."""
    return _REGISTRY.get(name)


def builtin(name: str) -> StageInfo | None:
    """genlab's own entry called ``name``, also when a user's stage of that name shadows it."""
    info = _SHADOWED.get(name) or _REGISTRY.get(name)
    return info if info is not None and _is_builtin(info.factory) else None


def unregister(name: str) -> None:
    """Remove a user-registered stage (mostly for tests); a built-in it replaced comes back."""
    _REGISTRY.pop(name, None)
    if name in _SHADOWED:
        _REGISTRY[name] = _SHADOWED.pop(name)


def add_resolver(resolver: Callable[[str], StageInfo]) -> None:
    """Let ``resolver(name)`` answer for dotted names (``"albumentations.HorizontalFlip"``).

    :func:`get` asks it for a dotted name not registered yet and keeps the entry it returns
    (kind: the library's name); it raises ValueError for a name it refuses. :mod:`genlab.foreign`
    adds one on import.
    """
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)


def get(name: str) -> StageInfo:
    """The registered stage called ``name``; ValueError listing the known names otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        pass
    if isinstance(name, str) and "." in name and _RESOLVERS:  # a library's transform class
        info = _REGISTRY[name] = _RESOLVERS[0](name)
        return info
    raise ValueError(f"unknown stage {name!r}; registered stages: {names()}")


def names() -> list[str]:
    """The names registered by genlab and the user (not the library classes resolved), sorted."""
    return sorted(name for name in _REGISTRY if "." not in name)


def entries(kind: str | None = None) -> dict[str, StageInfo]:
    """The registry's entries (of one ``kind``, if given) by name, resolved library classes too."""
    return {n: info for n, info in _REGISTRY.items() if kind is None or info.kind == kind}


@dataclass
class StageConfig:
    """One stage of a pipeline: its registered name, parameters and on/off switch.

    The parameters are checked against the stage's declarations at once (ValueError names the
    stage and the parameter).
    """

    name: str
    params: dict = field(default_factory=dict)
    enabled: bool = True

    def __post_init__(self) -> None:
        self.params = get(self.name).validate(dict(self.params))

    def build(self, stream: str | None = None) -> Generator:
        """A fresh, unprimed two-yield generator for this stage.

        ``stream`` names the random stream of a stage that draws per sample (an op); a
        :class:`~genlab.pipeline.Pipeline` sets it from the stage's place (see its ``build``).
        """
        info = get(self.name)
        if info.streamed and stream is not None:
            return info.factory(stream=stream, **self.params)
        return info.factory(**self.params)

    def changed_params(self) -> dict:
        """The parameters that differ from the stage's declared defaults."""
        defaults = get(self.name).default_params()
        return {k: v for k, v in self.params.items() if defaults.get(k) != v}

    def __repr__(self) -> str:
        args = [repr(self.name)]
        changed = self.changed_params()
        if changed:
            args.append(repr(changed))
        if not self.enabled:
            args.append("enabled=False")
        return f"StageConfig({', '.join(args)})"

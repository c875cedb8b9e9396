"""Model URIs: ``models:/NAME/3``, ``models:/NAME@champion`` and ``models:/NAME`` (the latest).

Names and aliases are checked here, once, so that everything stored can be written
back as a URI that parses to the same reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sluice.errors import InvalidAlias, InvalidModelName, InvalidModelURI

SCHEME = "models:/"
# fullmatch, not match with "$": "$" also matches before a trailing newline
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,99}")
_VERSION = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() accepts '²' and '١'
_FORMS = (
    "models:/NAME/VERSION (e.g. models:/bike-demand/3), models:/NAME@ALIAS "
    "(e.g. models:/bike-demand@champion) or models:/NAME (the latest version)"
)


@dataclass(frozen=True)
class ModelRef:
    """What a URI points at: a model and at most one of a version number or an alias."""

    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def uri(self) -> str:
        if self.version is not None:
            return f"{SCHEME}{self.name}/{self.version}"
        if self.alias is not None:
            return f"{SCHEME}{self.name}@{self.alias}"
        return f"{SCHEME}{self.name}"

    def __str__(self) -> str:
        return self.uri


def parse_uri(uri: str) -> ModelRef:
    """Parse a ``models:/`` URI; anything else raises InvalidModelURI listing the accepted forms."""
    if not isinstance(uri, str) or not uri.startswith(SCHEME):
        raise InvalidModelURI(f"Expected a models:/ URI; got {uri!r}. Accepted forms: {_FORMS}.")
    return parse_ref(uri.removeprefix(SCHEME), original=uri)


def parse_ref(text: str, *, original: str | None = None) -> ModelRef:
    """Parse ``NAME``, ``NAME/3`` or ``NAME@alias`` (the CLI's short form, no scheme)."""
    shown = original or text
    name, sep, rest = text.partition("@")
    if sep:
        _check_uri_part(name, shown)
        if not _ALIAS.fullmatch(rest):
            raise InvalidModelURI(
                "Expected an alias of lowercase letters, digits, '_' or '-' after '@' "
                f"in {shown!r}; "
                f"got {rest!r}. Accepted forms: {_FORMS}."
            )
        return ModelRef(name, alias=rest)
    name, sep, rest = text.partition("/")
    _check_uri_part(name, shown)
    if not sep:
        return ModelRef(name)
    if not _VERSION.fullmatch(rest) or int(rest) < 1:
        raise InvalidModelURI(
            f"Expected a version number (1, 2, ...) after '/' in {shown!r}; got {rest!r}. "
            f"Accepted forms: {_FORMS}."
        )
    return ModelRef(name, version=int(rest))


def _check_uri_part(name: str, shown: str) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidModelURI(
            f"Expected a model name of letters, digits, '.', '_' or '-' in {shown!r}; "
            f"got {name!r}. "
            f"Accepted forms: {_FORMS}."
        )


def check_model_name(name: str) -> str:
    """A name that fits in a URI, or InvalidModelName."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidModelName(
            f"A model name must start with a letter or digit and hold only letters, digits, "
            f"'.', '_' or '-' (at most 200 characters); got {name!r}. "
            "Choose a name like 'bike-demand'."
        )
    return name


def check_alias(alias: str) -> str:
    """An alias of the form [a-z][a-z0-9_-]*, or InvalidAlias."""
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidAlias(
            f"An alias must start with a lowercase letter and hold only lowercase letters, digits, "
            f"'_' or '-'; got {alias!r}. Use for instance 'champion', 'production' or 'staging'."
        )
    return alias

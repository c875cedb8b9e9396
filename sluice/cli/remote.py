"""Which store a command works on: the local one, or a team server (SLUICE_TRACKING_URI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.client import URI_ENV, Client, connect

if TYPE_CHECKING:
    from sluice.workspace import Workspace

__all__ = ["Client", "client", "current", "local_only"]


def client() -> Client:
    """The team server the environment names, or the local store."""
    return connect()


def current() -> Workspace:
    """The local workspace; refused when SLUICE_TRACKING_URI names a team server, so that a
    command the server does not answer never quietly works on another store."""
    from sluice.workspace import current as local

    local_only()
    return local()


def local_only() -> None:
    """Refuse when SLUICE_TRACKING_URI names a team server (for commands that keep their
    own store, such as ``sluice demo``)."""
    import os

    from sluice.errors import ConfigError

    url = os.environ.get(URI_ENV, "").strip()
    if url:
        raise ConfigError(
            f"This command works on a local store only, and {URI_ENV} names a team "
            f"server ({url}). Unset {URI_ENV} to use a local store (SLUICE_HOME), or run it "
            "where the server's store is."
        )

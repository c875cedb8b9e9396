"""The client API: the same calls on a local store or on a team server.

``sluice.connect()`` picks by the environment: with ``SLUICE_TRACKING_URI`` set it
talks to that team server as the owner of ``SLUICE_TOKEN``; otherwise it works on
the local store (``SLUICE_HOME``). Both return the same plain data, so code and
commands written against one work against the other::

    import sluice

    client = sluice.connect()
    for model in client.models():
        print(model["name"], model["aliases"])
    client.request("bikes", 3, "production", "beats v2 on the last month")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.client.http import TOKEN_ENV, URI_ENV, HttpClient, from_env
from sluice.client.local import LocalClient

if TYPE_CHECKING:
    from sluice.workspace import Workspace

Client = LocalClient | HttpClient

__all__ = ["TOKEN_ENV", "URI_ENV", "Client", "HttpClient", "LocalClient", "connect"]


def connect(
    uri: str | None = None, token: str | None = None, *, workspace: Workspace | None = None
) -> Client:
    """A client for the team server at ``uri`` (default ``$SLUICE_TRACKING_URI``) with
    ``token`` (default ``$SLUICE_TOKEN``), or for the local store when neither names a
    server (``workspace``, default the one ``SLUICE_HOME`` names)."""
    import os

    if uri is not None:
        return HttpClient(uri, token if token is not None else os.environ.get(TOKEN_ENV, ""))
    if workspace is None:
        server = from_env()
        if server is not None:
            return server
        from sluice.workspace import current

        workspace = current()
    return LocalClient(workspace)

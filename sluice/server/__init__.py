"""The team server: a REST API over one store, with users, roles and tokens.

``create_app(workspace)`` builds the FastAPI app; ``sluice server`` runs it on
uvicorn. Every ``/api/v1`` route needs a token (``Authorization: Bearer slc_...``)
and checks the permission matrix of :mod:`sluice.governance.roles`; everything a
request changes is audited with the token's user as the actor.
"""

from sluice.server.app import create_app
from sluice.server.bootstrap import ensure_admin

__all__ = ["create_app", "ensure_admin"]

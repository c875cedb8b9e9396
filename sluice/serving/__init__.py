"""Serving: the prediction app over HTTP, request checks against the signature, batch scoring."""

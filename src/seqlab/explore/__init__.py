"""A local web page to look at word vectors: projections, nearest words, analogies.

``seqlab explore VECTORS`` serves it on 127.0.0.1; :func:`create_app` builds the same app for
any :class:`~seqlab.embeddings.KeyedVectors`.
"""

from seqlab.explore.app import create_app
from seqlab.explore.projection import ProjectionCache

__all__ = ["ProjectionCache", "create_app"]

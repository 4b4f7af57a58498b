"""Adapters that take a pipeline where training happens: PyTorch (:mod:`genlab.integrations.torch`),
Keras (:mod:`genlab.integrations.keras`) and Dask (:mod:`genlab.integrations.dask`).

Each module imports its framework when it is imported; this package imports none of them.
Sharding (``Pipeline.shard``) and saved listings (:mod:`genlab.sources.manifest`) are core.
"""

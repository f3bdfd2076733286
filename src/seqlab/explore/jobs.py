"""Projections computed in the background, once per setting, while the page shows progress.

The web page asks for a projection and gets either the coordinates or "still computing: <stage>";
it asks again until they are ready. One projection is computed at a time (t-SNE and UMAP use
every core they can), each in a thread of its own so the server keeps answering queries.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from seqlab.embeddings import KeyedVectors
from seqlab.explore.projection import Projection, ProjectionCache, compute

log = logging.getLogger("seqlab.explore")


@dataclass
class Job:
    """One projection setting: its state, the stage it is at, and the result as JSON bytes."""

    method: str
    dims: int
    state: str = "queued"  # queued -> computing -> ready | failed
    message: str = "waiting for another projection to finish"
    started: float = field(default_factory=time.monotonic)
    body: bytes | None = None  # the ready projection, serialised once for every page load
    error: str | None = None


class ProjectionJobs:
    """Compute (or read from ``cache``) the projections of ``rows`` of ``kv`` on request."""

    def __init__(
        self, kv: KeyedVectors, rows: np.ndarray, cache: ProjectionCache | None, seed: int = 0
    ):
        self.kv, self.rows, self.cache, self.seed = kv, rows, cache, seed
        self.words = [kv.index_to_key[r] for r in rows.tolist()]
        self._jobs: dict[tuple[str, int], Job] = {}
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Lock()

    def get(self, method: str, dims: int) -> Job:
        """The job of this setting, started now if it was never asked for."""
        with self._lock:
            job = self._jobs.get((method, dims))
            if job is None:
                job = self._jobs[(method, dims)] = Job(method, dims)
                threading.Thread(
                    target=self._run, args=(job,), name=f"projection-{method}{dims}d", daemon=True
                ).start()
            return job

    def wait(self, method: str, dims: int, timeout: float = 600.0) -> Job:
        """Block until the job of this setting is ready or failed (for scripts and tests)."""
        deadline = time.monotonic() + timeout
        job = self.get(method, dims)
        while job.state not in ("ready", "failed"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {dims}-D projection not ready after {timeout:.0f} s")
            time.sleep(0.02)
        return job

    def _run(self, job: Job) -> None:
        with self._one_at_a_time:
            job.state, job.started = "computing", time.monotonic()
            try:
                projection = self._projection(job)
                job.body = self._serialise(projection)
                job.state = "ready"
            except Exception as error:  # shown on the page; the server goes on answering queries
                log.exception("%s %d-D projection failed", job.method, job.dims)
                job.error = f"{job.method} projection failed: {error}"
                job.state = "failed"

    def _projection(self, job: Job) -> Projection:
        if self.cache is not None:
            job.message = "reading the cached projection"
            found = self.cache.get(job.method, job.dims, self.rows, self.seed)
            if found is not None:
                return found

        def progress(message: str) -> None:
            job.message = message

        projection = compute(self.kv, self.rows, job.method, job.dims, self.seed, progress)
        if self.cache is not None:
            job.message = "saving the projection to the cache"
            try:
                self.cache.put(projection, self.seed)
            except OSError as error:  # a read-only cache costs a recomputation next time, no more
                log.warning(
                    "projection not cached (%s): it will be computed again next time", error
                )
        return projection

    def _serialise(self, projection: Projection) -> bytes:
        coords = np.round(projection.coords.astype(np.float64), 5)
        axes = dict(zip("xyz", coords.T.tolist(), strict=False))
        body = {
            "state": "ready",
            "method": projection.method,
            "dims": projection.dims,
            "words": self.words,
            **axes,
            "seconds": round(projection.seconds, 3),
            "cached": projection.cached,
            "explained": projection.explained,
        }
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

"""Scoring candidate sites on a dask cluster (optional: ``pip install "circles[dask]"``).

:func:`score_dask` prepares the same per-circle arrays as
:func:`circles.scoring.score.score`, scatters them to the workers **once**
(broadcast), then scores chunks of candidates as separate tasks and
assembles the table exactly as the serial path does — the numbers are
identical.  Worth it for very many candidates on a large network, or across
machines; on one machine ``score(..., n_threads=N)`` is usually as fast
(the kernels release the GIL) without a cluster's start-up cost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from circles.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from circles.scoring.score import ScoreTable

__all__ = ["score_dask"]


def _import_distributed() -> Any:
    try:
        import dask.distributed as dd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "score_dask needs dask.distributed, which is not installed; install it with "
            "pip install 'circles[dask]' (or pip install 'dask[distributed]'), or use "
            "circles.scoring.score(..., n_threads=N) on one machine"
        ) from exc
    return dd


def _run_chunk(arrays: dict, circle_id: str, categories: np.ndarray, sources: np.ndarray,
               offsets_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Worker side: score one chunk with the scattered per-circle arrays."""
    from circles.scoring.score import score_task

    return score_task(arrays[circle_id], categories, sources, offsets_s)


def score_dask(
    result: Any,
    candidates: Any,
    *,
    client: Any = None,
    n_chunks: int | None = None,
    circles: Sequence[str] | str | None = None,
    horizon_min: float | None = None,
    max_snap_m: float | None = None,
    n_workers: int = 2,
    processes: bool = False,
    progress: bool = False,
) -> ScoreTable:
    """Like :func:`circles.scoring.score.score`, with candidate chunks scored by dask workers.

    Parameters
    ----------
    result, candidates, circles, horizon_min, max_snap_m
        As for :func:`circles.scoring.score.score`.
    client : dask.distributed.Client, optional
        An existing client.  Without one a ``LocalCluster`` with ``n_workers``
        single-threaded workers is started for this call and closed after it.
    n_chunks : int, optional
        Roughly how many tasks to split the candidates into (default: 4 per
        worker).  Each circle's candidates are split separately.
    n_workers, processes : int, bool
        For the temporary ``LocalCluster`` only; ``processes=False`` runs the
        workers as threads of this process (quick to start; the kernels
        release the GIL), ``True`` as separate processes.
    progress : bool
        Show a progress bar as chunks finish.

    Returns
    -------
    ScoreTable
        Identical to ``score(result, candidates, ...)``;
        ``info["timings"]`` adds ``cluster_start_s`` and ``scatter_s``.
    """
    from tqdm.auto import tqdm

    from circles.scoring.candidates import check_candidates
    from circles.scoring.prepared import prepare_circles
    from circles.scoring.score import assemble_scores

    dd = _import_distributed()
    if n_chunks is not None and not (isinstance(n_chunks, (int, np.integer)) and n_chunks >= 1):
        raise InputError(f"n_chunks must be a whole number >= 1, got {n_chunks!r}")
    t0 = time.perf_counter()
    own = client is None
    cluster = None
    if own:
        # process workers talk over loopback only (no outside address needed, works offline);
        # thread workers use in-process communication
        where = {"host": "127.0.0.1"} if processes else {}
        cluster = dd.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                                  dashboard_address=None, **where)
        client = dd.Client(cluster)
    t_start = time.perf_counter() - t0
    try:
        n_workers_now = max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
        wanted = n_chunks or 4 * n_workers_now
        n_cand = len(check_candidates(candidates))
        chunk = max(1, int(np.ceil(max(n_cand, 1) / wanted)))
        t1 = time.perf_counter()
        prep = prepare_circles(result, candidates, circles=circles, horizon_min=horizon_min,
                               max_snap_m=max_snap_m, chunk_size=chunk)
        t_prep = time.perf_counter() - t1
        t2 = time.perf_counter()
        arrays = client.scatter(prep.arrays, broadcast=True)
        t_scatter = time.perf_counter() - t2
        t3 = time.perf_counter()
        futures = [client.submit(_run_chunk, arrays, task.circle_id, task.categories, task.sources,
                                 task.offsets_s, pure=False)
                   for task in prep.tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        outputs: list = [None] * len(futures)
        bar = tqdm(total=len(futures), desc="scoring chunks (dask)", disable=not progress, leave=False)
        for fut in dd.as_completed(futures):
            outputs[index[fut.key]] = fut.result()
            bar.update(1)
        bar.close()
        timings = {"cluster_start_s": t_start, "prepare_s": t_prep, "scatter_s": t_scatter,
                   "score_s": time.perf_counter() - t3}
        table = assemble_scores(prep, outputs, timings=timings)
        timings["total_s"] = time.perf_counter() - t0
        return table
    finally:
        if own:
            client.close()
        if cluster is not None:
            cluster.close()

"""Vectorised risk-set sums for the Cox partial likelihood (Efron or Breslow ties).

statsmodels ``PHReg`` fits the coefficients, but several of its by-products are wrong
or missing (robust SEs with entry times, baseline hazard lagged by one event time, no
``cox.zph`` test). Everything here follows R ``survival`` 3.x definitions exactly and
is computed per distinct event time (one sparse product and cumulative sums for first
moments, one weighted cross product for the information), so it also scales to
millions of rows; :func:`newton` fits large models without PHReg.

Risk sets follow R's counting-process convention: a row with ``(entry, stop]`` is at
risk at event time ``t`` when ``entry < t <= stop`` and it is in the same stratum.

Case weights ``w`` follow R ``agfit4.c`` / ``coxfit6.c``: risk-set and death-set sums
are of ``w exp(x beta)``, a death adds ``w x`` to the score and ``w x beta`` to the log
likelihood, and each of the ``d`` Efron slots of a tied event time counts with the
mean weight of its ``d`` deaths (Breslow: their total weight).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.linalg import blas

from analysis.errors import ModelNotConvergedError

#: Rows per block of the row-by-row loops (score residuals): temporaries stay in cache.
BLOCK_ROWS = 4096
#: Rows per block of ``x @ m`` (measured on 1.7M x 35: fastest at 32k rows).
DOT_BLOCK_ROWS = 32768
#: Rows per block of the weighted Gram matrix ``x.T @ diag(w) @ x`` (:func:`cross`).
#: Each block is one BLAS call, and on a busy machine (2 cores shared with other work)
#: every call pays for waking OpenBLAS's threads: 4k-row blocks took 2-4 s on 1.7M x 18,
#: 65k-row rank-k updates (``syrk``, half the multiplications of a general product)
#: 0.2-0.5 s, as fast as on an idle machine.
GRAM_BLOCK_ROWS = 65536
#: Largest ``(clusters, p)`` array of per-cluster residual sums the robust variance
#: holds (:func:`clustered_residual_gram`); larger meats are summed in blocks of clusters.
CLUSTER_SUMS_BYTES = 256 * 2**20


def rows_dot(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x @ m`` for a tall ``x``, block by block (``m`` a vector: no BLAS call)."""
    if m.ndim == 1:
        # numpy's own loop: a BLAS matrix-vector product wakes OpenBLAS's threads, which
        # on a busy machine made it 5-30 times slower (0.03-0.2 s on 1M x 18, not 7 ms)
        return np.einsum("ij,j->i", x, m, optimize=False)
    out = np.empty((x.shape[0], *m.shape[1:]))
    step = DOT_BLOCK_ROWS
    for a in range(0, x.shape[0], step):
        out[a:a + step] = x[a:a + step] @ m
    return out


def cross(a: np.ndarray, b: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``a.T @ diag(weights) @ b`` for tall ``a`` and ``b``, block by block.

    With ``b is a`` (every use in the Cox code) the symmetric result is built by
    :func:`gram`, a rank-k update per block of :data:`GRAM_BLOCK_ROWS` rows.
    """
    if b is a:
        return gram(a, weights)
    step = BLOCK_ROWS
    out = np.zeros((a.shape[1], b.shape[1]))
    for i in range(0, a.shape[0], step):
        block = a[i:i + step]
        if weights is not None:
            block = block * weights[i:i + step, None]
        out += block.T @ b[i:i + step]
    return out


def gram(x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``x.T @ diag(weights) @ x`` (symmetric) for a tall ``x``, block by block.

    Each block adds ``(x sqrt(w)).T (x sqrt(w))`` with BLAS ``syrk``, which computes one
    triangle only; rows of negative weight (a weighted information can have them) are
    subtracted the same way with ``sqrt(-w)``.
    """
    p = x.shape[1]
    upper = np.zeros((p, p), order="F")
    if p == 0:
        return upper
    if weights is None:
        parts = [(1.0, None)]
    else:
        parts = [(1.0, np.sqrt(np.maximum(weights, 0.0)))]
        if np.any(weights < 0):
            parts.append((-1.0, np.sqrt(np.maximum(-weights, 0.0))))
    step = GRAM_BLOCK_ROWS
    for sign, root in parts:
        for i in range(0, x.shape[0], step):
            block = x[i:i + step]
            if root is not None:
                block = block * root[i:i + step, None]
            # block.T is a Fortran-ordered (p, rows) view: syrk reads it without a copy
            upper = blas.dsyrk(sign, block.T, beta=1.0, c=upper, trans=0, lower=0,
                               overwrite_c=1)
    return np.triu(upper) + np.triu(upper, 1).T


@dataclass(frozen=True)
class RiskSetData:
    """Rows of one Cox problem indexed against the distinct event times.

    Event times are numbered globally across strata (stratum blocks are contiguous),
    so a row is at risk at the time indices ``lo <= j < hi``.

    Per-time sums over risk sets are taken with one sparse product: ``changes`` has a
    column per row with ``+1`` at the time index the row enters (``lo``), ``-1`` where it
    leaves (``hi``) and, for a dying row, ``+1`` at ``T + 1 + `` its event-time index.
    With the rows' risk scores as its values, ``changes @ x`` gives the entering-minus-
    leaving sums (a cumulative sum over time then gives the risk sets) and the death-set
    sums at once: one pass over the rows, no sorting and no copies of ``x``.
    """

    x: np.ndarray  # (n, p) centred design
    lo: np.ndarray  # (n,) first event-time index the row is at risk at
    hi: np.ndarray  # (n,) one past the last event-time index
    event: np.ndarray  # (n,) bool
    row_time: np.ndarray  # (n,) event-time index of the row's stop (valid when event)
    times: np.ndarray  # (T,) distinct event times
    time_stratum: np.ndarray  # (T,) stratum code of each event time
    deaths: np.ndarray  # (T,) number of events at each time
    pair_time: np.ndarray  # (E,) event-time index of each tied-death "slot"
    pair_frac: np.ndarray  # (E,) Efron fraction k/d (0 for Breslow)
    kept: np.ndarray  # (n_input,) bool: input rows kept (at risk at some event time)
    changes: sparse.csc_array  # (2T + 1, n) see the class notes; values set per call
    change_row: np.ndarray  # (nnz,) row of x behind each stored value
    change_sign: np.ndarray  # (nnz,) +1 / -1
    d1: np.ndarray  # (T, p) death-set sums of w x (does not depend on beta)
    #: (n,) case weights of the kept rows; None: every weight is 1
    weights: np.ndarray | None = None
    #: (T,) mean case weight of the deaths at each event time (1 without weights)
    mean_death_weight: np.ndarray | None = None

    @property
    def n_times(self) -> int:
        return len(self.times)

    def per_time(self, r: np.ndarray) -> tuple[np.ndarray, ...]:
        """Risk-set and death-set sums of ``r`` and ``r x`` per event time.

        Returns ``(s0, s1, dr, d1r)`` with shapes ``(T,), (T, p), (T,), (T, p)``.
        """
        T = self.n_times
        values = r[self.change_row]
        values *= self.change_sign  # in place: one value per stored entry, not two
        matrix = sparse.csc_array((values, self.changes.indices, self.changes.indptr),
                                  shape=self.changes.shape)
        sums1 = matrix @ self.x
        # the stored values summed per time, in the order a bincount over them adds them
        # (column by column), without the bincount's 64-bit copy of every position
        sums0 = matrix @ np.ones(matrix.shape[1])
        s0 = np.cumsum(sums0[:T])
        s1 = np.cumsum(sums1[:T], axis=0)
        return s0, s1, sums0[T + 1:], sums1[T + 1:]


def _changes(lo, hi, event, row_time, n_times):
    """Structure of :attr:`RiskSetData.changes`, the row behind each value and its sign.

    Positions are 32-bit integers and signs bytes whenever they fit (a national Cox
    model has tens of millions of stored values: 64-bit positions and float signs held
    about a gigabyte more at ten million rows). The structure's own values are the
    signs; :meth:`RiskSetData.per_time` puts each call's values in a matrix of its own.
    """
    n = len(lo)
    counts = 2 + event.astype(np.int8)
    nnz = 2 * n + int(event.sum())
    index = np.int32 if max(nnz, 2 * n_times + 1, n) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n + 1, dtype=index)
    np.cumsum(counts, out=indptr[1:])
    first = indptr[:-1]
    indices = np.empty(nnz, dtype=index)
    sign = np.ones(nnz, dtype=np.int8)
    indices[first] = lo
    indices[first + 1] = hi
    sign[first + 1] = -1
    dying = np.flatnonzero(event)
    indices[first[dying] + 2] = n_times + 1 + row_time[dying]
    rows = np.repeat(np.arange(n, dtype=index), counts)
    matrix = sparse.csc_array((sign, indices, indptr), shape=(2 * n_times + 1, n))
    return matrix, rows, sign


def build(x, stop, event, entry=None, strata=None, ties="efron",
          weights=None, overwrite_x=False) -> RiskSetData:
    """Index rows against the distinct event times of their stratum.

    Rows at risk at no event time are dropped (they carry no information, and PHReg's
    robust SEs are wrong with them); ``kept`` marks the input rows that remain.
    ``weights`` (positive, finite: checked by the caller) are case weights.
    ``overwrite_x``: ``x`` (a C-ordered float array) may be reused, its kept rows moved
    up in place, instead of copied.
    """
    n = len(stop)
    stop = np.asarray(stop, dtype=float)
    event = np.asarray(event).astype(bool)
    # event-time positions: 32-bit while the rows (an upper bound of the times) fit
    position = np.int32 if n < np.iinfo(np.int32).max // 2 else np.int64
    lo: np.ndarray = np.zeros(n, dtype=position)
    hi: np.ndarray = np.zeros(n, dtype=position)
    row_time = np.full(n, -1, dtype=position)
    all_times, all_strata = [], []
    offset = 0
    levels = np.zeros(1, dtype=np.int64) if strata is None else np.unique(strata)
    # one stratum: every row as a view, without a stratum code per row or a search for
    # its rows (each a copy of ten million positions on a national model)
    groups: list[tuple[object, slice | np.ndarray]] = (
        [(level, slice(None)) for level in levels] if len(levels) == 1 else
        [(level, np.flatnonzero(np.asarray(strata) == level)) for level in levels])
    for s, rows in groups:
        uft = np.unique(stop[rows][event[rows]])
        # stop >= t  <=>  t index < searchsorted(uft, stop, 'right')
        hi[rows] = offset + np.searchsorted(uft, stop[rows], side="right")
        if entry is None:
            lo[rows] = offset
        else:
            # entry < t  <=>  t index >= searchsorted(uft, entry, 'right')
            lo[rows] = offset + np.searchsorted(uft, np.asarray(entry, float)[rows], "right")
        ev = np.flatnonzero(event) if isinstance(rows, slice) else rows[event[rows]]
        row_time[ev] = offset + np.searchsorted(uft, stop[ev], side="left")
        all_times.append(uft)
        all_strata.append(np.full(len(uft), s))
        offset += len(uft)
    times = np.concatenate(all_times) if all_times else np.zeros(0)
    T = len(times)
    deaths = np.bincount(row_time[event], minlength=T)
    pair_time = np.repeat(np.arange(T), deaths)
    first = np.cumsum(deaths) - deaths
    k = np.arange(len(pair_time)) - np.repeat(first, deaths)
    if ties == "efron":
        pair_frac = k / np.repeat(deaths, deaths)
    else:
        pair_frac = np.zeros(len(pair_time))
    kept = lo < hi  # rows at risk at no event time carry no information
    x = np.asarray(x, dtype=float)
    w = None if weights is None else np.asarray(weights, dtype=float)
    if not kept.all():
        reuse = overwrite_x and x.flags.c_contiguous and x.flags.writeable
        x = _compact_rows(x, kept) if reuse else x[kept]
        lo, hi, event, row_time = lo[kept], hi[kept], event[kept], row_time[kept]
        w = None if w is None else w[kept]
    x = np.ascontiguousarray(x)
    changes, change_row, change_sign = _changes(lo, hi, event, row_time, T)
    mean_death_weight = np.ones(T)
    if w is not None:
        death_weight = np.bincount(row_time[event], weights=w[event], minlength=T)
        mean_death_weight = death_weight / np.maximum(deaths, 1)
    rs = RiskSetData(
        x=x, lo=lo, hi=hi, event=event, row_time=row_time, times=times,
        time_stratum=np.concatenate(all_strata) if all_strata else np.zeros(0),
        deaths=deaths, pair_time=pair_time, pair_frac=pair_frac, kept=kept,
        changes=changes, change_row=change_row, change_sign=change_sign,
        d1=np.zeros((T, x.shape[1])), weights=w, mean_death_weight=mean_death_weight,
    )
    # death-set sums of w x: the death part of one product with the case weights
    d1 = rs.per_time(np.ones(len(x)) if w is None else w)[3]
    return dataclasses.replace(rs, d1=d1)


def _compact_rows(x: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """``x[kept]`` written over the first rows of ``x`` itself (a view of them).

    Kept row ``j`` comes from row ``source[j] >= j``: filling blocks in order reads
    only rows not yet written over.
    """
    source = np.flatnonzero(kept)
    for start in range(0, len(source), GRAM_BLOCK_ROWS):
        rows = source[start:start + GRAM_BLOCK_ROWS]
        x[start:start + len(rows)] = x[rows]
    return x[:len(source)]


@dataclass(frozen=True)
class RiskSums:
    """Risk-set quantities at one coefficient vector, per distinct event time.

    With Efron ties the ``k``-th of ``d`` tied deaths sees the risk set with the dying
    rows down-weighted by ``f = k/d``: ``denom_k = s0 - f dr`` and
    ``xbar_k = (s1 - f d1r) / denom_k``. Everything needed downstream is a sum over
    ``k`` of ``f^m / denom_k^q``, so the per-death-slot arrays never materialise.
    With case weights every slot's term also carries the mean weight of its time's
    deaths (R ``agfit4.c``), so ``a`` ... ``cc`` include it.
    """

    rs: RiskSetData
    risk: np.ndarray  # (n,) exp(x beta)
    weighted_risk: np.ndarray  # (n,) w exp(x beta) (``risk`` without case weights)
    loglik: float
    score: np.ndarray  # (p,)
    s1: np.ndarray  # (T, p) risk-set sums of r x
    d1r: np.ndarray  # (T, p) death-set sums of r x
    d1: np.ndarray  # (T, p) death-set sums of x (unweighted)
    a: np.ndarray  # (T,) sum_k 1/denom_k  (the baseline hazard increment)
    b: np.ndarray  # (T,) sum_k f/denom_k
    aa: np.ndarray  # (T,) sum_k 1/denom_k^2
    bb: np.ndarray  # (T,) sum_k f/denom_k^2
    cc: np.ndarray  # (T,) sum_k f^2/denom_k^2

    @functools.cached_property
    def info(self) -> np.ndarray:
        """``(p, p)`` observed information (computed on first use: one pass over rows)."""
        return self.info_weighted(np.ones(self.rs.n_times))

    def xbar_sum(self, w: np.ndarray | None = None) -> np.ndarray:
        """``sum_t w_t sum_k xbar_k``  (p,) or, with ``w=None``, per time (T, p)."""
        per_time = self.s1 * self.a[:, None] - self.d1r * self.b[:, None]
        return per_time if w is None else w @ per_time

    def xbar_over_denom(self, own: bool = False) -> np.ndarray:
        """Per time ``sum_k (1 - f)^own xbar_k / denom_k``  (T, p)."""
        if own:
            return (self.s1 * (self.aa - self.bb)[:, None]
                    - self.d1r * (self.bb - self.cc)[:, None])
        return self.s1 * self.aa[:, None] - self.d1r * self.bb[:, None]

    def info_weighted(self, w: np.ndarray) -> np.ndarray:
        """``sum_t w_t sum_k V_k``: the information with event-time weights ``w``.

        The second-moment part ``sum_t w_t (a_t s2_t - b_t d2_t)`` is regrouped by row:
        row ``i`` contributes ``r_i x_i x_i'`` times the sum of ``w_t a_t`` over the
        times it is at risk, less ``w_t b_t`` at its own death — one weighted product
        over the rows instead of a ``p x p`` matrix per event time.
        """
        rs, r = self.rs, self.weighted_risk
        reach = np.concatenate([[0.0], np.cumsum(w * self.a)])
        row_w = r * (reach[rs.hi] - reach[rs.lo])
        dying = rs.event
        row_w[dying] -= r[dying] * (w * self.b)[rs.row_time[dying]]
        s1, d1r = self.s1, self.d1r
        mixed = np.einsum("t,ta,tb->ab", w * self.bb, s1, d1r)
        return (
            cross(rs.x, rs.x, row_w)
            - np.einsum("t,ta,tb->ab", w * self.aa, s1, s1)
            + mixed + mixed.T
            - np.einsum("t,ta,tb->ab", w * self.cc, d1r, d1r)
        )


def risk_sums(rs: RiskSetData, beta: np.ndarray) -> RiskSums:
    """Log partial likelihood and score at ``beta`` (R's definitions).

    The information matrix, the costly part on wide designs, is computed only when
    asked for (:attr:`RiskSums.info`).
    """
    T = rs.n_times
    eta = rows_dot(rs.x, beta)
    j, f = rs.pair_time, rs.pair_frac
    if rs.weights is None:
        slot_weight, death_term = 1.0, eta[rs.event].sum()
    else:
        # R agfit4.c: every Efron slot of a time counts with its deaths' mean weight
        assert rs.mean_death_weight is not None
        slot_weight = rs.mean_death_weight[j]
        death_term = (rs.weights * eta)[rs.event].sum()
    r = np.exp(eta, out=eta)  # eta is not read again: one array per row, not two
    wr = r if rs.weights is None else r * rs.weights
    s0, s1, dr, d1r = rs.per_time(wr)
    denom = s0[j] - f * dr[j]
    inv = 1.0 / denom
    inv_w = slot_weight * inv
    inv2 = inv_w * inv

    def per_time(weights):
        return np.bincount(j, weights=weights, minlength=T)

    sums = RiskSums(
        rs=rs, risk=r, weighted_risk=wr,
        loglik=float(death_term - (slot_weight * np.log(denom)).sum()),
        score=np.zeros(0), s1=s1, d1r=d1r, d1=rs.d1,
        a=per_time(inv_w), b=per_time(f * inv_w), aa=per_time(inv2),
        bb=per_time(f * inv2), cc=per_time(f * f * inv2),
    )
    score = rs.d1.sum(axis=0) - sums.xbar_sum(np.ones(T))
    return dataclasses.replace(sums, score=score)


def null_loglik(rs: RiskSetData) -> float:
    """Log partial likelihood at ``beta = 0``, from risk-set counts alone.

    Every risk score is 1, so the risk sets are head counts and the Efron denominators
    ``n_t - f d_t``: no pass over the covariates (a full :func:`risk_sums` costs one).
    """
    if rs.weights is not None:
        return risk_sums(rs, np.zeros(rs.x.shape[1])).loglik
    T = rs.n_times
    at_risk = np.cumsum(np.bincount(rs.lo, minlength=T + 1)
                        - np.bincount(rs.hi, minlength=T + 1))[:T]
    j, f = rs.pair_time, rs.pair_frac
    return float(-np.log(at_risk[j] - f * rs.deaths[j]).sum())


NOT_CONVERGED = (
    "the Cox model did not converge: a coefficient may be infinite (a covariate or level "
    "that perfectly separates people with and without events); drop or merge it"
)


#: A Newton step shorter than this that fails to raise the likelihood means the maximum
#: is reached: the coefficients are then known to far more digits than any estimate is
#: shown with (the agreement with R and PHReg is tested to 1e-6).
_ROUNDING_STEP = 1e-4


def newton(rs: RiskSetData, max_iter: int = 50, tol: float = 1e-10, start=None,
           step_tol: float = 1e-7):
    """Maximise the partial likelihood by Newton-Raphson with step halving.

    Used for problems too large for PHReg's per-row Python loops; it converges to
    the same maximum (tests check agreement with PHReg to 1e-6 relative). ``start``
    (e.g. the fit on a subsample) saves passes over big data.
    Returns ``(beta, sums at beta, log partial likelihood at zero)``.
    """
    beta = np.zeros(rs.x.shape[1])
    null = null_loglik(rs)
    cur = None
    if start is not None:
        warm = risk_sums(rs, np.asarray(start, dtype=float))
        if warm.loglik >= null:
            beta, cur = np.asarray(start, dtype=float), warm
    if cur is None:
        cur = risk_sums(rs, beta)
    flat = 0  # accepted steps in a row too short to matter, the likelihood unchanged
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(cur.info, cur.score)
        except np.linalg.LinAlgError:
            break
        new_beta = beta + step
        new = _trial(rs, new_beta)
        halvings = 0
        # near the maximum the change is rounding noise of a sum over every row
        noise = 1e-12 * (1 + abs(cur.loglik))
        while not new.loglik >= cur.loglik - noise and halvings < 30:
            if (np.max(np.abs(step)) < _ROUNDING_STEP
                    and abs(new.loglik - cur.loglik) <= tol * (1 + abs(cur.loglik))):
                # At the maximum, as far as the sums over every row can tell: a step
                # this short that does not raise the likelihood follows the rounding of
                # the score (on a million rows, steps of a few 1e-6 that come and go).
                # Halving it only repeats passes over every row; the best point stays.
                return beta, cur, null
            step /= 2
            new_beta = beta + step
            new = _trial(rs, new_beta)
            halvings += 1
        converged = abs(new.loglik - cur.loglik) <= tol * (1 + abs(cur.loglik))
        beta, cur = new_beta, new
        if converged and np.max(np.abs(step)) < step_tol:
            return beta, cur, null
        # Without rounding, a step under _ROUNDING_STEP is followed by one under
        # step_tol (Newton squares the error). Two in a row with a flat likelihood mean
        # the steps are the rounding of the score: the maximum is reached.
        flat = flat + 1 if converged and np.max(np.abs(step)) < _ROUNDING_STEP else 0
        if flat >= 2:
            return beta, cur, null
    raise ModelNotConvergedError(NOT_CONVERGED)


def _trial(rs: RiskSetData, beta: np.ndarray) -> RiskSums:
    """The sums at a trial step. A step too long can overflow ``exp``; its log-likelihood
    is then NaN, the step is halved, and the overflow is no news for the user."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return risk_sums(rs, beta)


def score_residuals(rs: RiskSetData, sums: RiskSums) -> np.ndarray:
    """Per-row score residuals, as R ``residuals(fit, type="score")``.

    With Efron ties a dying row is in the k-th tied risk set with weight ``1 - k/d``.
    Residuals are per row and not multiplied by the case weights (R ``type="score"``
    with ``weighted=FALSE``); the robust variance multiplies them (R ``dfbeta``).
    Computed in blocks of rows so the temporaries stay in cache.
    """
    terms = _ResidualTerms.of(rs, sums)
    n, p = rs.x.shape
    out = np.empty((n, p))
    for a in range(0, n, BLOCK_ROWS):
        rows = slice(a, a + BLOCK_ROWS)
        out[rows] = terms.block(rows)
    return out


def clustered_residual_gram(rs: RiskSetData, sums: RiskSums,
                            groups: np.ndarray | None) -> np.ndarray:
    """``D'D`` of the score residuals summed per cluster (the robust variance's meat).

    ``groups``: the cluster code (0 ... G - 1) of each kept row, or None (every row
    its own cluster). With case weights the residuals are weighted (R ``dfbeta``,
    ``weighted=TRUE``). The same matrix as :func:`gram` of the summed
    :func:`score_residuals`, without holding a residual per row, nor a sum per cluster:
    rows are taken cluster by cluster (a stable sort of the codes), about
    :data:`GRAM_BLOCK_ROWS` at a time and never cutting a cluster, and each block's
    cluster sums are added to the matrix. (Holding the ``(G, p)`` sums instead cost 1.8
    GB on the Programmes view at ten million releases, and filling them column by
    column was slower: 6.0 s against 3.9 s on 5 million rows of 28 columns.) Sums
    smaller than :data:`CLUSTER_SUMS_BYTES` are still filled column by column
    (:meth:`_ResidualTerms.cluster_sums`): with a column or two that needs no sort.
    """
    terms = _ResidualTerms.of(rs, sums)
    n, p = rs.x.shape
    weights = rs.weights
    meat = np.zeros((p, p))
    if groups is None:
        for a in range(0, n, GRAM_BLOCK_ROWS):
            rows = slice(a, a + GRAM_BLOCK_ROWS)
            block = terms.block(rows)
            if weights is not None:
                block *= weights[rows][:, None]
            meat += gram(block)
        return meat
    clusters = int(groups.max()) + 1 if n else 0
    if clusters * p * 8 <= CLUSTER_SUMS_BYTES:
        # few columns (a model of taking part alone): one contiguous pass per column
        return gram(terms.cluster_sums(groups, weights))
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    # where each cluster's rows begin in ``order``
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]])) if n \
        else np.zeros(0, dtype=np.int64)
    del ordered
    # block edges: the first cluster start at or after every GRAM_BLOCK_ROWS rows
    wanted = np.searchsorted(starts, np.arange(0, n, GRAM_BLOCK_ROWS))
    edges = np.unique(np.concatenate([starts[wanted[wanted < len(starts)]], [n]]))
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        taken = order[a:b]
        block = terms.block(taken)
        if weights is not None:
            block *= weights[taken][:, None]
        first, last = np.searchsorted(starts, (a, b))
        meat += gram(np.add.reduceat(block, starts[first:last] - a, axis=0))
    return meat


@dataclass(frozen=True)
class _ResidualTerms:
    """Per-time cumulative terms of the score residuals (computed once per fit)."""

    rs: RiskSetData
    risk: np.ndarray
    ch: np.ndarray
    cm: np.ndarray
    dh: np.ndarray
    dm: np.ndarray
    xbar_mean: np.ndarray

    @classmethod
    def of(cls, rs: RiskSetData, sums: RiskSums) -> _ResidualTerms:
        p = rs.x.shape[1]
        h, m = sums.a, sums.xbar_over_denom()
        # a dying row's own event time: the (1 - k/d)-weighted terms replace the full ones
        slots = rs.deaths * (1.0 if rs.mean_death_weight is None else rs.mean_death_weight)
        return cls(
            rs=rs, risk=sums.risk,
            ch=np.concatenate([[0.0], np.cumsum(h)]),
            cm=np.vstack([np.zeros((1, p)), np.cumsum(m, axis=0)]),
            dh=(sums.a - sums.b) - h,
            dm=sums.xbar_over_denom(own=True) - m,
            # the mean over the Efron slots of xbar_k (the sums carry the mean death weight)
            xbar_mean=sums.xbar_sum() / np.where(rs.deaths > 0, slots, 1.0)[:, None],
        )

    def cluster_sums(self, groups: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        """``(G, p)``: the (weighted) residuals summed per cluster, one column at a time.

        The same sums as :meth:`block` of every row added per cluster, built column by
        column so that each is a few passes over contiguous vectors and one
        ``bincount``: taking the rows cluster by cluster instead gathers every row of
        the design out of order (on the Programmes view at a million releases, most of
        the robust variance's second).
        """
        rs = self.rs
        n, p = rs.x.shape
        clusters = int(groups.max()) + 1 if n else 0
        dead = np.flatnonzero(rs.event)
        t = rs.row_time[dead]
        hz = self.ch[rs.hi] - self.ch[rs.lo]
        hz[dead] += self.dh[t]
        scale = -self.risk if weights is None else -self.risk * weights
        dead_scale = 1.0 if weights is None else weights[dead]
        summed = np.empty((clusters, p))
        for j in range(p):
            cumulative = np.ascontiguousarray(self.cm[:, j])
            mz = cumulative[rs.hi] - cumulative[rs.lo]
            mz[dead] += self.dm[t, j]
            column = np.ascontiguousarray(rs.x[:, j])
            residual = column * hz
            residual -= mz
            residual *= scale
            residual[dead] += (column[dead] - self.xbar_mean[t, j]) * dead_scale
            summed[:, j] = np.bincount(groups, weights=residual, minlength=clusters)
        return summed

    def block(self, rows) -> np.ndarray:
        """The residuals of ``rows`` (a slice or an index array), a new array."""
        rs = self.rs
        hi, lo = rs.hi[rows], rs.lo[rows]
        hz = self.ch[hi] - self.ch[lo]
        mz = self.cm[hi] - self.cm[lo]
        dead = np.flatnonzero(rs.event[rows])
        t = rs.row_time[rows][dead]
        hz[dead] += self.dh[t]
        mz[dead] += self.dm[t]
        xb = rs.x[rows]
        block = xb * hz[:, None]
        block -= mz
        block *= -self.risk[rows][:, None]
        block[dead] += xb[dead] - self.xbar_mean[t]
        return block


def baseline_hazard_increments(rs: RiskSetData, sums: RiskSums) -> np.ndarray:
    """Hazard jump at each event time for a row with centred covariates 0.

    Efron ties use R's ``survfit.coxph`` increment ``sum_k 1/denom_k`` (ctype 2);
    Breslow uses ``d / S0``. Unlike PHReg, the jump belongs to its own event time.
    """
    return sums.a

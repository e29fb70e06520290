"""Vectorised risk-set sums for the Cox partial likelihood (Efron or Breslow ties).

statsmodels ``PHReg`` fits the coefficients, but several of its by-products are wrong
or missing (robust SEs with entry times, baseline hazard lagged by one event time, no
``cox.zph`` test). Everything here follows R ``survival`` 3.x definitions exactly and
is computed per distinct event time (grouped sums and cumulative sums), so it also
scales to millions of rows; :func:`newton` fits large models without PHReg.

Risk sets follow R's counting-process convention: a row with ``(entry, stop]`` is at
risk at event time ``t`` when ``entry < t <= stop`` and it is in the same stratum.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from analysis.errors import AnalysisError

#: Size (rows x columns x columns) of the blocks of products over all rows. OpenBLAS
#: multithreads larger products, and its spinning threads then slow every later call
#: several-fold on a busy machine (a laptop running other work, a shared server); blocks
#: this small stay single-threaded and cost little Python overhead.
BLOCK_WORK = 60_000


def _block_rows(width: int) -> int:
    return max(16, BLOCK_WORK // max(width, 1))


def rows_dot(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x @ m`` for a tall ``x``, block by block."""
    out = np.empty((x.shape[0], *m.shape[1:]))
    step = _block_rows(x.shape[1] * (m.shape[1] if m.ndim > 1 else 1))
    for a in range(0, x.shape[0], step):
        out[a:a + step] = x[a:a + step] @ m
    return out


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a.T @ b`` for tall ``a`` and ``b``, block by block."""
    step = _block_rows(a.shape[1] * b.shape[1])
    if a.shape[0] <= step:
        return a.T @ b
    out = np.zeros((a.shape[1], b.shape[1]))
    for i in range(0, a.shape[0], step):
        out += a[i:i + step].T @ b[i:i + step]
    return out


#: Up to this many distinct event times the per-time Python loop is always used; above
#: it, only while it beats one vectorised pass per covariate pair (see ``sums``).
LOOP_MAX_GROUPS = 4000


@dataclass(frozen=True)
class Buckets:
    """Rows grouped by an event-time index, with their covariates pre-sorted.

    Within a group the event rows come last (``ev_starts``), so one pass over the
    sorted covariates gives both the group's sums and its dying rows' sums. Each group
    is small enough to stay in cache, which makes the pass memory-bound only once.
    """

    order: np.ndarray  # row indices sorted by (key, event)
    keys: np.ndarray  # key of each non-empty group
    starts: np.ndarray  # start of each group in ``order``, plus the end
    ev_starts: np.ndarray  # start of the event rows of each group (== end if none)
    xs: np.ndarray  # x[order]
    ev_sorted: np.ndarray  # event[order]
    #: when every row of a group shares the same second key (``lo`` for right-censored
    #: data: the stratum's first event time), that key per group; lets the caller get
    #: the entry-side sums from these groups instead of a second pass over the rows
    group_lo: np.ndarray | None = None

    @classmethod
    def of(cls, key, x, event, lo=None) -> Buckets:
        order = np.argsort(2 * key + event, kind="stable")  # events last in each group
        key_sorted = key[order]
        keys, starts = np.unique(key_sorted, return_index=True)
        ends = np.append(starts[1:], len(order))
        ev_sorted = event[order]
        # events sort last in a group: first event row = end - number of events
        n_ev = np.add.reduceat(ev_sorted.astype(np.int64), starts) if len(order) else starts
        group_lo = None
        if lo is not None and len(order):
            lo_sorted = lo[order]
            first = lo_sorted[starts]
            if np.array_equal(np.repeat(first, ends - starts), lo_sorted):
                group_lo = first
        return cls(order, keys, np.append(starts, len(order)), ends - n_ev,
                   np.ascontiguousarray(x[order]), ev_sorted, group_lo)

    def sums(self, r: np.ndarray, deaths: bool = False):
        """Per-group sums of ``r``, ``r x``, ``r x x'`` (and of the event rows' ones)."""
        p = self.xs.shape[1]
        groups = len(self.keys)
        out = [np.zeros(groups), np.zeros((groups, p)), np.zeros((groups, p, p))]
        dead = [np.zeros(groups), np.zeros((groups, p)), np.zeros((groups, p, p))]
        if len(self.order) == 0:
            return (out, dead) if deaths else out
        v = r[self.order]
        # the loop costs ~40 us per group, the vectorised path ~p^2 passes over the rows
        loop_ok = max(LOOP_MAX_GROUPS, len(v) * p * p / 25_000)
        if groups > loop_ok:  # many tiny groups (near-continuous times): vectorised
            out = self._vectorised(v)
            if deaths:
                dead = self._vectorised(np.where(self.ev_sorted, v, 0.0))
            return (out, dead) if deaths else out
        xs, starts, ev_starts = self.xs, self.starts, self.ev_starts
        s0, s1, s2 = out
        d0, d1, d2 = dead
        for g in range(groups):
            a, m, b = starts[g], ev_starts[g], starts[g + 1]
            xg = xs[a:b]
            vg = v[a:b]
            wg = xg * vg[:, None]
            s0[g] = vg.sum()
            s1[g] = wg.sum(axis=0)
            s2[g] = cross(wg, xg)
            if deaths and m < b:
                k = m - a
                d0[g] = vg[k:].sum()
                d1[g] = wg[k:].sum(axis=0)
                d2[g] = cross(wg[k:], xg[k:])
        return (out, dead) if deaths else out

    def _vectorised(self, v: np.ndarray):
        p = self.xs.shape[1]
        groups = len(self.keys)
        first = self.starts[:-1]
        vx = self.xs * v[:, None]
        s2 = np.empty((groups, p, p))
        idx = np.repeat(np.arange(groups), np.diff(self.starts))
        for a in range(p):
            for b in range(a, p):
                s2[:, a, b] = s2[:, b, a] = np.bincount(
                    idx, weights=vx[:, a] * self.xs[:, b], minlength=groups)
        return [np.add.reduceat(v, first), np.add.reduceat(vx, first, axis=0), s2]


def _scatter(size: int, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Array of ``size`` rows with ``values`` added at ``keys`` (repeated keys summed)."""
    out = np.zeros((size, *values.shape[1:]))
    if len(keys) == 0:
        return out
    if np.all(np.diff(keys) > 0):
        out[keys] = values
    elif np.all(np.diff(keys) >= 0):  # sorted with repeats: sum runs (np.add.at is slow)
        uniq, starts = np.unique(keys, return_index=True)
        out[uniq] = np.add.reduceat(values, starts, axis=0)
    else:
        np.add.at(out, keys, values)
    return out


@dataclass(frozen=True)
class RiskSetData:
    """Rows of one Cox problem indexed against the distinct event times.

    Event times are numbered globally across strata (stratum blocks are contiguous),
    so a row is at risk at the time indices ``lo <= j < hi``.
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
    by_lo: Buckets | None  # None when no entry times: derived from by_hi
    by_hi: Buckets  # grouped by hi; a group's event rows die at time ``key - 1``
    d1: np.ndarray  # (T, p) death-set sums of x (does not depend on beta)

    @property
    def n_times(self) -> int:
        return len(self.times)


def build(x, stop, event, entry=None, strata=None, ties="efron") -> RiskSetData:
    """Index rows against the distinct event times of their stratum.

    Rows at risk at no event time are dropped (they carry no information, and PHReg's
    robust SEs are wrong with them); ``kept`` marks the input rows that remain.
    """
    n = len(stop)
    stop = np.asarray(stop, dtype=float)
    event = np.asarray(event).astype(bool)
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    row_time = np.full(n, -1, dtype=np.int64)
    all_times, all_strata = [], []
    offset = 0
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        uft = np.unique(stop[rows][event[rows]])
        # stop >= t  <=>  t index < searchsorted(uft, stop, 'right')
        hi[rows] = offset + np.searchsorted(uft, stop[rows], side="right")
        if entry is None:
            lo[rows] = offset
        else:
            # entry < t  <=>  t index >= searchsorted(uft, entry, 'right')
            lo[rows] = offset + np.searchsorted(uft, np.asarray(entry, float)[rows], "right")
        ev = rows[event[rows]]
        row_time[ev] = offset + np.searchsorted(uft, stop[ev], side="left")
        all_times.append(uft)
        all_strata.append(np.full(len(uft), s))
        offset += len(uft)
    times = np.concatenate(all_times) if all_times else np.zeros(0)
    deaths = np.bincount(row_time[event], minlength=len(times))
    pair_time = np.repeat(np.arange(len(times)), deaths)
    first = np.cumsum(deaths) - deaths
    k = np.arange(len(pair_time)) - np.repeat(first, deaths)
    if ties == "efron":
        pair_frac = k / np.repeat(deaths, deaths)
    else:
        pair_frac = np.zeros(len(pair_time))
    x = np.asarray(x, dtype=float)
    kept = lo < hi  # rows at risk at no event time carry no information
    x, lo, hi, event, row_time = x[kept], lo[kept], hi[kept], event[kept], row_time[kept]
    by_hi = Buckets.of(hi, x, event, lo=lo)
    # death-set sums of x per event time: one bincount per column over the event rows
    # (not a full risk-set pass, whose per-time cross products would be thrown away)
    dying = row_time[event]
    d1 = np.column_stack([np.bincount(dying, weights=x[event, k], minlength=len(times))
                          for k in range(x.shape[1])]) if x.shape[1] else np.zeros((len(times), 0))
    return RiskSetData(
        x=x,
        lo=lo,
        hi=hi,
        event=event,
        row_time=row_time,
        times=times,
        time_stratum=np.concatenate(all_strata) if all_strata else np.zeros(0),
        deaths=deaths,
        pair_time=pair_time,
        pair_frac=pair_frac,
        kept=kept,
        by_lo=None if entry is None else Buckets.of(lo, x, np.zeros(len(x), dtype=bool)),
        by_hi=by_hi,
        d1=d1.reshape(len(times), x.shape[1]),
    )


@dataclass(frozen=True)
class RiskSums:
    """Risk-set quantities at one coefficient vector, per distinct event time.

    With Efron ties the ``k``-th of ``d`` tied deaths sees the risk set with the dying
    rows down-weighted by ``f = k/d``: ``denom_k = s0 - f dr`` and
    ``xbar_k = (s1 - f d1r) / denom_k``. Everything needed downstream is a sum over
    ``k`` of ``f^m / denom_k^q``, so the per-death-slot arrays never materialise.
    """

    risk: np.ndarray  # (n,) exp(x beta)
    loglik: float
    score: np.ndarray  # (p,)
    info: np.ndarray  # (p, p) observed information
    s1: np.ndarray  # (T, p) risk-set sums of r x
    s2: np.ndarray  # (T, p, p) risk-set sums of r x x'
    d1r: np.ndarray  # (T, p) death-set sums of r x
    d2: np.ndarray  # (T, p, p) death-set sums of r x x'
    d1: np.ndarray  # (T, p) death-set sums of x (unweighted)
    a: np.ndarray  # (T,) sum_k 1/denom_k  (the baseline hazard increment)
    b: np.ndarray  # (T,) sum_k f/denom_k
    aa: np.ndarray  # (T,) sum_k 1/denom_k^2
    bb: np.ndarray  # (T,) sum_k f/denom_k^2
    cc: np.ndarray  # (T,) sum_k f^2/denom_k^2

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
        """``sum_t w_t sum_k V_k``: the information with event-time weights ``w``."""
        s1, d1r = self.s1, self.d1r
        cross = np.einsum("t,ta,tb->ab", w * self.bb, s1, d1r)
        return (
            np.einsum("t,tab->ab", w * self.a, self.s2)
            - np.einsum("t,tab->ab", w * self.b, self.d2)
            - np.einsum("t,ta,tb->ab", w * self.aa, s1, s1)
            + cross + cross.T
            - np.einsum("t,ta,tb->ab", w * self.cc, d1r, d1r)
        )


def risk_sums(rs: RiskSetData, beta: np.ndarray) -> RiskSums:
    """Log partial likelihood, score and information at ``beta`` (R's definitions)."""
    x, T = rs.x, rs.n_times
    eta = rows_dot(x, beta)
    r = np.exp(eta)
    (h0, h1, h2), (g0, g1, d2g) = rs.by_hi.sums(r, deaths=True)
    hk = rs.by_hi.keys
    if rs.by_hi.group_lo is not None and rs.by_lo is None:
        lo_parts = (rs.by_hi.group_lo, h0, h1, h2)  # entry side from the same groups
    else:
        by_lo = rs.by_lo or Buckets.of(rs.lo, x, np.zeros(len(x), dtype=bool))
        lo_parts = (by_lo.keys, *by_lo.sums(r))
    # at risk at t: lo <= t < hi  ->  cumulative sum of (entered - left)
    s0, s1, s2 = (
        np.cumsum(_scatter(T + 1, lo_parts[0], lo) - _scatter(T + 1, hk, hi), axis=0)[:T]
        for lo, hi in zip(lo_parts[1:], (h0, h1, h2), strict=True)
    )
    # rows leaving after time index key - 1 include those dying then (key >= 1 for them)
    dk = np.maximum(hk - 1, 0)
    dr, d1r, d2 = _scatter(T, dk, g0), _scatter(T, dk, g1), _scatter(T, dk, d2g)
    j, f = rs.pair_time, rs.pair_frac
    denom = s0[j] - f * dr[j]
    inv = 1.0 / denom
    inv2 = inv * inv

    def per_time(weights):
        return np.bincount(j, weights=weights, minlength=T)

    sums = RiskSums(
        risk=r, loglik=float(eta[rs.event].sum() - np.log(denom).sum()),
        score=np.zeros(0), info=np.zeros(0), s1=s1, s2=s2, d1r=d1r, d2=d2, d1=rs.d1,
        a=per_time(inv), b=per_time(f * inv), aa=per_time(inv2), bb=per_time(f * inv2),
        cc=per_time(f * f * inv2),
    )
    ones = np.ones(T)
    score = rs.d1.sum(axis=0) - sums.xbar_sum(ones)
    return dataclasses.replace(sums, score=score, info=sums.info_weighted(ones))


def null_loglik(rs: RiskSetData) -> float:
    """Log partial likelihood at ``beta = 0``, from risk-set counts alone.

    Every risk score is 1, so the risk sets are head counts and the Efron denominators
    ``n_t - f d_t``: no pass over the covariates (a full :func:`risk_sums` costs one).
    """
    T = rs.n_times
    at_risk = np.cumsum(np.bincount(rs.lo, minlength=T + 1)
                        - np.bincount(rs.hi, minlength=T + 1))[:T]
    j, f = rs.pair_time, rs.pair_frac
    return float(-np.log(at_risk[j] - f * rs.deaths[j]).sum())


NOT_CONVERGED = (
    "the Cox model did not converge: a coefficient may be infinite (a covariate or level "
    "that perfectly separates people with and without events); drop or merge it"
)


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
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(cur.info, cur.score)
        except np.linalg.LinAlgError:
            break
        new_beta = beta + step
        new = risk_sums(rs, new_beta)
        halvings = 0
        while not new.loglik >= cur.loglik - 1e-12 and halvings < 30:
            step /= 2
            new_beta = beta + step
            new = risk_sums(rs, new_beta)
            halvings += 1
        converged = abs(new.loglik - cur.loglik) <= tol * (1 + abs(cur.loglik))
        beta, cur = new_beta, new
        if converged and np.max(np.abs(step)) < step_tol:
            return beta, cur, null
    raise AnalysisError(NOT_CONVERGED)


def score_residuals(rs: RiskSetData, sums: RiskSums) -> np.ndarray:
    """Per-row score residuals, as R ``residuals(fit, type="score")``.

    With Efron ties a dying row is in the k-th tied risk set with weight ``1 - k/d``.
    Computed in blocks of rows so the temporaries stay in cache.
    """
    x, r = rs.x, sums.risk
    n, p = x.shape
    h, m = sums.a, sums.xbar_over_denom()
    ch = np.concatenate([[0.0], np.cumsum(h)])
    cm = np.vstack([np.zeros((1, p)), np.cumsum(m, axis=0)])
    # a dying row's own event time: the (1 - k/d)-weighted terms replace the full ones
    dh = (sums.a - sums.b) - h
    dm = sums.xbar_over_denom(own=True) - m
    xbar_mean = sums.xbar_sum() / np.maximum(rs.deaths, 1)[:, None]
    out = np.empty((n, p))
    step = _block_rows(4 * p)
    for a in range(0, n, step):
        rows = slice(a, a + step)
        hi, lo = rs.hi[rows], rs.lo[rows]
        hz = ch[hi] - ch[lo]
        mz = cm[hi] - cm[lo]
        dead = np.flatnonzero(rs.event[rows])
        t = rs.row_time[rows][dead]
        hz[dead] += dh[t]
        mz[dead] += dm[t]
        xb = x[rows]
        block = xb * hz[:, None]
        block -= mz
        block *= -r[rows][:, None]
        block[dead] += xb[dead] - xbar_mean[t]
        out[rows] = block
    return out


def baseline_hazard_increments(rs: RiskSetData, sums: RiskSums) -> np.ndarray:
    """Hazard jump at each event time for a row with centred covariates 0.

    Efron ties use R's ``survfit.coxph`` increment ``sum_k 1/denom_k`` (ctype 2);
    Breslow uses ``d / S0``. Unlike PHReg, the jump belongs to its own event time.
    """
    return sums.a

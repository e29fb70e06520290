"""The demo's ``referrals.csv``: people sent to a service after a release, chunk by chunk.

Referrals are drawn **after** the re-arrests, from a random stream of their own, and
change nothing in the other files: the true effect of reaching a service on re-arrest is
none (hazard ratio 1, :attr:`ReferralModel.log_hr_reached`). Who gets how far is not
random (docs/demo-data.md, "Referrals"):

* a release is referred with a logistic probability (more for conditional releases and
  drug offences), from the register's first day, one to three times;
* a referral falls on or after the release, before the person's next re-incarceration,
  the end of follow-up and the cutoff (whole days, no later than the day before);
* it goes to a service of the person's release region (or a national one), open on that
  day and serving their sex, picked with weights by need (drug offence, under 25, women,
  violent extremism); a person is sent to a service once per release;
* people at lower risk of re-arrest (the release's covariates) decline less, reach the
  service more often and complete it more often, so a naive comparison flatters services;
* first contact comes a few days after the referral, sooner when the referral came soon
  after release; a contact that would fall after the person is back in custody, gone or
  past the cutoff is never made (status stays ``referred``).

Every draw depends only on the seed and the chunk, so the output is deterministic.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.contract import REFERRAL_STATUSES, SERVICE_TYPES
from analysis.demo.model import OFFENSES, DemoModel
from analysis.demo.schemas import REFERRAL_SCHEMA
from analysis.demo.services_model import CAPACITY_NEED
from analysis.demo.simulate import (
    CONDITIONAL,
    REINCARCERATION,
    Chunk,
    _linear_predictor,
    _sigmoid,
    day_number,
    year_of,
)

_NEVER = np.iinfo(np.int64).max // 4
#: Needs that change which service types a person is sent to (``need_multipliers``).
_NEEDS = ("drug_offence", "under_25", "women", "violent_extremism")
_STATUS = {s: i for i, s in enumerate(REFERRAL_STATUSES)}


def _next_reincarceration(chunk: Chunk, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Day of each release's person's first re-incarceration after ``day`` (or never)."""
    ev = chunk.events
    back = ev["type"] == REINCARCERATION
    if not back.any():
        return np.full(len(day), _NEVER, dtype=np.int64)
    span = int(max(ev["day"].max(), day.max())) + 1
    keys = np.sort(ev["person"][back].astype(np.int64) * span + ev["day"][back])
    at = np.searchsorted(keys, person.astype(np.int64) * span + day, side="right")
    found = at < len(keys)
    hit = np.where(found, keys[np.minimum(at, len(keys) - 1)], 0)
    same_person = found & (hit // span == person)
    return np.where(same_person, hit % span, _NEVER)


class ReferralDraw:
    """The service arrays the referral draws need, built once per demo.

    Examples
    --------
    >>> draw = ReferralDraw(DemoModel())
    >>> draw.service_ids[:2], draw.members.shape
    (['SRV-DRG-01', 'SRV-DRG-02'], (8, 46))
    """

    def __init__(self, model: DemoModel):
        self.model = model
        regions = model.population.regions
        services = model.services.services
        rm = model.services.referrals
        self.service_ids = [s.service_id for s in services]
        #: members[region, service]: the service is offered there (or nationally).
        self.members = np.array([[s.national or region in s.regions for s in services]
                                 for region in regions])
        self.serves_women = np.array([s.sex_served != "men" for s in services])
        self.serves_men = np.array([s.sex_served != "women" for s in services])
        self.opens = np.array([day_number(s.valid_from) if s.valid_from else -_NEVER
                               for s in services])
        self.closes = np.array([day_number(s.valid_to) if s.valid_to else _NEVER
                                for s in services])
        self.type_of = np.array([SERVICE_TYPES.index(s.service_type) for s in services])
        # Designed shortages: a type compared with its need, with fewer places than need.
        short = np.array([s.service_type in CAPACITY_NEED and s.capacity_ratio is not None
                          and s.capacity_ratio < 1 for s in services])
        self.p_not_available = np.where(short, rm.p_not_available_short, rm.p_not_available)
        base = dict(rm.type_weights)
        self.type_weights = np.array([base.get(t, 0.0) for t in SERVICE_TYPES])
        self.need_multiplier = np.ones((len(_NEEDS), len(SERVICE_TYPES)))
        for need, service_type, factor in rm.need_multipliers:
            self.need_multiplier[_NEEDS.index(need), SERVICE_TYPES.index(service_type)] = factor

    def chunk_table(self, chunk: Chunk, rows: np.ndarray, person_ids: pa.Array,
                    release_ids: pa.Array, rng: np.random.Generator) -> pa.Table:
        """Referrals of the releases ``rows`` of ``chunk`` (file order), as a table.

        ``person_ids`` and ``release_ids`` are those of the releases file, row for row.
        """
        model, rm = self.model, self.model.services.referrals
        rel = chunk.releases
        day, person = rel["day"][rows], rel["person"][rows]
        n = len(rows)
        if n == 0:
            return REFERRAL_SCHEMA.empty_table()
        window_end = np.minimum(rel["follow_up_end"][rows],
                                _next_reincarceration(chunk, person, day))
        female = rel["female"][rows]
        offense = rel["offense"][rows]
        risk = _linear_predictor(model, rel["age"][rows], female, rel["priors"][rows],
                                 rel["sentence"][rows], offense, rel["facility"][rows],
                                 year_of(day)) - rm.risk_centre
        needs = np.column_stack([offense == OFFENSES.index("drug"), rel["age"][rows] < 25,
                                 female, offense == OFFENSES.index("violent_extremism")])

        logit = (rm.referred_logit
                 + rm.referred_logit_conditional * (rel["release_type"][rows] == CONDITIONAL)
                 + rm.referred_logit_drug_offence * needs[:, 0])
        referred = ((day >= day_number(rm.register_from)) & (window_end > day)
                    & (rng.random(n) < _sigmoid(logit)))
        wanted = np.searchsorted(np.cumsum(rm.referrals_per_release), rng.random(n),
                                 side="right") + 1
        gate = rng.random(n) < rm.at_the_gate_share
        offset = np.where(gate, rng.integers(0, rm.gate_days + 1, n),
                          np.floor(rng.exponential(rm.first_referral_mean_days, n))).astype(
            np.int64)

        # Person-level weight of each service type: base weight times need multipliers.
        type_weight = np.tile(self.type_weights, (n, 1))
        for k in range(len(_NEEDS)):
            type_weight[needs[:, k]] *= self.need_multiplier[k]
        region = rel["region"][rows]
        chosen = np.zeros((n, len(self.service_ids)), dtype=bool)
        picks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for slot in range(len(rm.referrals_per_release)):
            if slot:
                offset = offset + 1 + np.floor(
                    rng.exponential(rm.next_referral_mean_days, n)).astype(np.int64)
            when = day + offset
            live = np.flatnonzero(referred & (wanted > slot) & (when < window_end))
            u = rng.random(len(live))
            on = when[live, None]
            open_ = ((self.opens[None] <= on) & (on <= self.closes[None])
                     & self.members[region[live]]
                     & np.where(female[live, None], self.serves_women[None],
                                self.serves_men[None])
                     & ~chosen[live])
            weight = np.where(open_, type_weight[live][:, self.type_of], 0.0)
            cum = np.cumsum(weight, axis=1)
            total = cum[:, -1]
            # The first service whose cumulative weight reaches u x total; never one of
            # weight 0, as the point is kept above 0.
            point = np.maximum(u * total, np.finfo(float).tiny)
            service = np.minimum((cum < point[:, None]).sum(axis=1), weight.shape[1] - 1)
            ok = total > 0
            live, service = live[ok], service[ok]
            chosen[live, service] = True
            picks.append((live, service, when[live]))
        return self._statuses(picks, day, window_end, risk, person_ids, release_ids, rng)

    def _statuses(self, picks, day, window_end, risk, person_ids, release_ids,
                  rng) -> pa.Table:
        rm = self.model.services.referrals
        row = np.concatenate([p[0] for p in picks])
        service = np.concatenate([p[1] for p in picks])
        when = np.concatenate([p[2] for p in picks])
        order = np.lexsort((when, row))
        row, service, when = row[order], service[order], when[order]
        m = len(row)
        r = risk[row]
        not_available = rng.random(m) < self.p_not_available[service]
        declined = ~not_available & (rng.random(m) < _sigmoid(
            rm.declined_logit + rm.declined_logit_per_risk * r))
        reached = ~not_available & ~declined & (rng.random(m) < _sigmoid(
            rm.reached_logit + rm.reached_logit_per_risk * r))
        mean = rm.contact_mean_days + rm.contact_mean_per_day_since_release * (when - day[row])
        contact = when + 1 + np.floor(rng.gamma(rm.contact_gamma_shape,
                                                mean / rm.contact_gamma_shape)).astype(np.int64)
        reached &= contact < window_end[row]
        lo, hi = rm.service_days
        completed = reached & (contact + rng.integers(lo, hi + 1, m) < window_end[row]) & (
            rng.random(m) < _sigmoid(rm.completed_logit + rm.completed_logit_per_risk * r))
        status = np.select(
            [not_available, declined, completed, reached],
            [_STATUS["not_available"], _STATUS["declined"], _STATUS["completed"],
             _STATUS["attended"]], _STATUS["referred"])
        no_release = rng.random(m) < rm.p_release_id_missing
        take = pa.array(row)
        return pa.table(
            {
                "person_id": person_ids.take(take),
                "service_id": pa.array(self.service_ids, pa.string()).take(pa.array(service)),
                "referral_date": pa.array(when.astype(np.int32), pa.int32()).cast(pa.date32()),
                "status": pa.array(list(REFERRAL_STATUSES), pa.string()).take(
                    pa.array(status.astype(np.int32))),
                "release_id": pc.if_else(pa.array(no_release), pa.scalar(None, pa.string()),
                                         release_ids.take(take)),
                "first_contact_date": pa.array(contact.astype(np.int32), pa.int32(),
                                               mask=~reached).cast(pa.date32()),
            },
            schema=REFERRAL_SCHEMA,
        )

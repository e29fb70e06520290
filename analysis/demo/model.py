"""Parameters of the synthetic demo country, as frozen dataclasses.

Every number the generator uses lives here, so that ``truth.json`` can record the
whole model and ``docs/demo-data.md`` can quote it. The data are **synthetic**: the
country, its prisons and its people are invented.

The re-arrest hazard after each release is proportional hazards in exactly the
covariates a Cox model of time to first re-arrest would adjust for (age, sex, prior
convictions, offense category, sentence length, facility, release year) times the
programme hazard ratios. Selection into programmes also depends on things the
hazard does not (education, employment before custody, a latent drug dependence,
release type), so those act as instruments and never confound an adjusted model.

Examples
--------
>>> model = DemoModel()
>>> [p.program_id for p in model.programs][:3]
['EDU-BASIC', 'VOC-METAL', 'VOC-WOOD']
>>> round(model.program("DRUG-TC").hr_completed, 2)
0.75
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from analysis.contract import PROGRAM_CATEGORIES, PROGRAM_SETTINGS
from analysis.demo.services_model import ServicesModel
from analysis.errors import AnalysisError

OFFENSES: tuple[str, ...] = (
    "drug",
    "property",
    "violent",
    "public_order",
    "other",
    "violent_extremism",
)
RELEASE_TYPES: tuple[str, ...] = ("end_of_sentence", "conditional", "non_custodial")
EDUCATION_LEVELS: tuple[str, ...] = ("none", "primary", "secondary", "higher")


@dataclass(frozen=True)
class Calendar:
    """Dates of the study: first releases are spread uniformly over the window."""

    first_release_from: dt.date = dt.date(2017, 1, 1)
    first_release_to: dt.date = dt.date(2025, 3, 31)
    #: Data cutoff: follow-up ends here unless death, deportation or emigration come first.
    cutoff: dt.date = dt.date(2025, 6, 30)


@dataclass(frozen=True)
class Facility:
    """A prison (or the probation service for non-custodial sentences)."""

    name: str
    kind: str  # general | high_security | open | women | probation
    #: Effect on the re-arrest hazard (log hazard ratio, reference: Northgate Prison).
    log_hr: float
    #: Base share of men's custodial releases (0 for the women's prison and probation).
    share: float


@dataclass(frozen=True)
class Population:
    """Who is released: sex, age, offense, sentence, priors and the extra covariates."""

    female_share: float = 0.07
    age_min: float = 18.0
    #: First-release ages are capped here so that later releases stay near 70 at most.
    age_max_first_release: float = 66.0
    #: Age at first release = 18 + Gamma(shape, scale) years (mean about 33).
    age_gamma_shape: float = 2.0
    age_gamma_scale: float = 7.5
    offense_shares_male: tuple[float, ...] = (0.29, 0.28, 0.19, 0.12, 0.10, 0.02)
    offense_shares_female: tuple[float, ...] = (0.40, 0.31, 0.10, 0.10, 0.085, 0.005)
    #: Prior convictions ~ negative binomial: mean = base + slope * (age - 18), dispersion r.
    priors_mean_base: float = 0.8
    priors_mean_per_year_of_age: float = 0.09
    priors_dispersion: float = 0.7
    #: Median sentence (months) by offense, log-normal spread ``sentence_sigma``.
    sentence_median_months: tuple[float, ...] = (20.0, 12.0, 36.0, 7.0, 10.0, 60.0)
    sentence_sigma: float = 0.65
    sentence_max_months: float = 300.0
    #: Share of first sentences that are non-custodial, by offense.
    non_custodial_share: tuple[float, ...] = (0.22, 0.15, 0.04, 0.25, 0.15, 0.0)
    #: Logit of a conditional (early) release among custodial releases.
    conditional_logit_base: float = 0.1
    conditional_logit_per_prior: float = -0.15
    conditional_logit_violent_extremism: float = -6.0
    #: Share of the sentence served by conditional releases (uniform range).
    conditional_served: tuple[float, float] = (0.55, 0.8)
    #: Latent drug dependence by offense (never in the files; drives drug
    #: treatment, HIV/TB/hepatitis care and deaths, not re-arrest).
    drug_dependence_share: tuple[float, ...] = (0.65, 0.30, 0.12, 0.20, 0.12, 0.02)
    education_shares: tuple[float, ...] = (0.14, 0.41, 0.36, 0.09)
    employed_before_share: float = 0.45
    foreign_share: float = 0.04
    regions: tuple[str, ...] = (
        "Capital",
        "North Coast",
        "South Coast",
        "Highlands",
        "River Valley",
        "Eastern Plains",
        "Western Hills",
        "Desert South",
    )
    region_shares: tuple[float, ...] = (0.26, 0.14, 0.13, 0.09, 0.12, 0.10, 0.09, 0.07)


@dataclass(frozen=True)
class RearrestHazard:
    """Proportional-hazards model of the first re-arrest after a release.

    ``h(t) = h0(t) * exp(x'b) * (programme hazard ratios)`` with a Weibull baseline
    ``H0(t) = (t / scale) ** shape``; ``shape < 1`` makes the hazard highest just
    after release and then decline.
    """

    weibull_shape: float = 0.65
    weibull_scale_days: float = 2600.0
    reference_age: float = 30.0
    log_hr_per_year_of_age: float = -0.03
    log_hr_female: float = -0.40
    log_hr_per_prior: float = 0.08
    log_hr_per_sentence_month: float = -0.004
    #: By offense, same order as ``OFFENSES`` (reference: violent).
    log_hr_offense: tuple[float, ...] = (0.25, 0.35, 0.0, 0.15, 0.05, -0.60)
    #: By release year 2017..2025 (reference 2017); 2020 dips with the pandemic.
    release_years: tuple[int, ...] = (2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025)
    log_hr_release_year: tuple[float, ...] = (0.0, 0.02, 0.05, -0.25, -0.05, 0.05, 0.08, 0.10, 0.10)


@dataclass(frozen=True)
class JusticeProcess:
    """What may follow a re-arrest, and technical violations of conditional release."""

    p_reconviction: float = 0.60
    #: Days from re-arrest to reconviction ~ Gamma(shape, mean / shape).
    reconviction_delay_shape: float = 2.0
    reconviction_delay_mean_days: float = 150.0
    p_reincarceration: float = 0.55
    reincarceration_delay_days: tuple[int, int] = (0, 30)
    #: Share of new offenses of the same category as the previous one.
    p_same_offense: float = 0.5
    p_violation_conditional: float = 0.18
    violation_window_days: tuple[int, int] = (30, 300)


@dataclass(frozen=True)
class Exits:
    """Competing events that end follow-up: death, deportation, emigration."""

    death_rate_per_year: float = 0.004  # at the reference age 35, not drug dependent
    death_reference_age: float = 35.0
    death_log_hr_per_year_of_age: float = 0.07
    death_hr_drug_dependent: float = 3.0
    #: Extra multiplier for drug-dependent people in the first weeks (overdose risk).
    early_death_hr_drug_dependent: float = 10.0
    early_window_days: int = 28
    p_deported_if_foreign: float = 0.6
    deportation_delay_days: tuple[int, int] = (1, 120)
    emigration_rate_per_year: float = 0.005


@dataclass(frozen=True)
class Program:
    """A programme: catalogue entry, who gets in, and its true effect.

    In-prison programmes act from release onwards with a hazard ratio that depends
    on whether the person completed or dropped out. Post-release and community
    programmes act only while active (between start_date and end_date).
    """

    program_id: str
    name: str
    category: str
    setting: str
    project: str
    funder: str
    cost_per_participant: float
    currency: str
    #: (facility, first release year the programme is offered there).
    rollout: tuple[tuple[str, int], ...]
    base_logit: float
    log_hr_completed: float = 0.0
    log_hr_dropped_out: float = 0.0
    #: Post-release and community programmes: log hazard ratio while active.
    log_hr_active: float = 0.0
    logit_per_decade_of_age: float = 0.0
    logit_per_prior: float = 0.0
    logit_per_sentence_year: float = 0.0
    logit_female: float = 0.0
    #: Offense shifts of the selection logit: ((offense, shift), ...).
    logit_offense: tuple[tuple[str, float], ...] = ()
    logit_drug_dependent: float = 0.0
    logit_low_education: float = 0.0
    logit_employed_before: float = 0.0
    logit_vocational_completed: float = 0.0
    logit_conditional_release: float = 0.0
    #: Offenses legally barred from the programme.
    barred_offenses: tuple[str, ...] = ()
    #: When not empty, only these offenses are eligible.
    only_offenses: tuple[str, ...] = ()
    #: Eligible release types (empty: all custodial releases).
    release_types: tuple[str, ...] = ()
    min_sentence_months: float = 0.0
    dropout_probability: float = 0.2
    duration_days: tuple[int, int] = (90, 180)
    #: Post-release programmes: days from release to the start (uniform range).
    start_delay_days: tuple[int, int] = (0, 0)
    hours: float = 100.0

    def __post_init__(self):
        # The demo writes these into programs.csv, which the importer checks against the
        # contract's codes: refuse a demo model the importer would reject.
        for field_name, codes in (("category", PROGRAM_CATEGORIES), ("setting", PROGRAM_SETTINGS)):
            if getattr(self, field_name) not in codes:
                raise AnalysisError(f"programme {self.program_id}: {field_name} "
                                    f"{getattr(self, field_name)!r} is not one of {codes}")

    @property
    def time_varying(self) -> bool:
        return self.setting != "in_prison"

    @property
    def hr_completed(self) -> float:
        return math.exp(self.log_hr_active if self.time_varying else self.log_hr_completed)

    @property
    def hr_dropped_out(self) -> float:
        return math.exp(self.log_hr_active if self.time_varying else self.log_hr_dropped_out)


_PRISONS = ("Northgate Prison", "Riverside Prison", "Eastfield Prison")
_ALL_PRISONS = (*_PRISONS, "Hillcrest High-Security Prison", "Lakeside Open Prison",
                "Marigold Women's Prison")


def _everywhere(year: int, prisons: tuple[str, ...] = _ALL_PRISONS) -> tuple[tuple[str, int], ...]:
    return tuple((p, year) for p in prisons)


def default_facilities() -> tuple[Facility, ...]:
    return (
        Facility("Northgate Prison", "general", 0.0, 0.30),
        Facility("Riverside Prison", "general", 0.05, 0.28),
        Facility("Eastfield Prison", "general", 0.10, 0.22),
        Facility("Hillcrest High-Security Prison", "high_security", 0.15, 0.08),
        Facility("Lakeside Open Prison", "open", -0.10, 0.12),
        Facility("Marigold Women's Prison", "women", 0.0, 0.0),
        Facility("Probation Service", "probation", -0.05, 0.0),
    )


def default_programs() -> tuple[Program, ...]:
    eu, gf, gov = "European Union", "Global Fund", "Ministry of Justice"
    return (
        Program(
            "EDU-BASIC", "Basic literacy and numeracy", "education", "in_prison",
            "Second Chance Education", eu, 180.0, "EUR",
            rollout=_everywhere(2017), base_logit=-2.0,
            log_hr_completed=math.log(0.88), log_hr_dropped_out=0.0,
            logit_per_decade_of_age=-0.3, logit_low_education=1.8,
            logit_per_sentence_year=0.15, min_sentence_months=6,
            dropout_probability=0.25, duration_days=(120, 240), hours=160,
        ),
        Program(
            "VOC-METAL", "Vocational training: metalwork", "vocational", "in_prison",
            "Skills for Work", eu, 650.0, "EUR",
            rollout=(("Northgate Prison", 2018), ("Eastfield Prison", 2020)),
            base_logit=-1.0, log_hr_completed=math.log(0.78),
            log_hr_dropped_out=math.log(0.98),
            logit_per_decade_of_age=-0.4, logit_per_prior=-0.05,
            logit_employed_before=0.3, barred_offenses=("violent_extremism",),
            min_sentence_months=9, dropout_probability=0.2, duration_days=(150, 270),
            hours=400,
        ),
        Program(
            "VOC-WOOD", "Vocational training: woodwork", "vocational", "in_prison",
            "Skills for Work", eu, 520.0, "EUR",
            rollout=(("Riverside Prison", 2019), ("Marigold Women's Prison", 2019),
                     ("Lakeside Open Prison", 2021)),
            base_logit=-1.2, log_hr_completed=math.log(0.85), log_hr_dropped_out=0.0,
            logit_per_decade_of_age=-0.2, logit_employed_before=0.3,
            barred_offenses=("violent_extremism",), min_sentence_months=6,
            dropout_probability=0.2, duration_days=(120, 240), hours=320,
        ),
        Program(
            "WORK-BRAND", "Prison work: prison-brand production", "work", "in_prison",
            "Prison Industries", gov, 90.0, "EUR",
            rollout=(*_everywhere(2017, (*_PRISONS, "Lakeside Open Prison",
                                         "Marigold Women's Prison")),
                     ("Hillcrest High-Security Prison", 2022)),
            base_logit=-1.6, log_hr_completed=0.0, log_hr_dropped_out=0.0,
            # Wardens pick older, steadier people with few priors: a null effect that
            # looks protective in an unadjusted comparison.
            logit_per_decade_of_age=0.6, logit_per_prior=-0.25, logit_per_sentence_year=0.2,
            logit_offense=(("violent", -0.3), ("drug", -0.2)),
            barred_offenses=("violent_extremism",), min_sentence_months=6,
            dropout_probability=0.15, duration_days=(90, 360), hours=600,
        ),
        Program(
            "DRUG-TC", "Drug-dependence treatment (therapeutic community)", "drug_treatment",
            "in_prison", "Recovery Inside", gf, 900.0, "EUR",
            rollout=(("Northgate Prison", 2017), ("Riverside Prison", 2017),
                     ("Marigold Women's Prison", 2018), ("Eastfield Prison", 2021)),
            # People with many priors and drug offenses are sent first: a helpful
            # programme that looks harmful unadjusted.
            base_logit=-3.2, log_hr_completed=math.log(0.75),
            log_hr_dropped_out=math.log(1.15), logit_drug_dependent=2.2,
            logit_offense=(("drug", 0.6),), logit_per_prior=0.30,
            logit_per_decade_of_age=-0.6, min_sentence_months=4,
            dropout_probability=0.35, duration_days=(120, 200), hours=300,
        ),
        Program(
            "HEALTH-HTH", "HIV, TB and hepatitis screening and treatment", "health",
            "in_prison", "Healthy Prisons", gf, 120.0, "EUR",
            rollout=_everywhere(2017), base_logit=-1.3,
            log_hr_completed=0.0, log_hr_dropped_out=0.0, logit_drug_dependent=1.2,
            dropout_probability=0.1, duration_days=(14, 90), hours=12,
        ),
        Program(
            "PSY-COUNS", "Psychosocial counselling", "psychosocial", "in_prison",
            "Mind the Gap", eu, 240.0, "EUR",
            rollout=(("Northgate Prison", 2019), ("Riverside Prison", 2019),
                     ("Marigold Women's Prison", 2019), ("Eastfield Prison", 2020),
                     ("Hillcrest High-Security Prison", 2020), ("Lakeside Open Prison", 2021)),
            base_logit=-1.6, log_hr_completed=math.log(0.87), log_hr_dropped_out=0.0,
            logit_offense=(("violent", 0.7),), logit_female=0.5,
            logit_per_decade_of_age=-0.2, min_sentence_months=3,
            dropout_probability=0.25, duration_days=(60, 120), hours=24,
        ),
        Program(
            "LEGAL-AID", "Legal aid clinic", "legal_aid", "in_prison",
            "Access to Justice", "Bar Association", 60.0, "EUR",
            rollout=_everywhere(2017), base_logit=-1.8,
            log_hr_completed=math.log(0.95), log_hr_dropped_out=0.0,
            logit_per_prior=0.05, logit_low_education=0.4,
            dropout_probability=0.1, duration_days=(7, 60), hours=6,
        ),
        Program(
            "DISENG", "Disengagement programme for violent-extremist prisoners",
            "disengagement", "in_prison", "Exit Pathways", "UN Office on Drugs and Crime",
            2400.0, "EUR", rollout=(("Hillcrest High-Security Prison", 2019),),
            base_logit=0.4, log_hr_completed=math.log(0.70),
            log_hr_dropped_out=math.log(1.10), only_offenses=("violent_extremism",),
            dropout_probability=0.3, duration_days=(180, 360), hours=200,
        ),
        Program(
            "PROB-SUPPORT", "Post-release support by probation commissioners",
            "post_release_support", "post_release", "Probation Reform", gov, 350.0, "EUR",
            rollout=_everywhere(2018), base_logit=-2.2, log_hr_active=math.log(0.65),
            logit_conditional_release=3.0, logit_per_prior=0.05,
            dropout_probability=0.25, duration_days=(180, 365), start_delay_days=(7, 45),
            hours=40,
        ),
        Program(
            "EMPLOY", "Employment placement after release", "employment", "post_release",
            "Jobs After Prison", eu, 420.0, "EUR",
            rollout=_everywhere(2019), base_logit=-2.3, log_hr_active=math.log(0.80),
            logit_employed_before=0.8, logit_vocational_completed=1.2,
            logit_per_decade_of_age=-0.2, dropout_probability=0.3,
            duration_days=(90, 365), start_delay_days=(14, 120), hours=300,
        ),
        Program(
            "COMM-DRUG", "Community drug treatment (alternative to custody)", "drug_treatment",
            "community", "Recovery Outside", gf, 700.0, "EUR",
            rollout=(("Probation Service", 2019),), base_logit=-0.8,
            log_hr_active=math.log(0.80), logit_drug_dependent=1.5,
            only_offenses=("drug",), release_types=("non_custodial",),
            dropout_probability=0.3, duration_days=(180, 365), start_delay_days=(0, 14),
            hours=120,
        ),
    )


@dataclass(frozen=True)
class DemoModel:
    """The whole generating model of the demo country."""

    country: str = "Republic of Meridia (fictional)"
    calendar: Calendar = field(default_factory=Calendar)
    population: Population = field(default_factory=Population)
    hazard: RearrestHazard = field(default_factory=RearrestHazard)
    justice: JusticeProcess = field(default_factory=JusticeProcess)
    exits: Exits = field(default_factory=Exits)
    facilities: tuple[Facility, ...] = field(default_factory=default_facilities)
    programs: tuple[Program, ...] = field(default_factory=default_programs)
    #: The services directory and referrals (analysis/demo/services_model.py).
    services: ServicesModel = field(default_factory=ServicesModel)

    def __post_init__(self):
        self.services.check_regions(self.population.regions)

    def program(self, program_id: str) -> Program:
        for program in self.programs:
            if program.program_id == program_id:
                return program
        raise KeyError(program_id)

    def facility_index(self, name: str) -> int:
        return [f.name for f in self.facilities].index(name)

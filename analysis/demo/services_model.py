"""The demo country's services directory and who is referred to it, as frozen dataclasses.

The directory (``providers.csv``, ``services.csv``) is a fixed catalogue with designed
gaps (docs/demo-data.md): no drug treatment in Highlands, Western Hills (its only one
closed in 2022) and Desert South; drug treatment and vocational training below the
demand in some regions; three services for women only, all in the Capital; housing,
drug treatment and vocational training offered to men only where women are released.

Capacities are not fixed numbers: a service's yearly capacity is ``capacity_ratio``
times the releases of its regions in the 12 months before the cutoff (for a type with a
need proxy, those with the need: drug offence for drug treatment and opioid
substitution, under 25 for education and vocational training), so the designed
shortages hold whatever the size of the demo.

Referrals (:class:`ReferralModel`) are drawn after the re-arrests and have **no effect**
on them: the true hazard ratio of reaching any service is 1. People at lower risk of
re-arrest are more likely to reach and complete a service, so a naive comparison
flatters services (docs/demo-data.md, "Referrals").

Examples
--------
>>> services = default_services()
>>> sorted({s.regions for s in services if s.service_type == "identity_documents"})
[('all',)]
>>> [s.service_id for s in services if s.sex_served == "women"]
['SRV-HOU-02', 'SRV-FAM-02', 'SRV-PSY-04']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from analysis.contract import ALL_REGIONS, PROVIDER_KINDS, SERVICE_TYPES, SEX_SERVED
from analysis.errors import AnalysisError

#: Need proxy of the service types whose capacity is set (and compared) against a need.
CAPACITY_NEED: dict[str, str] = {
    "drug_treatment": "drug_offence", "opioid_substitution": "drug_offence",
    "education": "under_25", "vocational_training": "under_25",
}


@dataclass(frozen=True)
class ProviderSpec:
    """An organisation and its public contact details (never a member of its staff)."""

    provider_id: str
    name: str
    kind: str
    phone: str
    email: str
    address: str
    website: str = ""

    def __post_init__(self):
        if self.kind not in PROVIDER_KINDS:
            raise AnalysisError(f"provider {self.provider_id}: kind {self.kind!r} is not one "
                                f"of {PROVIDER_KINDS}")


@dataclass(frozen=True)
class ServiceSpec:
    """A service of the directory; ``regions`` is ``("all",)`` for a national service."""

    service_id: str
    provider_id: str
    service_type: str
    name: str
    regions: tuple[str, ...]
    sex_served: str
    languages: tuple[str, ...]
    #: Capacity per year / releases (with the type's need) of its regions in the last
    #: 12 months; None: capacity unknown (the file leaves it empty).
    capacity_ratio: float | None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def __post_init__(self):
        for name, value, codes in (("service_type", self.service_type, SERVICE_TYPES),
                                   ("sex_served", self.sex_served, SEX_SERVED)):
            if value not in codes:
                raise AnalysisError(f"service {self.service_id}: {name} {value!r} is not one "
                                    f"of {codes}")
        if ALL_REGIONS in self.regions and len(self.regions) > 1:
            raise AnalysisError(f"service {self.service_id}: '{ALL_REGIONS}' must stand alone")

    @property
    def national(self) -> bool:
        return self.regions == (ALL_REGIONS,)


@dataclass(frozen=True)
class ReferralModel:
    """Who is referred after a release, where, when, and how far they get.

    ``risk`` below is the release's log relative re-arrest hazard from its covariates
    (:func:`analysis.demo.simulate._linear_predictor`) minus ``risk_centre``.
    """

    #: The referral register starts on this day; earlier releases have no referrals.
    register_from: dt.date = dt.date(2018, 1, 1)
    #: Logit of being referred at all after a release.
    referred_logit: float = -0.95
    referred_logit_conditional: float = 0.5
    referred_logit_drug_offence: float = 0.4
    #: Probabilities of 1, 2 and 3 referrals for a referred release.
    referrals_per_release: tuple[float, ...] = (0.55, 0.30, 0.15)
    #: Share of first referrals made at the gate (0 to 14 days after release); the others
    #: come an exponential time later (mean in days); later referrals follow the previous.
    at_the_gate_share: float = 0.45
    gate_days: int = 14
    first_referral_mean_days: float = 90.0
    next_referral_mean_days: float = 60.0
    risk_centre: float = 0.25
    #: Service types weights (base) and multipliers for people with a need.
    type_weights: tuple[tuple[str, float], ...] = (
        ("drug_treatment", 0.4), ("opioid_substitution", 0.1), ("hiv", 0.3),
        ("tuberculosis", 0.2), ("hepatitis", 0.2), ("mental_health", 0.6), ("housing", 2.0),
        ("employment", 3.0), ("vocational_training", 0.8), ("education", 0.4),
        ("legal_aid", 1.2), ("family_support", 0.8), ("identity_documents", 1.5),
        ("financial_aid", 1.0), ("psychosocial_support", 1.2), ("disengagement", 0.01),
    )
    #: (need, service type, multiplier); needs: drug_offence, under_25, women,
    #: violent_extremism.
    need_multipliers: tuple[tuple[str, str, float], ...] = (
        ("drug_offence", "drug_treatment", 10.0), ("drug_offence", "opioid_substitution", 12.0),
        ("drug_offence", "hiv", 3.0), ("drug_offence", "hepatitis", 3.0),
        ("drug_offence", "tuberculosis", 2.0), ("under_25", "education", 6.0),
        ("under_25", "vocational_training", 3.0), ("women", "family_support", 3.0),
        ("women", "housing", 1.5), ("violent_extremism", "disengagement", 400.0),
    )
    #: Probability that a service answers "no place": services of a type compared with a
    #: need whose capacity ratio is below 1 (designed shortages), and the others.
    p_not_available_short: float = 0.35
    p_not_available: float = 0.05
    declined_logit: float = -2.0
    declined_logit_per_risk: float = 0.8
    #: Reaching the service: lower risk, more likely (the selection that flatters services).
    reached_logit: float = 1.0
    reached_logit_per_risk: float = -2.0
    #: Days from referral to first contact: 1 + Gamma(shape, mean) with
    #: mean = base + per_day_since_release x days from release to the referral.
    contact_gamma_shape: float = 2.0
    contact_mean_days: float = 5.0
    contact_mean_per_day_since_release: float = 0.08
    completed_logit: float = 0.4
    completed_logit_per_risk: float = -0.8
    #: Length of a completed service (uniform days); completion must fit before the end of
    #: the person's time in the community and the cutoff, else the status stays attended.
    service_days: tuple[int, int] = (30, 180)
    #: Share of referrals written without their release_id.
    p_release_id_missing: float = 0.1
    #: True log hazard ratio of re-arrest after reaching a service: none.
    log_hr_reached: float = 0.0


def _p(provider_id, name, kind, phone, slug, address) -> ProviderSpec:
    return ProviderSpec(provider_id, name, kind, phone, f"contact@{slug}.example", address,
                        f"https://www.{slug}.example")


def default_providers() -> tuple[ProviderSpec, ...]:
    gov, ngo, intl, priv = PROVIDER_KINDS
    return (
        _p("PRV-01", "Ministry of Health: Addiction Treatment Service", gov,
           "+000 21 555 0101", "addiction-health-meridia", "Health Campus, Block C, Meridia City"),
        _p("PRV-02", "Ministry of Justice: Probation and Reintegration Directorate", gov,
           "+000 21 555 0202", "probation-meridia", "3 Court Square, Meridia City"),
        _p("PRV-03", "Ministry of Interior: Civil Registry Office", gov,
           "+000 21 555 0303", "civil-registry-meridia", "1 Registry Road, Meridia City"),
        _p("PRV-04", "National Employment Agency", gov, "+000 21 555 0404",
           "employment-agency-meridia", "40 Labour Avenue, Meridia City"),
        _p("PRV-05", "Ministry of Social Affairs: Social Housing Office", gov,
           "+000 21 555 0505", "social-housing-meridia", "8 Welfare Street, Meridia City"),
        _p("PRV-06", "Ministry of Education: Second Chance Schools", gov, "+000 21 555 0606",
           "second-chance-schools-meridia", "22 School Lane, Meridia City"),
        _p("PRV-07", "National Mental Health Centre", gov, "+000 21 555 0707",
           "mental-health-centre-meridia", "Hospital Road, Meridia City"),
        _p("PRV-08", "National Vocational Training Agency", gov, "+000 21 555 0808",
           "vocational-agency-meridia", "15 Workshop Street, Meridia City"),
        _p("PRV-09", "New Dawn Association", ngo, "+000 32 555 0909", "new-dawn",
           "Office 2, 7 Harbour Street, Port Alva"),
        _p("PRV-10", "Women's Refuge Network", ngo, "+000 21 555 1010", "womens-refuge",
           "PO Box 110, Meridia City"),
        _p("PRV-11", "Open Doors Reentry Association", ngo, "+000 45 555 1111", "open-doors",
           "19 Mill Road, Vellan"),
        _p("PRV-12", "Bar Association Legal Aid Service", ngo, "+000 800 555 012",
           "legal-aid-bar", "Bar House, 5 Justice Street, Meridia City"),
        _p("PRV-13", "Meridian Red Crescent Society", ngo, "+000 61 555 1313", "red-crescent",
           "Relief Centre, Oasis Road, Dunmar"),
        _p("PRV-14", "Families Together", ngo, "+000 52 555 1414", "families-together",
           "Community Hall, 3 Market Square, Eastmarch"),
        _p("PRV-15", "Positive Life Network", ngo, "+000 21 555 1515", "positive-life",
           "Clinic 4, 60 Garden Street, Meridia City"),
        _p("PRV-16", "Hill Country Community Centre", ngo, "+000 71 555 1616", "hill-centre",
           "2 Pine Street, Westholm"),
        _p("PRV-17", "International Organization for Reintegration: Meridia Office", intl,
           "+000 21 555 1717", "ior-meridia", "UN House, 1 Embassy Row, Meridia City"),
        _p("PRV-18", "Global Health Partnership: Meridia Country Office", intl,
           "+000 21 555 1818", "ghp-meridia", "UN House, 1 Embassy Row, Meridia City"),
        _p("PRV-19", "Exit Pathways Mentoring Programme", intl, "+000 21 555 1919",
           "exit-pathways", "Floor 3, 9 Liberty Avenue, Meridia City"),
        _p("PRV-20", "Meridia Builders Ltd: Second Chance Hiring", priv, "+000 21 555 2020",
           "meridia-builders", "Industrial Zone, Gate 4, Meridia City"),
        _p("PRV-21", "Sunrise Recovery Clinic", priv, "+000 21 555 2121", "sunrise-clinic",
           "44 Cedar Avenue, Meridia City"),
        _p("PRV-22", "Coastal Logistics Apprenticeships", priv, "+000 33 555 2222",
           "coastal-logistics", "Port Gate 2, Salis"),
    )


_CAP, _NC, _SC, _HL = "Capital", "North Coast", "South Coast", "Highlands"
_RV, _EP, _WH, _DS = "River Valley", "Eastern Plains", "Western Hills", "Desert South"
_ALL = (ALL_REGIONS,)
_D = dt.date


#: When the services of each provider began, for services whose line gives no date:
#: every service has a start date, most before the data.
_RUNNING_SINCE: dict[str, dt.date] = {
    "PRV-01": _D(2009, 1, 1), "PRV-02": _D(2012, 7, 1), "PRV-03": _D(2005, 1, 1),
    "PRV-04": _D(2010, 3, 1), "PRV-05": _D(2011, 1, 1), "PRV-06": _D(2014, 9, 1),
    "PRV-07": _D(2008, 1, 1), "PRV-08": _D(2013, 1, 1), "PRV-09": _D(2015, 5, 1),
    "PRV-10": _D(2016, 3, 8), "PRV-11": _D(2014, 1, 1), "PRV-12": _D(2013, 6, 1),
    "PRV-13": _D(2012, 1, 1), "PRV-14": _D(2017, 9, 1), "PRV-15": _D(2016, 12, 1),
    "PRV-16": _D(2018, 4, 1), "PRV-17": _D(2016, 1, 1), "PRV-18": _D(2017, 1, 1),
    "PRV-19": _D(2019, 1, 1), "PRV-20": _D(2018, 10, 1), "PRV-21": _D(2019, 6, 1),
    "PRV-22": _D(2020, 2, 1),
}
#: Donor-funded services with a planned end after the cutoff (still open on it).
_FUNDED_UNTIL: dict[str, dt.date] = {
    "SRV-HIV-01": _D(2026, 12, 31), "SRV-HIV-02": _D(2026, 12, 31),
    "SRV-TB-01": _D(2027, 12, 31), "SRV-HEP-01": _D(2026, 3, 31),
    "SRV-EMP-03": _D(2026, 12, 31), "SRV-EMP-04": _D(2027, 8, 31),
    "SRV-VOC-03": _D(2026, 6, 30), "SRV-FIN-02": _D(2026, 6, 30),
    "SRV-PSY-02": _D(2026, 6, 30), "SRV-DIS-01": _D(2026, 9, 30),
}


def default_services() -> tuple[ServiceSpec, ...]:
    return tuple(
        replace(s, valid_from=s.valid_from or _RUNNING_SINCE[s.provider_id],
                valid_to=s.valid_to or _FUNDED_UNTIL.get(s.service_id))
        for s in _listed_services()
    )


def _listed_services() -> tuple[ServiceSpec, ...]:
    S = ServiceSpec
    return (
        # Drug treatment: none in Highlands and Desert South; Western Hills' closed in 2022;
        # North Coast and Eastern Plains below demand; Eastern Plains for men only.
        S("SRV-DRG-01", "PRV-01", "drug_treatment", "Outpatient addiction clinic", (_CAP,),
          "both", ("ar", "fr", "en"), 0.9),
        S("SRV-DRG-02", "PRV-21", "drug_treatment", "Residential recovery programme", (_CAP,),
          "men", ("fr", "en"), 0.3),
        S("SRV-DRG-03", "PRV-09", "drug_treatment", "Harbour recovery centre", (_NC,), "both",
          ("fr", "ar"), 0.55),
        S("SRV-DRG-04", "PRV-01", "drug_treatment", "Addiction clinic of Salis", (_SC,), "both",
          ("ar", "fr"), 1.3),
        S("SRV-DRG-05", "PRV-01", "drug_treatment", "Addiction clinic of Vellan", (_RV,), "both",
          ("sr", "ru"), 1.1, _D(2019, 3, 1)),
        S("SRV-DRG-06", "PRV-01", "drug_treatment", "Men's addiction ward of Eastmarch", (_EP,),
          "men", ("ru", "sr"), 0.7),
        S("SRV-DRG-07", "PRV-01", "drug_treatment", "Addiction clinic of Westholm", (_WH,),
          "both", ("sr",), 0.8, _D(2017, 1, 1), _D(2022, 12, 31)),
        S("SRV-OST-01", "PRV-01", "opioid_substitution", "Methadone programme", (_CAP,), "both",
          ("ar", "fr", "en"), 0.25),
        S("SRV-OST-02", "PRV-09", "opioid_substitution", "Buprenorphine programme", (_NC,),
          "both", ("fr", "ar"), 0.2, _D(2024, 10, 1)),
        # Infectious diseases.
        S("SRV-HIV-01", "PRV-15", "hiv", "HIV testing and care", (_CAP, _SC), "both",
          ("ar", "fr", "en"), None),
        S("SRV-HIV-02", "PRV-18", "hiv", "Mobile HIV clinic", (_HL, _DS), "both", ("ar", "en"),
          None),
        S("SRV-TB-01", "PRV-18", "tuberculosis", "Tuberculosis screening and treatment",
          (_CAP, _HL, _DS, _WH), "both", ("ar", "sr", "en"), None),
        S("SRV-HEP-01", "PRV-18", "hepatitis", "Hepatitis C treatment", (_CAP,), "both",
          ("ar", "fr", "en"), None),
        S("SRV-HEP-02", "PRV-15", "hepatitis", "Hepatitis clinic of Port Alva", (_NC,), "both",
          ("fr",), 0.03, _D(2017, 1, 1), _D(2023, 6, 30)),
        S("SRV-MH-01", "PRV-07", "mental_health", "Community mental health team", (_CAP,),
          "both", ("ar", "fr", "en"), 0.06),
        S("SRV-MH-02", "PRV-07", "mental_health", "Highlands mental health outpost", (_HL,),
          "both", ("ar",), None),
        # Housing: the only place for women is the Capital's refuge.
        S("SRV-HOU-01", "PRV-05", "housing", "Men's transition hostel", (_CAP,), "men",
          ("ar", "fr"), 0.08),
        S("SRV-HOU-02", "PRV-10", "housing", "Women's refuge", (_CAP,), "women",
          ("ar", "fr", "en"), 0.01),
        S("SRV-HOU-03", "PRV-05", "housing", "Men's hostel of Port Alva", (_NC,), "men",
          ("fr",), 0.06),
        S("SRV-HOU-04", "PRV-05", "housing", "Men's hostel of Salis", (_SC,), "men", ("ar",),
          0.05),
        S("SRV-HOU-05", "PRV-11", "housing", "Supported housing", (_RV,), "both", ("sr", "ru"),
          0.07),
        # Work and training.
        S("SRV-EMP-01", "PRV-04", "employment", "Job placement desk",
          (_CAP, _NC, _SC, _RV, _EP), "both", ("ar", "fr", "ru", "sr"), 0.12),
        S("SRV-EMP-02", "PRV-20", "employment", "Second chance hiring", (_CAP, _NC), "men",
          ("ar", "fr"), 0.03),
        S("SRV-EMP-03", "PRV-17", "employment", "Reintegration grants and jobs", (_EP,), "both",
          ("ru", "sr", "en"), 0.08),
        S("SRV-EMP-04", "PRV-17", "employment", "Desert South jobs programme", (_DS,), "both",
          ("ar", "en"), 0.10, _D(2024, 9, 1)),
        S("SRV-EMP-05", "PRV-11", "employment", "Work readiness workshop", (_CAP, _RV), "both",
          ("ar", "sr"), 0.04),
        S("SRV-VOC-01", "PRV-08", "vocational_training", "Vocational courses", (_CAP,), "both",
          ("ar", "fr"), 0.8),
        S("SRV-VOC-02", "PRV-08", "vocational_training", "Vocational courses of Vellan", (_RV,),
          "both", ("sr", "ru"), 1.2, _D(2025, 1, 15)),
        S("SRV-VOC-03", "PRV-17", "vocational_training", "Skills for reintegration", (_EP,),
          "both", ("ru", "en"), 1.0),
        S("SRV-VOC-04", "PRV-22", "vocational_training", "Port logistics apprenticeships",
          (_SC,), "men", ("ar", "fr"), 0.4),
        S("SRV-EDU-01", "PRV-06", "education", "Second chance school", (_CAP,), "both",
          ("ar", "fr"), 1.1),
        S("SRV-EDU-02", "PRV-06", "education", "Second chance school of Port Alva", (_NC,),
          "both", ("fr",), 0.5),
        S("SRV-EDU-03", "PRV-06", "education", "Second chance school of Crestmoor", (_HL,),
          "both", ("ar",), 1.3),
        S("SRV-EDU-04", "PRV-06", "education", "Second chance school of Westholm", (_WH,),
          "both", ("sr",), 0.9),
        # Rights and papers: national services.
        S("SRV-LEG-01", "PRV-12", "legal_aid", "Legal aid hotline", _ALL, "both",
          ("ar", "fr", "ru", "sr", "en"), None),
        S("SRV-LEG-02", "PRV-12", "legal_aid", "Legal aid clinic", (_CAP,), "both",
          ("ar", "fr"), None),
        S("SRV-ID-01", "PRV-03", "identity_documents", "Identity card and civil papers", _ALL,
          "both", ("ar", "fr", "ru", "sr"), None),
        S("SRV-FIN-01", "PRV-02", "financial_aid", "Release grant", _ALL, "both",
          ("ar", "fr", "ru", "sr"), 0.1),
        S("SRV-FIN-02", "PRV-13", "financial_aid", "Emergency relief", (_HL, _DS, _WH), "both",
          ("ar", "sr"), None),
        # Family and psychosocial support.
        S("SRV-FAM-01", "PRV-14", "family_support", "Family mediation", (_EP, _RV), "both",
          ("ru", "sr"), None),
        S("SRV-FAM-02", "PRV-10", "family_support", "Mothers and children support", (_CAP,),
          "women", ("ar", "fr"), 0.01),
        S("SRV-PSY-01", "PRV-02", "psychosocial_support", "Probation counselling",
          (_CAP, _NC, _SC, _RV, _EP), "both", ("ar", "fr", "ru", "sr"), 0.08),
        S("SRV-PSY-02", "PRV-13", "psychosocial_support", "Psychosocial first aid",
          (_HL, _DS, _WH), "both", ("ar", "sr"), None),
        S("SRV-PSY-03", "PRV-16", "psychosocial_support", "Men's peer support group", (_WH,),
          "men", ("sr",), None),
        S("SRV-PSY-04", "PRV-10", "psychosocial_support", "Women's counselling", (_CAP,),
          "women", ("ar", "fr", "en"), 0.01),
        S("SRV-DIS-01", "PRV-19", "disengagement", "Exit mentoring", (_CAP, _EP), "men",
          ("ar", "ru", "en"), 0.01),
    )


@dataclass(frozen=True)
class ServicesModel:
    """The services directory and the referral model of the demo."""

    providers: tuple[ProviderSpec, ...] = field(default_factory=default_providers)
    services: tuple[ServiceSpec, ...] = field(default_factory=default_services)
    referrals: ReferralModel = field(default_factory=ReferralModel)

    def check_regions(self, regions: tuple[str, ...]) -> None:
        """Refuse a service in a region the population does not have, or an unknown
        provider (the importer would reject the files)."""
        known = {p.provider_id for p in self.providers}
        for s in self.services:
            unknown = set(s.regions) - set(regions) - {ALL_REGIONS}
            if unknown or s.provider_id not in known:
                raise AnalysisError(f"service {s.service_id}: unknown region(s) "
                                    f"{sorted(unknown)} or provider {s.provider_id!r}")

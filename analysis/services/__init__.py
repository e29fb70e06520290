"""Post-release services: coverage of each release region and referral follow-through.

* :mod:`analysis.services.vocabulary`: need proxies, the need each service type meets,
  gap reasons;
* :mod:`analysis.services.coverage`: :func:`~analysis.services.coverage.services_coverage`;
* :mod:`analysis.services.follow_through`:
  :func:`~analysis.services.follow_through.referral_follow_through`.

Reaching a service as a time-varying exposure (``service:<type>``, ``service:any``) lives
in :mod:`analysis.survival.service_exposure`; definitions and worked examples in
``docs/services.md``. Submodules are imported on use.
"""

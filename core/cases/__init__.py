"""Cases (办件): applying, the one-time correction, acceptance, review, approval, issuing and
delivery on a working-day clock; materials, notices, e-licenses, fees, and a hash-chained
trail. See docs/cases.md.

Modules: ``models``; ``service`` (the applicant's side) and ``actions`` (staff); ``engine``
(steps and deadlines); ``clock``; ``trail``; ``materials``; ``documents`` (notices);
``licenses``; ``fees``; ``delivery``; ``numbers``; ``queries``; ``access``.
"""

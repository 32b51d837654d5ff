"""``switch_profile``: move a store to another profile after checking what no longer fits."""

from __future__ import annotations

from typing import Any

import attrs

from ..errors import ValidationError
from ..registry import registry
from ._check import Problem


@attrs.frozen(kw_only=True)
class ProfileSwitch:
    """What :func:`switch_profile` found and did.

    ``problems`` lists every record that does not fit the new profile (a stage
    it lacks, a custom field it refuses, a ticket category or deal stage it
    does not know); ``switched`` says whether the store now uses ``new``.
    """

    old: str
    new: str
    checked: int
    problems: list[Problem]
    switched: bool


def switch_profile(crm: Any, name: str, *, dry_run: bool = False, force: bool = False) -> ProfileSwitch:
    """Check every record against profile ``name`` and, if all fit (or ``force``), make the store use it.

    Nothing but the store's profile setting changes: records that do not fit
    keep their values (fix them, or move them, before or after a forced
    switch). ``dry_run`` only reports. Switching with problems and without
    ``force`` raises ValidationError and changes nothing.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("profile", name, "must name an installed profile")
    new = registry(crm.pm, "profile").get(name.strip(), "profile")
    old = crm.profile
    problems: list[Problem] = []
    checked = 0
    stages = set(new.stage_names)
    for doc in crm.storage.scan("customers"):
        checked += 1
        if doc.get("stage") and doc["stage"] not in stages:
            problems.append(Problem(collection="customers", record_id=doc["id"],
                                    message=f"stage {doc['stage']!r} is not a stage of {new.name}"))
        try:
            new.check_fields(doc.get("fields") or {}, {})
        except ValidationError as err:
            problems.append(Problem(collection="customers", record_id=doc["id"], message=str(err)))
    for doc in crm.storage.scan("tickets"):
        checked += 1
        try:
            new.check_category(doc.get("category"))
        except ValidationError as err:
            problems.append(Problem(collection="tickets", record_id=doc["id"], message=str(err)))
    deal_stages = {stage.name for stage in new.deal_stages}
    for doc in crm.storage.scan("deals"):
        checked += 1
        if doc.get("stage") not in deal_stages:
            problems.append(Problem(collection="deals", record_id=doc["id"],
                                    message=f"deal stage {doc.get('stage')!r} is not a deal stage of {new.name}"))
    switched = False
    if not dry_run and new.name != old.name:
        if problems and not force:
            raise ValidationError("profile", new.name, f"{len(problems)} records do not fit profile {new.name}; "
                                                       "check with a dry run, fix them, or force the switch")
        with crm.transaction():
            crm.storage.set_meta("profile", new.name)
        crm.profile = new
        switched = True
    return ProfileSwitch(old=old.name, new=new.name, checked=checked, problems=problems, switched=switched)


__all__ = ["ProfileSwitch", "switch_profile"]

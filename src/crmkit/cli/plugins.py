"""``crmkit plugins`` and ``crmkit profiles``: what this installation can do."""

from __future__ import annotations

from typing import Any

import click

from ..plugins import PluginInfo, plugin_info
from ..profiles.base import Profile
from ..registry import registry
from .context import AppContext, pass_app
from .options import format_option
from .output import Block, Column, Fields, Lines, Table, render, render_record

PLUGIN_COLUMNS: list[Column] = ["name", "version", "hooks", "builtin"]


@click.command("plugins")
@format_option(("table", "json"))
@pass_app
def plugins(app: AppContext, fmt: str) -> None:
    """List the loaded plugins (built-ins included) and the hooks each implements."""
    render(plugin_info(app.pm), PLUGIN_COLUMNS, fmt, pm=app.pm, model=PluginInfo)


@click.command("profiles")
@pass_app
def profiles(app: AppContext) -> None:
    """Describe each installed profile: stages and allowed moves, deal stages, ticket categories, SLA, custom fields."""
    for number, profile in enumerate(registry(app.pm, "profile").values()):
        if number:
            click.echo("")
        render_record(profile, f"{profile.name}: {profile.title}", _sections(profile), "table")


def _sla_rows(profile: Profile) -> list[tuple[str, str, Any]]:
    rows = [("any", priority, target) for priority, target in profile.sla.items()]
    rows += [(level, priority, target) for level, targets in profile.sla_levels.items()
             for priority, target in targets.items()]
    return rows


def _clock_lines(profile: Profile) -> list[str]:
    lines = []
    hours = profile.business_hours
    if hours is None:
        lines.append("round the clock (every hour counts)")
    else:
        week = "; ".join(f"{day} {', '.join(f'{a}-{b}' for a, b in spans)}" for day, spans in hours.week.items()
                         if spans)
        lines.append(f"business hours ({hours.timezone}): {week}")
        if hours.holidays:
            lines.append(f"holidays: {', '.join(d.isoformat() for d in sorted(hours.holidays))}")
    if profile.sla_level_field:
        lines.append(f"service level from the custom field {profile.sla_level_field!r}")
    lines.append(f"at risk after {profile.sla_at_risk:.0%} of the allowed time")
    return lines


def _sections(profile: Profile) -> list[tuple[str, Block]]:
    return [
        ("About", Lines([profile.description] if profile.description else [])),
        ("Stages (in order)", Table(profile.stages, [
            "name", "kind", ("moves to", lambda s: ", ".join(profile.allowed_moves(s.name)) or "-"),
            ("first", lambda s: "*" if s.name == profile.initial_stage else ""),
        ])),
        ("Deal stages (pipeline order)", Table(profile.deal_stages, [
            "name", "label", ("probability", lambda s: f"{s.probability}%"), "kind",
        ])),
        ("Deals and the lifecycle", Fields([
            ("a won deal moves the customer to", profile.won_lifecycle_stage or "(no move)"),
            ("converting a lead moves them to", profile.lead_conversion_stage or "(no move)"),
        ])),
        ("Ticket categories", Lines([", ".join(profile.ticket_categories)] if profile.ticket_categories else [])),
        ("SLA targets (hours)", Table(_sla_rows(profile), [
            ("level", lambda row: row[0]), ("priority", lambda row: row[1]),
            ("first response", lambda row: f"{row[2].first_response_hours:g}"),
            ("resolution", lambda row: f"{row[2].resolution_hours:g}"),
        ])),
        ("SLA clock", Lines(_clock_lines(profile))),
        ("Custom fields", Table(profile.fields, [
            "name", "type", "required", ("choices", lambda f: f.choices), "sensitive", "help",
        ]) if profile.fields else Lines([])),
        ("Other custom fields", Lines(["allowed, stored as given" if profile.open_fields else "refused"])),
    ]

"""``crmkit plugins`` and ``crmkit profiles``: what this installation can do."""

from __future__ import annotations

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
        ("SLA targets (hours)", Table(list(profile.sla.items()), [
            ("priority", lambda item: item[0]),
            ("first response", lambda item: f"{item[1].first_response_hours:g}"),
            ("resolution", lambda item: f"{item[1].resolution_hours:g}"),
        ])),
        ("Custom fields", Table(profile.fields, [
            "name", "type", "required", ("choices", lambda f: f.choices), "sensitive", "help",
        ]) if profile.fields else Lines([])),
        ("Other custom fields", Lines(["allowed, stored as given" if profile.open_fields else "refused"])),
    ]

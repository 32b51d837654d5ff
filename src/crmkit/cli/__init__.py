"""The ``crmkit`` command line: a thin layer of click commands over the library.

Every command parses its options, makes one call on :class:`crmkit.CRM` (or
``crmkit.io``), and hands the result to :mod:`crmkit.cli.output`. Errors the
library raises on purpose (:class:`crmkit.CrmkitError`) are turned into one
line on stderr and exit code 1 in exactly one place, :class:`CrmkitGroup`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from .._version import __version__
from ..errors import CrmkitError, ImportRowsError, PluginError
from ..plugins import PluginManager, make_plugin_manager
from .context import AppContext

__all__ = ["CrmkitGroup", "build_cli", "main"]


class CrmkitGroup(click.Group):
    """The root group: turns every :class:`crmkit.CrmkitError` into ``Error: ...`` and exit 1.

    Sub-commands, plugin commands included, run inside the root's ``invoke``,
    so catching here once covers all of them. Usage errors keep click's exit 2.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImportRowsError as err:
            # An import refuses the whole file: every bad row is worth a line,
            # so the user can fix them all in one go.
            for line, message in err.problems:
                click.echo(f"line {line}: {message}", err=True)
            raise click.ClickException(
                f"{len(err.problems)} bad rows; nothing imported from {err.total} rows"
            ) from err
        except CrmkitError as err:
            raise click.ClickException(str(err)) from err


def build_cli(pm: PluginManager) -> click.Group:
    """Build the ``crmkit`` command tree for this plugin manager (built-ins first, then plugins)."""
    from . import (
        customer,
        demo,
        init,
        interaction,
        lifecycle,
        plugins,
        ticket,
        transfer,
    )

    @click.group("crmkit", cls=CrmkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--db", metavar="URL", help="Store to use: a path, tinydb:///path/crm.json or memory://. "
                  "Default: $CRMKIT_DB, then crmkit.toml in this or a parent directory, then the per-user store.")
    @click.option("--profile", metavar="NAME", help="Profile the store must use (default: the store's own).")
    @click.option("--user", metavar="NAME", help="Who is making the changes, for the event log "
                  "(default: $CRMKIT_USER or the login name).")
    @click.option("--region", metavar="CC", help="Country for phone numbers written without +, such as GB.")
    @click.version_option(__version__, prog_name="crmkit")
    @click.pass_context
    def root(ctx: click.Context, db: str | None, profile: str | None, user: str | None,
             region: str | None) -> None:
        """crmkit: customers, interactions, tickets and the customer lifecycle.

        Start with `crmkit init` in a folder, or try `crmkit demo`.
        """
        ctx.obj = AppContext(pm=pm, ctx=ctx, db=db, profile=profile, user=user, region=region)

    for command in (
        init.init,
        customer.customer,
        customer.contact,
        interaction.interaction,
        ticket.ticket,
        lifecycle.lifecycle,
        transfer.export,
        transfer.import_,
        plugins.plugins,
        plugins.profiles,
        demo.demo,
    ):
        root.add_command(command)
    pm.hook.crmkit_register_commands(cli=root)
    return root


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: build the plugin manager, then run the command line."""
    try:
        pm = make_plugin_manager()
    except PluginError as err:
        # No click context exists yet, so render the error the way click would.
        click.ClickException(str(err)).show()
        sys.exit(1)
    build_cli(pm).main(args=list(argv) if argv is not None else None, prog_name="crmkit")

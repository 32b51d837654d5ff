"""What every command gets: the plugin manager, the global options, and a lazily opened CRM."""

from __future__ import annotations

import click

from ..crm import CRM
from ..crm import open as open_crm
from ..plugins import PluginManager


class AppContext:
    """State shared by the commands of one invocation (``ctx.obj``).

    The CRM is opened on first use, so ``--help``, ``plugins`` and ``init``
    never touch a store, and it is registered with the root context so that
    it is closed when the command ends, whatever happens.
    """

    def __init__(self, *, pm: PluginManager, ctx: click.Context, db: str | None = None,
                 profile: str | None = None, user: str | None = None, region: str | None = None) -> None:
        self.pm = pm
        self.ctx = ctx
        self.db = db
        self.profile = profile
        self.user = user
        self.region = region
        self._crm: CRM | None = None

    @property
    def crm(self) -> CRM:
        """The store named by ``--db`` (or found by :func:`crmkit.config.locate_store`), opened once."""
        if self._crm is None:
            crm = open_crm(self.db, self.profile, pm=self.pm, actor=self.user, region=self.region)
            self._crm = self.ctx.with_resource(crm)
        return self._crm


#: Decorator giving a command callback the :class:`AppContext` as its first argument.
pass_app = click.make_pass_decorator(AppContext)

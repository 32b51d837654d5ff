"""Look after a store: copy it to another backend, check it, back it up, restore it, measure it.

The library behind ``crmkit db``. Scripts and the CLI call the same functions::

    from crmkit import maintenance

    report = maintenance.migrate(crm, "sqlite:///srv/crm.db")   # every record and event, verified
    problems = maintenance.check(crm)                            # [] when the store is sound
    maintenance.backup(crm, "crm-2024-06-01.crmkit.gz")          # one portable file
    maintenance.restore("crm-2024-06-01.crmkit.gz", "tinydb:///tmp/copy.json")
    maintenance.stats(crm).collections                           # {"customers": 12, ...}
    maintenance.switch_profile(crm, "retail", dry_run=True)      # what would not fit another profile

Everything works on the Storage protocol (:mod:`crmkit.storage.base`), so it
works the same on every backend, plugin backends included. Documents are
copied as they are stored: ids, versions, timestamps and the order of
insertion stay unchanged, and no event is written. Nothing here prints;
errors are :class:`~crmkit.errors.StorageError` (the store or file cannot be
used as asked) and :class:`~crmkit.errors.ValidationError` (a bad argument or a
file that is not a crmkit backup).

**Checksums.** :func:`collection_checksum` is the one definition used by
migrate, backup and restore: the SHA-256 of every document of the collection,
sorted by id (prefix, then number), each serialised as compact JSON with sorted
keys (orjson, UTF-8) and followed by a newline. Two stores hold the same
collection exactly when their checksums agree.
"""

from ._backup import BACKUP_FORMAT, BACKUP_VERSION, BackupReport, RestoreReport, backup, restore
from ._check import Problem, check
from ._common import BATCH, CollectionCheck, checksum_docs, collection_checksum, open_storage
from ._migrate import MigrationReport, migrate
from ._profile import ProfileSwitch, switch_profile
from ._stats import StoreStats, stats

__all__ = [
    "BACKUP_FORMAT", "BACKUP_VERSION", "BATCH", "BackupReport", "CollectionCheck", "MigrationReport", "Problem",
    "ProfileSwitch", "RestoreReport", "StoreStats", "backup", "check", "checksum_docs", "collection_checksum",
    "migrate", "open_storage", "restore", "stats", "switch_profile",
]

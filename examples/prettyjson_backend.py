"""A small crmkit storage backend: one pretty-printed JSON file, easy to read and diff.

This is the backend built step by step in docs/storage.md ("Writing a
backend"). It passes crmkit's storage conformance suite
(tests/docs/test_backend_walkthrough.py runs it). Use it as a starting point;
for real work the built-in tinydb backend is faster and does the same job.

Register it as a plugin and name a store with ``prettyjson:///path/crm.json``.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

import crmkit
from crmkit.errors import Conflict, NotFound, StorageError
from crmkit.storage.base import BackendSpec
from crmkit.storage.query import matches, sort_docs
from crmkit.storage.url import parse_store_url


def empty_state():
    return {"meta": {}, "counters": {}, "collections": {}}


class PrettyJSONStore:
    """Keeps the whole store in one indented JSON file."""

    def __init__(self, path):
        self.path = Path(path)
        self.url = f"prettyjson://{self.path}"
        self._lock = filelock.FileLock(f"{self.path}.lock", timeout=30)
        self._state = None  # the working copy while a transaction is open
        self._depth = 0

    # -- reading and writing the file --------------------------------------

    def _load(self):
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty_state()
        except OSError as err:
            raise StorageError(f"{self.path}: cannot read: {err.strerror}") from None
        try:
            state = json.loads(text)
        except json.JSONDecodeError as err:
            raise StorageError(f"{self.path} is not a crmkit store: {err}") from None
        if not isinstance(state, dict) or set(state) != {"meta", "counters", "collections"}:
            raise StorageError(f"{self.path} is not a crmkit store")
        return state

    def _save(self, state):
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        text = json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as err:
            raise StorageError(f"{self.path}: cannot write: {err.strerror}") from None

    # -- transactions -------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:  # nested: a savepoint on the working copy
            saved = copy.deepcopy(self._state)
            self._depth += 1
            try:
                yield
            except BaseException:
                self._state = saved
                raise
            finally:
                self._depth -= 1
            return
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StorageError(f"{self.path}: locked by another process") from None
        try:
            self._state = self._load()
            self._depth = 1
            yield
            self._save(self._state)
        finally:
            self._state = None
            self._depth = 0
            self._lock.release()

    def _read(self):
        return self._state if self._depth else self._load()

    def _docs(self, state, collection):
        return state["collections"].setdefault(collection, [])

    # -- reads ---------------------------------------------------------------

    def get(self, collection, record_id):
        for doc in self._read()["collections"].get(collection, []):
            if doc["id"] == record_id:
                return copy.deepcopy(doc)
        return None

    def get_many(self, collection, record_ids):
        by_id = {doc["id"]: doc for doc in self._read()["collections"].get(collection, [])}
        return [copy.deepcopy(by_id[i]) for i in record_ids if i in by_id]

    def scan(self, collection, where=None, order=(), limit=None):
        docs = [d for d in self._read()["collections"].get(collection, []) if matches(where, d)]
        docs = sort_docs(docs, order)
        return copy.deepcopy(docs if limit is None else docs[:limit])

    def count(self, collection, where=None):
        return len(self.scan(collection, where))

    def get_meta(self, key):
        return copy.deepcopy(self._read()["meta"].get(key))

    def all_meta(self):
        return copy.deepcopy(self._read()["meta"])

    def counters(self):
        return dict(self._read()["counters"])

    def collections(self):
        return [name for name, docs in self._read()["collections"].items() if docs]

    def exists(self):
        return self.path.exists()

    # -- writes --------------------------------------------------------------

    def insert(self, collection, docs):
        with self.transaction():
            stored = self._docs(self._state, collection)
            taken = {doc["id"] for doc in stored}
            for doc in docs:
                if doc["id"] in taken:
                    raise Conflict(doc["id"], f"already exists in {collection}")
                taken.add(doc["id"])
            stored.extend(copy.deepcopy(list(docs)))

    def _find(self, collection, record_id):
        for position, doc in enumerate(self._docs(self._state, collection)):
            if doc["id"] == record_id:
                return position, doc
        raise NotFound(collection, record_id)

    def replace(self, collection, doc, expected_version):
        with self.transaction():
            position, stored = self._find(collection, doc["id"])
            if stored["version"] != expected_version:
                raise Conflict(doc["id"], f"version is {stored['version']}, not {expected_version}")
            self._docs(self._state, collection)[position] = copy.deepcopy(doc)

    def delete(self, collection, record_id, expected_version=None):
        with self.transaction():
            position, stored = self._find(collection, record_id)
            if expected_version is not None and stored["version"] != expected_version:
                raise Conflict(record_id, f"version is {stored['version']}, not {expected_version}")
            del self._docs(self._state, collection)[position]

    def next_ids(self, prefix, n=1):
        with self.transaction():
            start = self._state["counters"].get(prefix, 0)
            self._state["counters"][prefix] = start + n
        return list(range(start + 1, start + n + 1))

    def bump_id(self, prefix, number):
        with self.transaction():
            counters = self._state["counters"]
            counters[prefix] = max(counters.get(prefix, 0), number)

    def set_meta(self, key, value):
        with self.transaction():
            self._state["meta"][key] = copy.deepcopy(value)

    def close(self):
        self._state = None


def open_prettyjson(url):
    scheme, path = parse_store_url(url)  # ("prettyjson", "/srv/crm.json")
    if not path.startswith("/"):
        path = os.path.abspath(path)
    return PrettyJSONStore(path)


@crmkit.hookimpl
def crmkit_storage_backends():
    return [
        BackendSpec(
            scheme="prettyjson",
            open=open_prettyjson,
            description="One indented JSON file, for stores kept under version control.",
        )
    ]

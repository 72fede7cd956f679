"""The counters in Redis, through a Django cache (`"store": "cache"`).

Each counter is one Redis string holding its `CounterState` as compact JSON,
under a key derived from the same digest the database store uses, with a time
to live that ends when nothing in it counts any more (the end of the valid
window or of the lockout, whichever is later): Redis never holds a client
longer than the rules remember it. An IP or username counter's key follows
from the IP group or username, so an unlock finds it directly; the counters of
IP-and-username pairs are also listed in one set per IP group and one per
username, which expire with them.

Updates are optimistic transactions: `WATCH` the client's keys, read them,
apply the rules of `policy` in Python, and write in `MULTI`/`EXEC`. If another
process or server changed one of the keys in between, Redis refuses the write
and the update starts again from the new state, so no two requests can both
spend the same try. Only Redis does that here: the cache must be Django's
`RedisCache` or django-redis' (not sharded); the system check
`wagtail_loginlimit.E020` refuses any other.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from .. import policy
from ..clients import (
    SCOPE_DEVICE,
    SCOPE_IP,
    SCOPE_NETWORK,
    SCOPE_PAIR,
    SCOPE_USERNAME,
    CounterKey,
)
from ..models import FailureCounter
from ..networks import limits_for
from . import base
from .errors import StoreUnavailable

PREFIX = "loginlimit"
# Conflicting updates of one client before the store gives up (and the login
# is handled like a store error). Each round lets one of the rivals through.
MAX_CONFLICTS = 200
# Counters read and deleted per round trip by an unlock.
BATCH = 500


def redis_client(cache) -> Any:
    """The Redis client behind a Django cache; ImproperlyConfigured for a cache
    that is not a single Redis server (or primary with replicas)."""
    from django.core.cache.backends.redis import RedisCache

    if isinstance(cache, RedisCache):
        # Writes go to the first server; read replicas would miss our writes.
        return cache._cache.get_client(write=True)
    try:
        from django_redis.cache import RedisCache as DjangoRedisCache
        from django_redis.client import DefaultClient
        from django_redis.client.sharded import ShardClient
    except ImportError:
        DjangoRedisCache = None
    if (
        DjangoRedisCache is not None
        and isinstance(cache, DjangoRedisCache)
        and isinstance(cache.client, DefaultClient)
        and not isinstance(cache.client, ShardClient)
    ):
        return cache.client.get_client(write=True)
    raise ImproperlyConfigured(
        f"{type(cache).__module__}.{type(cache).__name__} is not a Redis cache."
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# Field names in Redis; fields at their default value are left out.
_FIELDS = {
    "failures": "f",
    "last_failure": "lf",
    "locked_until": "lu",
    "is_long": "l",
    "pending": "p",
    "pending_since": "ps",
}


def encode(key: CounterKey, state: policy.CounterState) -> str:
    data: dict[str, Any] = {"s": key.scope}
    if key.ip_group:
        data["g"] = key.ip_group
    if key.username:
        data["u"] = key.username
    if key.entry_point:
        data["e"] = key.entry_point
    for field, short in _FIELDS.items():
        value = getattr(state, field)
        if value:
            data[short] = _iso(value) if isinstance(value, datetime) else value
    if state.tally:
        data["t"] = [list(entry) for entry in state.tally]
    return json.dumps(data, separators=(",", ":"))


def decode_state(data: dict) -> policy.CounterState:
    return policy.CounterState(
        failures=int(data.get("f", 0)),
        last_failure=_datetime(data.get("lf")),
        locked_until=_datetime(data.get("lu")),
        is_long=bool(data.get("l", False)),
        pending=int(data.get("p", 0)),
        pending_since=_datetime(data.get("ps")),
        tally=base.tally_of(data.get("t")),
    )


def _load(raw: bytes | None) -> dict | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None  # not ours, or damaged: counted afresh
    return data if isinstance(data, dict) else None


def as_counter(digest: str, data: dict) -> FailureCounter:
    """A counter read from Redis as an (unsaved) `FailureCounter`, the type the
    database store returns, so that callers need not know the store."""
    state = decode_state(data)
    return FailureCounter(
        key=digest,
        scope=data.get("s", ""),
        ip_group=data.get("g", ""),
        username=data.get("u", ""),
        entry_point=data.get("e", ""),
        failures=state.failures,
        last_failure=state.last_failure,
        locked_until=state.locked_until,
        is_long=state.is_long,
        pending=state.pending,
        pending_since=state.pending_since,
        tally=[list(entry) for entry in state.tally],
    )


def ttl_seconds(
    state: policy.CounterState, now: datetime, limits: policy.Limits
) -> int:
    """Seconds until nothing in `state` counts any more."""
    ends = [now]
    if state.last_failure is not None:
        ends.append(state.last_failure + limits.valid_duration)
    if state.locked_until is not None:
        ends.append(state.locked_until)
    if state.pending and state.pending_since is not None:
        ends.append(state.pending_since + policy.PENDING_TTL)
    return max(1, math.ceil((max(ends) - now).total_seconds()) + 1)


def longest_ttl(limits: policy.Limits) -> int:
    """An upper bound of any counter's time to live under `limits`: how long
    the index sets must outlive their newest member."""
    longest = max(limits.valid_duration, limits.long_duration, limits.lockout_duration)
    return math.ceil(
        (longest + policy.PENDING_TTL + timedelta(seconds=1)).total_seconds()
    )


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class CacheStore(base.CounterStore):
    name = "cache"

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias

    # --- keys ---

    @property
    def cache(self):
        return caches[self.alias]

    def client(self):
        return redis_client(self.cache)

    def counter_name(self, digest: str) -> str:
        return self.cache.make_key(f"{PREFIX}:c:{digest}")

    def counter_pattern(self) -> str:
        """A SCAN pattern for every counter (the cache's key prefix escaped)."""
        name = self.counter_name("")
        return "".join("\\" + c if c in "*?[]\\" else c for c in name) + "*"

    def index_names(self, key: CounterKey) -> list[str]:
        """The sets a counter is listed in: a pair's counter, and any counter
        of an entry point other than the login (its key does not follow from
        the IP group or username alone)."""
        if key.scope not in (SCOPE_PAIR, SCOPE_DEVICE) and not key.entry_point:
            return []
        names = []
        if key.ip_group:
            names.append(self.ip_index(key.ip_group))
        if key.username:
            names.append(self.username_index(key.username))
        return names

    def ip_index(self, ip_group: str) -> str:
        return self.cache.make_key(f"{PREFIX}:ip:{_hashed(ip_group)}")

    def username_index(self, username: str) -> str:
        return self.cache.make_key(f"{PREFIX}:user:{_hashed(username)}")

    # --- the operations ---

    def transaction(self) -> AbstractContextManager:
        return nullcontext()

    def begin_attempt(self, keys, now, limits) -> policy.Verdict:
        def change(states):
            return base.begin(keys, states, now, limits)

        return self._update(keys, now, limits, change)

    def peek(self, keys, now, limits) -> policy.Verdict:
        raws = self.client().mget([self.counter_name(key.digest) for key in keys])
        return base.judge(keys, [self._state(raw) for raw in raws], now, limits)

    def release(self, keys, now, limits) -> None:
        def change(states):
            return None, [
                base.give_back(key, state, now, limits)
                for key, state in zip(keys, states, strict=True)
            ]

        self._update(keys, now, limits, change, create=False)

    def add_failure(self, keys, now, limits, account=None) -> list[base.Outcome]:
        def change(states):
            outcomes = [
                base.fail(key, state, now, limits, account)
                for key, state in zip(keys, states, strict=True)
            ]
            return outcomes, [outcome.state for outcome in outcomes]

        return self._update(keys, now, limits, change)

    def forgive(self, keys, account, now, limits, *, release=False) -> list[int]:
        def change(states):
            pardoned = [
                base.pardon(key, state, account, now, limits, release)
                for key, state in zip(keys, states, strict=True)
            ]
            return [count for _, count in pardoned], [state for state, _ in pardoned]

        # Counters that are gone stay gone (`create=False`), like a release.
        return self._update(keys, now, limits, change, create=False)

    def _find(
        self, client, match: base.Match
    ) -> tuple[list[str], dict[str, list[str]]]:
        """The digests of the counters `match` may name (some may be gone), and
        the pair indexes searched for them with the digests each listed."""
        if match.digests is not None:
            return list(match.digests), {}
        if match.everything:
            prefix = len(self.counter_name(""))
            names = client.scan_iter(match=self.counter_pattern(), count=1000)
            return sorted({name.decode()[prefix:] for name in names}), {}
        if match.scopes is not None:
            scopes = match.scopes
            own = [
                *(CounterKey(SCOPE_IP, group, None) for group in scopes.ip_groups),
                *(CounterKey(SCOPE_NETWORK, net, None) for net in scopes.ip_groups),
                *(CounterKey(SCOPE_USERNAME, None, name) for name in scopes.usernames),
                *(CounterKey(SCOPE_PAIR, group, name) for group, name in scopes.pairs),
                *(
                    CounterKey(SCOPE_DEVICE, group, name)
                    for group, name in scopes.pairs
                ),
            ]
            indexes = sorted(
                {self.ip_index(group) for group in scopes.ip_groups}
                | {self.username_index(name) for name in scopes.usernames}
            )
        else:
            ip_group, username = match.ip_group, match.username
            if ip_group is not None and username is not None:
                return [
                    CounterKey(scope, ip_group, username).digest
                    for scope in (SCOPE_PAIR, SCOPE_DEVICE)  # a device: like a pair
                ], {}
            if ip_group is not None:
                # A network's counter is keyed by its text as an IP group is.
                own = [
                    CounterKey(SCOPE_IP, ip_group, None),
                    CounterKey(SCOPE_NETWORK, ip_group, None),
                ]
                indexes = [self.ip_index(ip_group)]
            else:
                own = [CounterKey(SCOPE_USERNAME, None, username)]
                indexes = [self.username_index(username or "")]
        # The pair indexes of many clients in one round trip.
        pipe = client.pipeline(transaction=False)
        for index in indexes:
            pipe.smembers(index)
        searched = {
            index: sorted(digest.decode() for digest in members)
            for index, members in zip(indexes, pipe.execute(), strict=True)
        }
        digests = {key.digest for key in own}
        for members in searched.values():
            digests.update(members)
        return sorted(digests), searched

    def counters(self, match: base.Match) -> list[FailureCounter]:
        client = self.client()
        digests, _ = self._find(client, match)
        found = []
        for start in range(0, len(digests), BATCH):
            batch = digests[start : start + BATCH]
            raws = client.mget([self.counter_name(digest) for digest in batch])
            found += [
                as_counter(digest, data)
                for digest, data in zip(batch, map(_load, raws), strict=True)
                if data is not None
            ]
        return found

    def clear(self, match: base.Match) -> list[FailureCounter]:
        client = self.client()
        digests, searched = self._find(client, match)
        counters = []
        for start in range(0, len(digests), BATCH):
            batch = digests[start : start + BATCH]
            names = [self.counter_name(digest) for digest in batch]
            # Read and delete in one MULTI: what is returned is what was deleted.
            pipe = client.pipeline(transaction=True)
            pipe.mget(names)
            pipe.delete(*names)
            raws = pipe.execute()[0]
            found = [
                as_counter(digest, data)
                for digest, data in zip(batch, map(_load, raws), strict=True)
                if data is not None
            ]
            self._forget_in_indexes(client, found)
            counters.extend(found)
        self._forget_searched(client, searched)
        return sorted(counters, key=lambda counter: counter.key)

    # --- helpers ---

    @staticmethod
    def _state(raw: bytes | None) -> policy.CounterState:
        data = _load(raw)
        return decode_state(data) if data is not None else policy.CounterState()

    def _update(
        self,
        keys: Sequence[CounterKey],
        now: datetime,
        limits: policy.Limits,
        change: Callable[[list[policy.CounterState]], tuple[Any, list | None]],
        *,
        create: bool = True,
    ):
        """Read the states of `keys`, `change` them and write them back, all or
        nothing, retrying when another request changed one in between."""
        from redis.exceptions import WatchError

        client = self.client()
        names = [self.counter_name(key.digest) for key in keys]
        for conflicts in range(MAX_CONFLICTS + 1):
            with client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(*names)
                    raws = pipe.mget(names)
                    result, states = change([self._state(raw) for raw in raws])
                    if states is None:
                        return result
                    pipe.multi()
                    for key, name, raw, state in zip(
                        keys, names, raws, states, strict=True
                    ):
                        if raw is None and not create:
                            continue
                        self._queue_write(pipe, key, name, state, now, limits)
                    pipe.execute()
                    return result
                except WatchError:
                    _back_off(conflicts)
        raise StoreUnavailable(
            self.name,
            RuntimeError(
                f"a counter was changed by other requests {MAX_CONFLICTS} times "
                "in a row"
            ),
        )

    def _queue_write(self, pipe, key, name, state, now, limits) -> None:
        limits = limits_for(key, limits)
        if base.is_void(state, now, limits):
            pipe.delete(name)
            return
        pipe.set(name, encode(key, state), ex=ttl_seconds(state, now, limits))
        index_ttl = longest_ttl(limits)
        for index in self.index_names(key):
            pipe.sadd(index, key.digest)
            pipe.expire(index, index_ttl)

    def _forget_in_indexes(self, client, counters) -> None:
        """Take deleted pair counters out of the sets that list them."""
        pipe = client.pipeline(transaction=False)
        for counter in counters:
            key = CounterKey(counter.scope, counter.ip_group, counter.username)
            for index in self.index_names(key):
                pipe.srem(index, counter.key)
        pipe.execute()

    @staticmethod
    def _forget_searched(client, searched: dict[str, list[str]]) -> None:
        """Empty the searched sets of what they listed when searched (expired
        counters included); a pair first counted since then stays listed."""
        pipe = client.pipeline(transaction=False)
        for index, digests in searched.items():
            for start in range(0, len(digests), BATCH):
                pipe.srem(index, *digests[start : start + BATCH])
            if len(pipe) >= BATCH:
                pipe.execute()
        pipe.execute()


def _back_off(conflicts: int) -> None:
    """After a few lost races, wait a random moment so rivals spread out."""
    if conflicts >= 3:
        # Jitter, not security: S311 does not apply.
        time.sleep(random.uniform(0, min(0.05, 0.001 * 2 ** min(conflicts, 6))))  # noqa: S311

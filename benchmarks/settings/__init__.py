"""The three sites the benchmarks compare, all built on the sandbox's settings:

- `plugin`: the sandbox as shipped (wagtail-loginlimit on django-axes);
- `axes`: the same site with plain django-axes, wired as axes' own docs say;
- `bare`: the same site with neither, for query counts.

Each sits behind the same trusted proxy (docs/deployment.md, "Behind a proxy"),
so the distributed-attack benchmark can send `X-Forwarded-For` addresses, and
each uses Django's default password hasher (PBKDF2 at full cost).
"""

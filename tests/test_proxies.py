"""Which IP address is counted, with and without reverse proxies.

By default only the TCP peer address (`REMOTE_ADDR`) is used: a client cannot
choose the address it is counted under by sending `X-Forwarded-For` or any other
header. Behind proxies, the site tells django-axes (through django-ipware) which
header its proxy sets and how many proxies, or which ones, sit in front of it;
then the real client address is counted, and whatever a client writes into the
left of `X-Forwarded-For` is never chosen. `docs/deployment.md` ("Behind a
proxy") is the recipe these tests follow.

The proxies are simulated in the request: nginx with
`proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;` appends the
address it received the connection from to whatever the client sent, and
connects to Django from its own address (here 127.0.0.1).
"""

from __future__ import annotations

import pytest
from axes.models import AccessFailureLog

from tests.conftest import PASSWORD, client_counters
from wagtail_loginlimit import known_devices, storage
from wagtail_loginlimit.models import Lockout

CLIENT = "203.0.113.7"
OTHER_CLIENT = "203.0.113.99"
NGINX = "127.0.0.1"  # nginx on the same host as gunicorn
LOAD_BALANCER = "10.0.0.2"  # a load balancer in front of that nginx

SPOOFED = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "1.1.1.1"]

# The settings docs/deployment.md gives for one nginx in front of Django.
ONE_PROXY = {
    "AXES_IPWARE_META_PRECEDENCE_ORDER": ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
    "AXES_IPWARE_PROXY_COUNT": 0,
    "IPWARE_STRICT": False,
}
# Two proxies (load balancer → nginx → Django): by count, or by the addresses of
# the proxies that show up in the header.
TWO_PROXIES_BY_COUNT = {
    "AXES_IPWARE_META_PRECEDENCE_ORDER": ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
    "AXES_IPWARE_PROXY_COUNT": 1,
    "IPWARE_STRICT": False,
}
TWO_PROXIES_BY_ADDRESS = {
    "AXES_IPWARE_META_PRECEDENCE_ORDER": ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
    "AXES_IPWARE_PROXY_TRUSTED_IPS": [LOAD_BALANCER],
    "IPWARE_STRICT": False,
}


def via_nginx(client_ip: str, sent: str | None = None) -> dict:
    """The request META that Django gets when nginx forwards `client_ip`'s
    request, which carried the `X-Forwarded-For: sent` header (or none)."""
    forwarded = f"{sent}, {client_ip}" if sent else client_ip
    return {"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": forwarded}


def via_load_balancer(client_ip: str, sent: str | None = None) -> dict:
    """Load balancer, then nginx: each appends the address it received from."""
    forwarded = f"{sent}, {client_ip}" if sent else client_ip
    return {
        "REMOTE_ADDR": NGINX,
        "HTTP_X_FORWARDED_FOR": f"{forwarded}, {LOAD_BALANCER}",
    }


@pytest.fixture
def post(client, db):
    def post(meta: dict, username="editor", password="wrong"):
        return client.post(
            "/admin/login/", {"username": username, "password": password}, **meta
        )

    return post


def counted_ips() -> set[str]:
    """The IP groups of the stored counters, whichever store holds them."""
    return {counter.ip_group for counter in client_counters()}


def logged_ips() -> set[str | None]:
    return set(AccessFailureLog.objects.values_list("ip_address", flat=True))


def assert_lockout_holds(post, meta_for, hasher_calls) -> None:
    """Four failures, each with another forged header, lock the client out; a
    fifth forged header and the right password do not get it back in."""
    for spoofed in SPOOFED[:4]:
        post(meta_for(spoofed))
    before = hasher_calls()
    response = post(meta_for(SPOOFED[4]), password=PASSWORD)
    assert response.status_code == 429
    assert hasher_calls() == before, "the password was checked during a lockout"


# --- no proxy configured (the default) ---


@pytest.mark.parametrize(
    "header",
    [
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_REAL_IP",
        "HTTP_FORWARDED",
        "HTTP_CLIENT_IP",
        "HTTP_CF_CONNECTING_IP",
        "HTTP_TRUE_CLIENT_IP",
    ],
)
def test_forwarding_headers_are_ignored_by_default(post, header):
    value = "for=198.51.100.1" if header == "HTTP_FORWARDED" else "198.51.100.1"
    post({"REMOTE_ADDR": CLIENT, header: value})

    assert counted_ips() == {CLIENT}
    assert logged_ips() == {CLIENT}


def test_rotating_forwarded_for_does_not_escape_a_lockout(post, user, hasher_calls):
    assert_lockout_holds(
        post,
        lambda spoofed: {"REMOTE_ADDR": CLIENT, "HTTP_X_FORWARDED_FOR": spoofed},
        hasher_calls,
    )
    assert counted_ips() == {CLIENT}
    assert set(Lockout.objects.values_list("ip_address", flat=True)) == {CLIENT}


def test_forwarded_for_cannot_unlock_someone_else(post, user, client):
    """Claiming a locked-out client's address does not touch that client's count."""
    for _ in range(4):
        post({"REMOTE_ADDR": CLIENT})
    post(
        {"REMOTE_ADDR": OTHER_CLIENT, "HTTP_X_FORWARDED_FOR": CLIENT},
        "editor",
        PASSWORD,
    )
    # The other client is another browser: it keeps its known-device cookie.
    del client.cookies[known_devices.COOKIE_NAME]

    assert post({"REMOTE_ADDR": CLIENT}).status_code == 429


# --- one nginx in front of Django ---


@pytest.fixture
def one_proxy(settings):
    for name, value in ONE_PROXY.items():
        setattr(settings, name, value)


def test_behind_nginx_the_client_address_is_counted(one_proxy, post, caplog):
    post(via_nginx(CLIENT))

    assert counted_ips() == {CLIENT}
    assert logged_ips() == {CLIENT}
    # The line fail2ban reads names the client, not the proxy.
    assert f"loginlimit failure ip={CLIENT} " in caplog.text


def test_behind_nginx_a_forged_leftmost_entry_is_not_counted(one_proxy, post):
    post(via_nginx(CLIENT, sent="198.51.100.1"))
    post(via_nginx(CLIENT, sent="198.51.100.2, 198.51.100.3"))
    post(via_nginx(CLIENT, sent="garbage, , ::1"))

    [counter] = client_counters()
    assert (counter.ip_group, counter.failures) == (CLIENT, 3)


def test_behind_nginx_rotating_forged_entries_do_not_escape_a_lockout(
    one_proxy, post, user, hasher_calls
):
    assert_lockout_holds(
        post, lambda spoofed: via_nginx(CLIENT, sent=spoofed), hasher_calls
    )
    assert counted_ips() == {CLIENT}


def test_behind_nginx_clients_are_not_lumped_together(one_proxy, post, user):
    """Not the proxy's address: one client's lockout leaves the others alone."""
    for _ in range(4):
        post(via_nginx(CLIENT))

    assert post(via_nginx(CLIENT), password=PASSWORD).status_code == 429
    response = post(via_nginx(OTHER_CLIENT), password=PASSWORD)
    assert response.status_code == 302  # logged in
    assert NGINX not in counted_ips()


def test_behind_nginx_a_login_resets_the_clients_own_count(one_proxy, post, user):
    for _ in range(3):
        post(via_nginx(CLIENT))
    assert counted_ips() == {CLIENT}

    assert post(via_nginx(CLIENT), password=PASSWORD).status_code == 302

    assert counted_ips() == set()


def test_behind_nginx_in_strict_mode_forgers_cannot_choose_either(
    settings, post, user, hasher_calls
):
    """django-ipware's default strict mode refuses a chain longer than the
    configured proxies: forged requests fall back to the proxy's own address.
    They cannot escape, but they share one count (see the docs)."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ONE_PROXY[
        "AXES_IPWARE_META_PRECEDENCE_ORDER"
    ]
    settings.AXES_IPWARE_PROXY_COUNT = 0

    post(via_nginx(OTHER_CLIENT))
    assert_lockout_holds(
        post, lambda spoofed: via_nginx(CLIENT, sent=spoofed), hasher_calls
    )
    assert counted_ips() == {OTHER_CLIENT, NGINX}


def test_proxy_count_one_behind_a_single_nginx_is_the_pitfall(settings, post):
    """`AXES_IPWARE_PROXY_COUNT = 1` with only one proxy, as often copied: honest
    clients all land on one shared "unknown" count and a forger picks its address.
    The deployment docs warn against exactly this; if this test starts failing,
    django-ipware changed its counting and the docs need another look."""
    for name, value in TWO_PROXIES_BY_COUNT.items():
        setattr(settings, name, value)

    post(via_nginx(CLIENT))
    post(via_nginx(OTHER_CLIENT))
    post(via_nginx(CLIENT, sent="198.51.100.1"))

    failures = {c.ip_group: c.failures for c in client_counters()}
    assert failures == {"unknown": 2, "198.51.100.1": 1}


def test_the_header_without_a_count_or_list_is_the_other_pitfall(settings, post):
    """Naming the header but neither a proxy count nor trusted proxies: django-ipware
    takes the first public address in the header, which is the client's own
    forged entry. The docs warn against this too."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ONE_PROXY[
        "AXES_IPWARE_META_PRECEDENCE_ORDER"
    ]

    post(via_nginx(CLIENT, sent="198.51.100.1"))

    assert counted_ips() == {"198.51.100.1"}


# --- a load balancer, then nginx ---


@pytest.mark.parametrize(
    "proxy_settings",
    [TWO_PROXIES_BY_COUNT, TWO_PROXIES_BY_ADDRESS],
    ids=["proxy-count", "trusted-ips"],
)
def test_behind_two_proxies_the_client_address_is_counted(
    settings, post, user, hasher_calls, proxy_settings
):
    for name, value in proxy_settings.items():
        setattr(settings, name, value)

    post(via_load_balancer(OTHER_CLIENT))
    assert_lockout_holds(
        post, lambda spoofed: via_load_balancer(CLIENT, sent=spoofed), hasher_calls
    )

    assert counted_ips() == {CLIENT, OTHER_CLIENT}
    assert logged_ips() == {CLIENT, OTHER_CLIENT}


def test_with_trusted_ips_a_request_that_bypassed_the_load_balancer_cannot_choose(
    settings, post
):
    """Someone reaching nginx directly (not through the trusted load balancer)
    gets no trusted chain: their forged entries are not believed."""
    for name, value in TWO_PROXIES_BY_ADDRESS.items():
        setattr(settings, name, value)

    post(via_nginx("192.0.2.66", sent=f"198.51.100.1, {LOAD_BALANCER}"))
    post(via_nginx("192.0.2.66", sent="198.51.100.2"))

    assert "198.51.100.1" not in counted_ips()
    assert "198.51.100.2" not in counted_ips()
    assert sum(counter.failures for counter in client_counters()) == 2


def test_trusted_ips_name_one_hop_each_so_parallel_balancers_need_a_range(
    settings, post
):
    """`AXES_IPWARE_PROXY_TRUSTED_IPS` is read as one entry per hop, right end
    of the header first: two balancers side by side are one hop, written as one
    range. Listed as two addresses, neither balancer's requests resolve."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.IPWARE_STRICT = False

    def through(balancer: str, client_ip: str) -> dict:
        return {
            "REMOTE_ADDR": NGINX,
            "HTTP_X_FORWARDED_FOR": f"{client_ip}, {balancer}",
        }

    settings.AXES_IPWARE_PROXY_TRUSTED_IPS = ["10.0.0.0/24"]
    post(through("10.0.0.2", CLIENT))
    post(through("10.0.0.3", OTHER_CLIENT))
    assert counted_ips() == {CLIENT, OTHER_CLIENT}

    storage.clear_and_lift(everything=True)
    settings.AXES_IPWARE_PROXY_TRUSTED_IPS = ["10.0.0.2", "10.0.0.3"]
    post(through("10.0.0.2", CLIENT))
    post(through("10.0.0.3", OTHER_CLIENT))
    assert counted_ips() == {"unknown"}

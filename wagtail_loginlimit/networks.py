"""Networks: besides each client, the network its address belongs to is
counted (`network_retries`), so that rotating addresses inside one IPv4 /24 or
IPv6 /48 buys an attacker nothing but the network's own budget.

A network's counter is an ordinary counter of scope `clients.SCOPE_NETWORK`,
keyed by the network's text ("198.51.100.0/24"), in the login's namespace. It
follows the client's limits with `network_retries` as its allowed retries, and
it is counted under every lockout method: the attack is the rotation of
addresses, and a network's lockout never locks an account for everyone.
A success forgives it only the failures against the account that signed in
(the bounded tally of `policy`, as an address's counter): an attacker who owns
one account wipes nothing of its guesses against others. An unlock of the
network clears it.
"""

from __future__ import annotations

import ipaddress

from .clients import SCOPE_NETWORK, ClientIdentity, CounterKey, parse_ip
from .policy import Limits


def network_of(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    ipv4_network_prefix: int,
    ipv6_network_prefix: int,
) -> str | None:
    """The network `address` is counted in, as text; None without an address."""
    if address is None:
        return None
    prefix = ipv4_network_prefix if address.version == 4 else ipv6_network_prefix
    return str(ipaddress.ip_network((address, prefix), strict=False))


def network_key(
    client: ClientIdentity,
    *,
    network_retries: int,
    ipv4_network_prefix: int,
    ipv6_network_prefix: int,
) -> CounterKey | None:
    """The counter of the client's network, or None when networks are not
    counted (`network_retries` 0) or the address is unknown."""
    if not network_retries:
        return None
    network = network_of(client.address, ipv4_network_prefix, ipv6_network_prefix)
    if network is None:
        return None
    return CounterKey(scope=SCOPE_NETWORK, ip_group=network, username=None)


def limits_for(key: CounterKey, limits: Limits) -> Limits:
    """The limits counter `key` follows: a network's has `network_retries`."""
    if key.scope == SCOPE_NETWORK:
        return limits.for_network()
    return limits


def is_network(key: CounterKey) -> bool:
    return key.scope == SCOPE_NETWORK


def parse_network(text: str) -> str | None:
    """A network as typed by an admin ("198.51.100.0/24", "2001:db8::/48", or
    an address, taken as itself) in the form counters are keyed by; None when
    it is not a network."""
    text = (text or "").strip()
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        address = parse_ip(text)
        return None if address is None else str(ipaddress.ip_network(address))
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = parse_ip(str(network.network_address))
        if mapped is not None and mapped.version == 4:
            return str(
                ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
            )
    return str(network)

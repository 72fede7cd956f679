"""What differs between the Wagtail releases the plugin supports (the 7.4 LTS
and 8.x), found by testing for the feature rather than the version number, so
that the rest of the plugin reads as plain Wagtail code."""

from __future__ import annotations

from django.db.models import Model
from wagtail.permission_policies import BasePermissionPolicy

try:  # Wagtail 8: admin views look a model's permission policy up here.
    from wagtail.permissions import policy_registry, register_permission_policy
except ImportError:  # Wagtail 7.4: no registry; views only use their own policy.
    policy_registry = None
    register_permission_policy = None

HAS_POLICY_REGISTRY = policy_registry is not None

# The plugin's policies, per model, where Wagtail has no registry to keep them.
_policies: dict[type[Model], BasePermissionPolicy] = {}


def register_policy(model: type[Model], policy: BasePermissionPolicy) -> None:
    """Make `policy` the one Wagtail's admin views use for `model` (Wagtail 8),
    and the one `get_policy` returns (every version)."""
    if register_permission_policy is not None:
        register_permission_policy(model, policy)
    else:
        _policies[model] = policy


def get_policy(model: type[Model]) -> BasePermissionPolicy | None:
    """The policy registered for `model`, or None if there is none yet."""
    if policy_registry is not None:
        return policy_registry.get_by_type(model, fallback=False)
    return _policies.get(model)

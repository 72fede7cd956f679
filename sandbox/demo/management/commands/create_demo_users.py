"""Create the sandbox's demo accounts and print their credentials."""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

DEFAULT_PASSWORD = "changeme-demo"
EDITORS_GROUP = "Editors"


class Command(BaseCommand):
    help = (
        "Create the demo accounts 'admin' (superuser) and 'editor' (in the "
        "Editors group) if they do not exist, and print their credentials. The "
        "password is $LOGINLIMIT_DEMO_PASSWORD, or 'changeme-demo'."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Also set the password of existing demo accounts and make them "
            "active again (e.g. after trying out account deactivation).",
        )

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        password = os.environ.get("LOGINLIMIT_DEMO_PASSWORD") or DEFAULT_PASSWORD
        editors = self.editors_group()
        rows = [
            self.ensure_user("admin", password, reset, superuser=True),
            self.ensure_user("editor", password, reset, group=editors),
        ]

        self.stdout.write(
            "Demo accounts (sandbox only, never use these anywhere else):"
        )
        for username, role, state in rows:
            self.stdout.write(
                f"  {username:<8} password: {password:<16} {role} ({state})"
            )
        if any(state == "existing, unchanged" for _, _, state in rows):
            self.stdout.write(
                "  Existing accounts keep their password; "
                "`python sandbox/manage.py create_demo_users --reset` sets it again."
            )

    def editors_group(self):
        group, created = Group.objects.get_or_create(name=EDITORS_GROUP)
        if created:
            # Wagtail's migrations normally create this group; a new one at
            # least needs to reach the admin.
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label="wagtailadmin", codename="access_admin"
                )
            )
        return group

    def ensure_user(self, username, password, reset, superuser=False, group=None):
        User = get_user_model()
        role = "superuser" if superuser else f"{group.name} group"
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            fields = {User.USERNAME_FIELD: username, "email": f"{username}@example.com"}
            if superuser:
                user = User._default_manager.create_superuser(
                    password=password, **fields
                )
            else:
                user = User._default_manager.create_user(password=password, **fields)
            state = "created"
        elif reset:
            user.set_password(password)
            user.is_active = True
            user.save()
            state = "password reset, active"
        else:
            state = "existing, unchanged"
        if group is not None:
            user.groups.add(group)
        return username, role, state

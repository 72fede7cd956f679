"""The login-security screens of the Wagtail admin, one module per screen."""

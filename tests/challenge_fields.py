"""A stand-in for a third-party challenge field (django-recaptcha's,
hCaptcha's, Turnstile's), named by `challenge_field` in test_challenge.py.
Those check their answer with their service over the network, which these
machines cannot reach; what the plugin relies on is only that the field
validates (or raises) like any Django form field, which this one does."""

from django import forms
from django.core.exceptions import ValidationError


class AnswerField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(label="What is 2 + 2?", **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value.strip() != "4":
            raise ValidationError("Wrong answer.")
        return value


def not_a_field():
    """A callable that is no form field (check E022)."""
    return "nothing"

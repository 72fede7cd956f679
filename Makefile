# Developer shortcuts. The test suite itself runs with scripts/test.

.PHONY: messages compile-messages

# Update locale/<lang>/LC_MESSAGES/django.po from the source (de, fr, es, nl;
# LOCALES="de it" make messages for others), then translate the new entries.
messages:
	scripts/translations messages

# Compile every .po into the .mo files that are committed and shipped.
compile-messages:
	scripts/translations compile

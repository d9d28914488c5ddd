"""The REST API (django-ninja) and the personal access tokens that open it. It serves the
resources of every app, so it sits in the top one, as an app of its own (label `api`)."""

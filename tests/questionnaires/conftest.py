import pytest


@pytest.fixture
def importer(cast):
    """A team admin: admins (and members) import lenses into their team's library."""
    return cast.admin

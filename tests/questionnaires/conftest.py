import pytest
from django.contrib.auth.models import Permission


@pytest.fixture
def importer(cast):
    """A team admin who may import lenses."""
    cast.admin.user_permissions.add(Permission.objects.get(codename="add_lens"))
    return cast.admin

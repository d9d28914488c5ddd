"""Every URL that names a team's object answers 404 to a signed-in user of another team.

OUTSIDER_URLS lists a way to build each such URL; the first test fails when a view is added
without being listed here, so that no access rule goes untested."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from reviews.models import Membership

# URLs whose objects are not a team's (the lens library is shared by everyone).
SHARED_URLS = {"questionnaires:lens_detail", "questionnaires:lens_export"}


def member_pk(cast):
    return Membership.objects.get(team=cast.team, user=cast.viewer).pk


OUTSIDER_URLS = {
    "reviews:workload_detail": lambda c, r: [c.workload.uuid],
    "reviews:workload_edit": lambda c, r: [c.workload.uuid],
    "reviews:team_detail": lambda c, r: [c.team.uuid],
    "reviews:member_role": lambda c, r: [c.team.uuid, member_pk(c)],
    "reviews:member_remove": lambda c, r: [c.team.uuid, member_pk(c)],
    "reviews:session_detail": lambda c, r: [r.uuid],
}


def named_urls_with_uuids(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_urls_with_uuids(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name and "<uuid:" in str(entry.pattern):
            yield f"{namespace}{entry.name}"


def test_every_url_with_an_object_is_covered():
    uncovered = set(named_urls_with_uuids()) - set(OUTSIDER_URLS) - SHARED_URLS
    assert not uncovered, f"add these to OUTSIDER_URLS: {sorted(uncovered)}"


@pytest.mark.parametrize("name", sorted(OUTSIDER_URLS))
def test_outsider_gets_404(client, cast, review, name):
    url = reverse(name, args=OUTSIDER_URLS[name](cast, review))
    client.force_login(cast.outsider)
    assert client.get(url).status_code in (404, 405), url
    assert client.post(url, {}).status_code == 404, url

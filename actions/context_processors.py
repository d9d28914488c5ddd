from django.utils.functional import SimpleLazyObject

from actions.notifications import unread_count


def notifications(request) -> dict:
    """The bell's unread count: one indexed count, run only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}

from django.utils.functional import SimpleLazyObject

from dangjian.notices.selectors import unread_count


def notices(request):
    """`notices_unread` for the navbar's badge: the user's unread count, for authenticated users only, counted (one
    COUNT query) only when a template reads it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notices_unread": SimpleLazyObject(lambda: unread_count(user=user))}

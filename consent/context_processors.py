"""Values every page's layout needs."""

from django.urls import reverse


def language_switch(request):
    """Where the language switch returns to: the page itself when a GET can
    show it again, else home. After a failed POST to a POST-only view the
    path alone would answer 405. A class-based view declares the methods it
    answers; a function view does not, so it falls back to home."""
    if request.method in ("GET", "HEAD"):
        return {"language_next": request.get_full_path()}
    match = request.resolver_match
    view_class = getattr(match.func, "view_class", None) if match else None
    if view_class is not None and "get" in view_class.http_method_names and hasattr(view_class, "get"):
        return {"language_next": request.path}
    return {"language_next": reverse("home")}

"""Keep pages out of browser and proxy caches.

Every page this app generates is either someone's own (a decision, a
receipt, HR's queue, the union's inbox) or carries a CSRF token bound to the
browser, so none may be stored: a shared computer's back button or a proxy
would otherwise show it to the next person. Static files are served by
WhiteNoise before this middleware and keep their long caching.
"""

from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response

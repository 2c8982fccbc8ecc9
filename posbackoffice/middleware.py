"""Project-wide middleware that knows nothing of merchants."""

from django.utils.cache import patch_cache_control


class PrivatePagesMiddleware:
    """Every response we render is `Cache-Control: private, no-store`: staff pages show customers,
    payments and takings, and the customer pages under /card/ (and /pay/) a shop's customer; no shared
    cache, proxy or browser history may keep them. One place, so a new page cannot forget it. A view
    that already says more (never_cache's max-age=0, no-cache, must-revalidate) keeps it, with private
    and no-store added. Static files are served by WhiteNoise before this runs and keep their long-lived
    caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response

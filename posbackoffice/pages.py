"""Page helpers every app's views share (a plain module: a view never imports another app's views)."""

from functools import wraps

from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from posbackoffice.errors import DomainError

# A refused action's answer: the page or partial again, with the reason (htmx swaps 4xx answers too:
# templates/base.html's htmx-config).
REFUSED = 422


def render_page(request, template: str, context: dict, *, partial: str = "results", status: int = 200):
    """The page, or only its `partial` (a `{% partialdef %}` of the template) when htmx asks — unless it
    is a history restore (htmx's cache missed: the whole page is needed). Either way with `Vary:
    HX-Request`, so that no cache hands the partial for the page or the page for the partial."""
    wanted = request.htmx and not request.htmx.history_restore_request
    response = render(request, f"{template}#{partial}" if wanted else template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def refusals(respond):
    """The one way a view answers a refused action: a `DomainError` raised while the view runs (by the
    service it calls) is answered by `respond(request, message, *args, **kwargs)` — given the error's
    message, already in the reader's language, and the view's own arguments — which shows the message
    where the action was asked (the page, the partial, or a JSON answer); it answers REFUSED (422),
    unless `respond` redirects (without htmx the message then follows as a flash message).

        @refusals(lambda request, message: render(request, "form.html", {"error": message}))
        def action(request): ...
    """
    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except DomainError as refused:
                response = respond(request, refused.message, *args, **kwargs)
                if not response.has_header("Location"):
                    response.status_code = REFUSED
                return response

        return wrapper

    return decorate


def render_section_intro(request, title, description):
    """A section whose screens arrive with a later issue: its heading and what it will hold."""
    return render(request, "shell/section_intro.html", {"title": title, "description": description})

"""Page helpers every app's views share (a plain module: a view never imports another app's views)."""

from django.shortcuts import render


def render_section_intro(request, title, description):
    """A section whose screens arrive with a later issue: its heading and what it will hold."""
    return render(request, "shell/section_intro.html", {"title": title, "description": description})

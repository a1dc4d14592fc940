"""Serving the browser front ends that ``make`` builds into ``kefu/static/``."""

"""Benchmark settings: the product's settings plus a baseline URL (never enabled in production)."""

from arkwatch.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The reference views get the same middleware path as the tracking endpoints, and the
# CORS headers a landing page on another origin needs: the comparison is then between what the views
# do, not between middleware stacks.
CORS_URLS_REGEX = r"^/(api/track|api/page/|t/|bench/)"

"""Benchmark settings: the product's settings plus a baseline URL (never enabled in production)."""

from arkwatch.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The reference views get the same lean middleware path as the tracking endpoints: the comparison
# is then between what the views do, not between middleware stacks.
LEAN_URLS_REGEX = r"^/(api/track|api/track_visitor_audit_gratuit|api/track_cta_click|t|bench)(/.*)?$"

"""Benchmark settings: the product's settings plus a baseline URL (never enabled in production)."""

from arkwatch.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

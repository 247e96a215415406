"""The admin application with ArkWatch's site (backoffice/site.py) as its default site.

A module of its own: INSTALLED_APPS imports it before any model exists, and the site itself reads
the back office's pages' reads."""

from django.contrib.admin.apps import AdminConfig


class ArkWatchAdminConfig(AdminConfig):
    default_site = "backoffice.site.ArkWatchAdminSite"

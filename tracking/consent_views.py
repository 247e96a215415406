"""The page behind `consent_url` and `optout_url` (tracking/tokens.py): one button, in French.

Link scanners and image proxies (Microsoft Safe Links, mail gateways) fetch every link of an email, so
the GET only shows the page; the answer is the button's POST, a CSRF-protected form of this very page.
It is recorded with its proof (prospects/consent.py) and takes effect at once: the next fetch of any
pixel or link already sent asks the new answer. Rate- and size-limited like the other public endpoints;
a forged or altered token is a 404 page with a sentence, never a 5xx.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from core.client import client_info, client_ip
from prospects.consent import NOTICE_VERSION, consent_notice_context, network_with_prefix, prospect_consent_record
from prospects.models import ConsentSource, ConsentState, Prospect
from tracking.request_body import declared_length
from tracking.tokens import read_consent_token
from tracking.views import _limited

# A real token is about 60 characters; anything much longer is not one, and is not worth a signature check.
TOKEN_MAX_LENGTH = 300


def _page(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    return render(request, f"consent/{template}", {**consent_notice_context(), **context}, status=status)


def _refusal(request: HttpRequest, sentence: str, *, status: int) -> HttpResponse:
    return _page(request, "unavailable.html", {"sentence": sentence}, status=status)


@never_cache
@csrf_protect
def consent_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        response = _refusal(request, "Cette adresse s'ouvre dans un navigateur.", status=405)
        response["Allow"] = "GET, POST"
        return response
    ip = client_ip(request)
    if _limited(ip):
        return _refusal(request, "Trop de demandes depuis votre réseau : réessayez dans une minute.", status=429)
    read = read_consent_token(token) if len(token) <= TOKEN_MAX_LENGTH else None
    if read is None:
        return _refusal(
            request,
            "Ce lien n'est pas valide : il a peut-être été coupé ou modifié. Utilisez le lien complet de l'email.",
            status=404,
        )
    prospect_id, answer = read
    prospect = Prospect.objects.filter(pk=prospect_id).first()
    if prospect is None:
        return _refusal(
            request, "Ce lien ne correspond plus à personne : vos données ont déjà été effacées.", status=404
        )
    context = {"answer": answer, "granting": answer == ConsentState.GRANTED, "current": prospect.tracking_consent}
    if request.method != "POST":
        return _page(request, "page.html", context)
    declared = declared_length(request)
    if declared is None or declared > settings.TRACKING_MAX_BODY_BYTES:  # a length that is no number: too large
        return _refusal(request, "La demande est trop grande.", status=413)
    prospect_consent_record(
        prospect=prospect,
        state=answer,
        source=ConsentSource.CONSENT_LINK if answer == ConsentState.GRANTED else ConsentSource.OPTOUT_LINK,
        network=network_with_prefix(client_info(request, ip).network),
        notice_version=NOTICE_VERSION,
    )
    return _page(request, "done.html", context)

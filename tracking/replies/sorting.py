"""Sort a reply: bounce, auto-reply, unsubscribe, not interested, or a person — and say which words decided.

Order matters: a bounce often carries auto-reply headers too (Exim adds Auto-Submitted), and an
out-of-office quotes the founder's email, which may say "répondez STOP": the headers are read first,
then only the new text (above the quoted message) is read for a person's words.

Every rule gives the founder the words it saw ("Auto-Submitted: auto-replied", "« pas intéressé »"),
shown on the timeline, so that a wrong sort is seen and corrected by hand.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from tracking.replies.models import ReplyKind
from tracking.replies.reading import Letter


@dataclass(frozen=True)
class Sorted:
    kind: str
    reason: str
    back_on: date | None = None
    undeliverable: bool = False  # a bounce that says the address does not take mail (not a delay)


def _plain(text: str) -> str:
    """Lower case without accents, apostrophes unified: "Réponse automatique" -> "reponse automatique"."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode()
    return text.lower()


# --- bounces -------------------------------------------------------------------------------------------
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|mdaemon)@", re.I)
_BOUNCE_SUBJECTS = re.compile(
    r"undeliver|undelivered|delivery status notification|delivery (has )?fail|mail delivery fail|"
    r"failure notice|mail failure|returned mail|non remis|non distribue|remise impossible|"
    r"echec de (la )?(remise|distribution)|"
    r"delivery failure|delivery notification|mail delivery status|delivery status|could not be delivered|"
    r"message you sent blocked|nicht zustellbar|unzustellbar|error during delivery|undeliverable",
    re.I,
)


def _bounce(letter: Letter) -> Sorted | None:
    failed = [address for address, action in letter.dsn if action in ("failed", "")]
    if letter.report_type.lower() == "delivery-status" or "message/delivery-status" in letter.part_types:
        actions = sorted({action for _a, action in letter.dsn if action}) or ["failed"]
        undeliverable = bool(failed) or not letter.dsn
        return Sorted(
            ReplyKind.BOUNCE, f"Content-Type: multipart/report; Action: {', '.join(actions)}", None, undeliverable
        )
    sender = letter.sender
    subject = _plain(letter.subject)
    from_daemon = bool(_BOUNCE_SENDERS.match(sender)) or "mailer-daemon" in _plain(letter.header("From"))
    null_path = letter.header("Return-Path").strip() in ("<>", "")
    match = _BOUNCE_SUBJECTS.search(subject)
    if match and (from_daemon or null_path or "message/rfc822" in letter.part_types):
        return Sorted(ReplyKind.BOUNCE, f"Subject: « {letter.subject[:120]} »", None, True)
    if from_daemon:  # a mail server's own address writes nothing but delivery reports
        return Sorted(ReplyKind.BOUNCE, f"From: {sender}", None, True)
    return None


# --- auto-replies ----------------------------------------------------------------------------------------
_AUTO_SUBJECTS = re.compile(
    r"^(auto(matic)?[ -]?(reply|response|respons|antwort)|reponse automatique|auto:|autoreply|"
    r"absence|absent|out of (the )?office|abwesenheit|automatyczna odpowiedz|risposta automatica|"
    r"respuesta automatica|automatisch antwoord|read:|lu :|lu:)|"
    r"(is out of the office|out of office|hors du bureau|absent du bureau|en conges|en vacances|"
    r"on vacation|on holiday|auto[- ]?reply|reponse automatique|automatic reply|accuse de reception|"
    r"has been received|a bien ete recue|a ete recue|ticket|request received|demande recue|"
    r"thank you for (your )?(email|message|contacting)|merci pour votre (message|email|mail)|"
    r"we have received your|nous avons bien recu)",
    re.I,
)
_PRECEDENCE_AUTO = {"bulk", "junk", "list", "auto_reply"}
_TICKET = re.compile(r"\[?(#|ticket|request|case|demande|incident)[ :#-]*\d{3,}\]?", re.I)


def _auto(letter: Letter) -> Sorted | None:
    submitted = letter.header("Auto-Submitted").strip()
    if submitted and submitted.lower() != "no":
        return Sorted(ReplyKind.AUTO, f"Auto-Submitted: {submitted[:80]}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Response-Suppress", "X-Apple-Action"):
        value = letter.header(name)
        if value:
            return Sorted(ReplyKind.AUTO, f"{name}: {value[:80]}")
    precedence = letter.header("Precedence").strip().lower()
    if precedence in _PRECEDENCE_AUTO:
        return Sorted(ReplyKind.AUTO, f"Precedence: {precedence}")
    if (
        letter.report_type.lower() == "disposition-notification"
        or "message/disposition-notification" in letter.part_types
    ):
        return Sorted(ReplyKind.AUTO, "Content-Type: multipart/report; report-type=disposition-notification")
    for name in (
        "List-Id",
        "List-Unsubscribe",
        "X-MS-Exchange-Inbox-Rules-Loop",
        "X-Autogenerated",
        "X-Boxbe-Challenge",
    ):
        value = letter.header(name)
        if value:
            return Sorted(ReplyKind.AUTO, f"{name}: {value[:80]}")
    if "oof" in letter.header("X-MS-Exchange-Generated-Message-Source").lower() or letter.header(
        "X-MS-Exchange-Organization-AutoReply"
    ):
        return Sorted(ReplyKind.AUTO, "X-MS-Exchange: auto-reply")
    subject = _plain(letter.subject)
    match = _AUTO_SUBJECTS.search(subject)
    if match:
        return Sorted(ReplyKind.AUTO, f"Subject: « {letter.subject[:120]} »")
    if _TICKET.search(letter.subject) and not subject.startswith(("re:", "re :", "tr:", "fw:")):
        return Sorted(ReplyKind.AUTO, f"Subject: « {letter.subject[:120]} »")
    sender = letter.sender
    if re.match(
        r"^(no-?reply|do-?not-?reply|ne-?pas-?repondre|notifications?|bounce[s]?|auto[-_]?reply)[@+.-]", sender
    ):
        return Sorted(ReplyKind.AUTO, f"From: {sender}")
    text = _plain(letter.new_text[:600])
    for words in _AUTO_BODY:
        if words in text:
            return Sorted(ReplyKind.AUTO, f"« {words} »")
    return None


# Words only a machine answering for someone writes (read in the first lines of the new text).
_AUTO_BODY = (
    "je suis actuellement absent",
    "je suis absent",
    "je serai absent",
    "actuellement en conges",
    "en conges jusqu",
    "hors du bureau",
    "i am currently out of the office",
    "i am out of the office",
    "i'm out of the office",
    "i will be out of the office",
    "i am currently away",
    "this is an automated",
    "this is an automatic",
    "ceci est un message automatique",
    "ceci est une reponse automatique",
    "message automatique",
    "reponse automatique",
    "automatic reply",
    "auto-reply",
    "votre message a bien ete recu",
    "votre demande a bien ete",
    "we have received your",
    "nous avons bien recu votre",
)


# --- a person's words: unsubscribe, refusal -------------------------------------------------------------
_UNSUBSCRIBE = (
    "ne plus recevoir",
    "plus recevoir vos",
    "souhaite plus recevoir",
    "desinscri",
    "desabonne",
    "desabonnez",
    "retirez-moi",
    "retirez moi",
    "retirer de votre liste",
    "retirez mon adresse",
    "supprimez-moi",
    "supprimez moi",
    "supprimer mon adresse",
    "supprimez mon adresse",
    "supprimer mes donnees",
    "supprimez mes donnees",
    "ne me contactez plus",
    "ne plus me contacter",
    "ne plus m'ecrire",
    "ne m'ecrivez plus",
    "cessez de m'ecrire",
    "arretez de m'ecrire",
    "unsubscribe",
    "remove me",
    "take me off",
    "stop emailing",
    "do not contact me",
    "don't contact me",
    "opt out",
    "opt-out",
)
_STOP = re.compile(r"(^|\W)STOP(\W|$)")
_NOT_INTERESTED = (
    "pas interesse",
    "pas interessee",
    "pas interesses",
    "pas vraiment interesse",
    "pas d'interet",
    "aucun interet",
    "ne nous interesse pas",
    "ne m'interesse pas",
    "pas pour nous",
    "pas pour moi",
    "pas de besoin",
    "aucun besoin",
    "pas besoin de vos services",
    "nous avons deja une solution",
    "nous sommes deja equipes",
    "deja equipe",
    "deja un prestataire",
    "non merci",
    "not interested",
    "no thanks",
    "no, thanks",
    "not for us",
    "not a fit",
    "we already have a solution",
    "we're all set",
    "we are all set",
)


def _first_found(text: str, phrases: tuple[str, ...]) -> str:
    return next((phrase for phrase in phrases if phrase in text), "")


def _person(letter: Letter) -> Sorted:
    new = letter.new_text[:2000]
    plain = _plain(new)
    phrase = _first_found(plain, _UNSUBSCRIBE)
    if phrase:
        return Sorted(ReplyKind.UNSUBSCRIBE, f"« {phrase} »")
    stripped = plain.strip(" .!\n\t")
    if _STOP.search(new) or stripped == "stop":
        return Sorted(ReplyKind.UNSUBSCRIBE, "« STOP »")
    phrase = _first_found(plain, _NOT_INTERESTED)
    if phrase:
        return Sorted(ReplyKind.NOT_INTERESTED, f"« {phrase} »")
    words = " ".join(new.split()[:8])
    return Sorted(ReplyKind.PERSON, f"« {words} »" if words else "")


# Challenge-response filters (Boxbe, SpamArrest…) send a delivery report that is no failure: the message
# waits until the sender proves to be a person. An auto-reply, not an address to drop.
_CHALLENGE = ("has been waitlisted", "guest list", "pre-approved", "verify that you are a person", "approve your email")


def _challenge(letter: Letter) -> Sorted | None:
    text = _plain(letter.text[:3000])
    phrase = _first_found(text, _CHALLENGE)
    return Sorted(ReplyKind.AUTO, f"« {phrase} »") if phrase else None


def sort_letter(letter: Letter) -> Sorted:
    found = _challenge(letter) or _bounce(letter) or _auto(letter)
    if found is not None:
        if found.kind == ReplyKind.AUTO:
            return Sorted(found.kind, found.reason, return_date(letter.new_text))
        return found
    return _person(letter)


# --- an out-of-office's return date ----------------------------------------------------------------------
_MONTHS = {
    "jan": 1, "janv": 1, "janvier": 1, "january": 1,
    "fev": 2, "fevr": 2, "fevrier": 2, "feb": 2, "february": 2,
    "mar": 3, "mars": 3, "march": 3,
    "avr": 4, "avril": 4, "apr": 4, "april": 4,
    "mai": 5, "may": 5,
    "juin": 6, "jun": 6, "june": 6,
    "juil": 7, "juillet": 7, "jul": 7, "july": 7,
    "aout": 8, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "septembre": 9, "september": 9,
    "oct": 10, "octobre": 10, "october": 10,
    "nov": 11, "novembre": 11, "november": 11,
    "dec": 12, "decembre": 12, "december": 12,
}  # fmt: skip
_LEAD = (
    r"(?:jusqu'?au|jusqu'?a|de retour (?:le |au bureau le )?|retour (?:prevu )?le |"
    r"back (?:in the office )?on |until |returning (?:to the office )?(?:on )?|back |"
    r"reprendrai le |je reviens le |rentre le |du \d{1,2}(?:er)? [a-z]{3,9}\.? (?:\d{4} )?au |du \d{1,2}/\d{1,2} au )"
)
_DAY_MONTH = re.compile(_LEAD + r"(?:\w+\.? )?(\d{1,2})(?:er)? ([a-z]{3,9})\.?(?: (\d{4}))?")
_MONTH_DAY = re.compile(_LEAD + r"(?:\w+,? )?([a-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,?(?: (\d{4}))?")
_NUMERIC = re.compile(_LEAD + r"(?:\w+\.? )?(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?")


def return_date(text: str, today: date | None = None) -> date | None:
    """ "de retour le 12 janvier", "absent jusqu'au 05/01/2027", "back on May 5": the date, else None.
    Day-first for numbers (as French and most European writers put it). A date without a year is the
    next one to come."""
    plain = _plain(" ".join(text[:3000].split()))
    today = today or date.today()
    for pattern, order in ((_DAY_MONTH, "dm"), (_MONTH_DAY, "md"), (_NUMERIC, "dn")):
        for match in pattern.finditer(plain):
            first, second, year = match.groups()
            try:
                if order == "dm":
                    day, month = int(first), _MONTHS.get(second, 0)
                elif order == "md":
                    month, day = _MONTHS.get(first, 0), int(second)
                else:  # day first; a US date (09/18) reads month first when day first cannot be
                    day, month = (int(first), int(second)) if int(second) <= 12 else (int(second), int(first))
                if not month:
                    continue
                if year:
                    full = int(year) + (2000 if len(year) == 2 else 0)
                    return date(full, month, day)
                found = date(today.year, month, day)
                return found if found >= today else date(today.year + 1, month, day)
            except ValueError:
                continue
    return None

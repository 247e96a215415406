"""Which user agents name a machine: crawlers, scripts, monitors, link previewers, headless browsers,
security scanners, feed and podcast fetchers and AI agents, from four lists maintained upstream, in a
time that does not grow with the header.

- crawlerdetect's patterns (and its exclusions: the browser tokens it strips before matching);
- the crawler-user-agents project's patterns (uptime monitors, cloud health checks, link previewers,
  AI agents such as Perplexity-User and ChatGPT-User, Playwright and Selenium by name);
- isbot's pattern list (npm), vendored in core/bot_lists/isbot.json;
- Matomo device-detector's bots.yml (its generic rule names checkers, monitors, scanners, probes,
  fetchers by the words they use), vendored in core/bot_lists/matomo.json.

The two vendored lists are refreshed by `make bot-lists` (bin/update-bot-lists); the two Python
packages by pip. Alone, crawlerdetect and crawler-user-agents missed a share of Matomo's own example
bots; docs/benchmarks.md has each list's figures ("Issue 29: machines by name, from four maintained
lists").

Every list is matched with RE2 (google-re2), whose automaton runs in time linear in the text, on a
user agent first cut to the length the product stores: crawlerdetect's own Python regex backtracks,
and its cost grew with the square of the length (an 8 KB header held a worker for seconds:
docs/benchmarks.md, "Figures that used to live in code comments"). The few
patterns RE2 cannot compile (look-arounds) are matched by the `regex` module (it takes isbot's and
Matomo's variable-width look-behinds) on the same cut text, only when RE2 found the same pattern
without its look-arounds (a browser's user agent costs RE2's time alone), and for at most
FALLBACK_TIMEOUT_SECONDS: a text built to make them backtrack longer is judged a machine.

An AI agent fetching a page for a person (Perplexity-User, ChatGPT-User, a browsing assistant) counts
as a machine: it reads the page for a summary, in a second, and nobody is sitting in front of it whom
the founder could call; its visit is stored and shown, it never completes a signal.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import crawleruseragents
import re2
import regex
from crawlerdetect.providers.crawlers import data as crawlerdetect_patterns
from crawlerdetect.providers.exclusions import data as crawlerdetect_exclusions

# The stored length of a user agent (VisitEvent.user_agent, EmailEvent.user_agent): every judgement
# is made on what is stored, so it is also what a person can read back.
USER_AGENT_MAX_LENGTH = 512

VENDORED = Path(__file__).resolve().parent / "bot_lists"
# Matomo matches each bots.yml pattern after this boundary (its DeviceDetector's own prefix).
MATOMO_BOUNDARY = r"(?:^|[^A-Z0-9_-]|[^A-Z0-9-]_|sprd-|MZ-)(?:{})"
MATOMO_ANY_RUN = "[a-z0-9_-]*"
LIST_NAMES = ("crawlerdetect", "crawler-user-agents", "isbot", "matomo")
# The look-around patterns RE2 refuses backtrack: a text built for it (a long run of "_-" before a bot
# word) can cost them many times what any real user agent does, and this bound sits well above the
# latter (docs/benchmarks.md, "Figures that used to live in code comments"). Past this, the text is judged a machine.
FALLBACK_TIMEOUT_SECONDS = 0.005


def without_lookarounds(pattern: str) -> str:
    """The pattern with its look-ahead and look-behind groups removed: it matches wherever the pattern
    does (and more), so RE2 can tell when the pattern itself is worth running."""
    out, i, depth_skip = [], 0, 0
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if not depth_skip:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":  # "[]...]": a literal ] first
                if not depth_skip:
                    out.append("[]")
                i += 2
                continue
        elif char == "(":
            if depth_skip or pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
                depth_skip += 1
                i += 1
                continue
        elif char == ")" and depth_skip:
            depth_skip -= 1
            i += 1
            continue
        if not depth_skip:
            out.append(char)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class _PatternList:
    """One list, as one RE2 automaton, plus the few patterns RE2 refuses: matched by `regex`, behind
    an RE2 gate of the same patterns without their look-arounds."""

    linear: "re2._Regexp | None"
    gate: "re2._Regexp | None"
    fallback: "regex.Pattern[str] | None"

    @classmethod
    def build(cls, patterns: list[str], *, case_sensitive: bool, around: str = "{}") -> "_PatternList":
        """`around`: what every pattern is matched inside ("{}": as it is), applied once around the
        whole alternation rather than to each pattern: Matomo's boundary repeated before each of its
        patterns made an automaton whose worst text cost far more (docs/benchmarks.md, "Figures that
        used to live in code comments")."""
        options = re2.Options()
        options.case_sensitive = case_sensitive
        # Room to spare for the combined automaton of all the patterns (its size when this was set:
        # docs/benchmarks.md, "Figures that used to live in code comments").
        options.max_mem = 64 << 20
        options.log_errors = False
        accepted, refused = [], []
        for pattern in patterns:
            try:
                re2.compile(around.format(pattern), options)
            except re2.error:
                try:
                    regex.compile(around.format(pattern))
                except regex.error:
                    continue  # neither engine reads it: left out rather than guessed at
                refused.append(pattern)
            else:
                accepted.append(pattern)
        gate = None
        if refused:
            try:
                relaxed = "|".join(f"(?:{without_lookarounds(p)})" for p in refused)
                gate = re2.compile(without_lookarounds(around.format(relaxed)), options)
            except re2.error:
                gate = None  # no gate: the fallback runs on every text
        flags = regex.VERSION0 | (0 if case_sensitive else regex.IGNORECASE)
        return cls(
            linear=re2.compile(around.format("|".join(f"(?:{p})" for p in accepted)), options) if accepted else None,
            gate=gate,
            fallback=regex.compile(around.format("|".join(f"(?:{p})" for p in refused)), flags) if refused else None,
        )

    def search(self, text: str) -> bool:
        if self.linear is not None and self.linear.search(text):
            return True
        if self.fallback is None or (self.gate is not None and not self.gate.search(text)):
            return False
        try:
            return bool(self.fallback.search(text, timeout=FALLBACK_TIMEOUT_SECONDS))
        except TimeoutError:
            # Only a text written to make a look-behind pattern backtrack gets here (runs of "_-"
            # before "projector"): no browser sends one.
            return True

    def strip(self, text: str) -> str:
        if self.linear is not None:
            text = self.linear.sub("", text)
        if self.fallback is not None:
            text = self.fallback.sub("", text)
        return text


def _vendored(name: str) -> list[str]:
    return list(json.loads((VENDORED / f"{name}.json").read_text())["patterns"])


def _matomo() -> tuple[_PatternList, ...]:
    """Matomo's patterns, each after its boundary; but its generic rule ("[a-z0-9_-]*(?:…bot…|monitor|
    …)"), whose look-behinds only `regex` reads, is matched without the boundary and that prefix: a
    maximal run of [A-Za-z0-9_-] before any position always starts where the boundary matches (after
    a character outside the run, or at the start), so "boundary, run, word" holds exactly where the
    word does — and the backtracking engine no longer tries every start of a long run of "_-" (its
    worst case before and after: docs/benchmarks.md, "Figures that used to live in code comments")."""
    patterns = _vendored("matomo")
    bounded = [p for p in patterns if not p.startswith(MATOMO_ANY_RUN)]
    unbounded = [p.removeprefix(MATOMO_ANY_RUN) for p in patterns if p.startswith(MATOMO_ANY_RUN)]
    lists = [_PatternList.build(bounded, case_sensitive=False, around=MATOMO_BOUNDARY)]
    if unbounded:
        lists.append(_PatternList.build(unbounded, case_sensitive=False))
    return tuple(lists)


def _list(name: str) -> tuple[_PatternList, ...]:
    if name == "crawlerdetect":
        return (_PatternList.build(list(crawlerdetect_patterns), case_sensitive=False),)
    if name == "crawler-user-agents":
        # The project writes its patterns for a case-sensitive match.
        patterns = [entry["pattern"] for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA]
        return (_PatternList.build(patterns, case_sensitive=True),)
    if name == "isbot":
        return (_PatternList.build(_vendored("isbot"), case_sensitive=False),)
    if name == "matomo":
        return _matomo()
    raise ValueError(f"unknown bot list {name!r} (known: {', '.join(LIST_NAMES)})")


@dataclass(frozen=True)
class Judge:
    """The lists a user agent is judged by, each built once (at boot: arkwatch/wsgi.py)."""

    exclusions: _PatternList  # crawlerdetect strips these browser tokens before its own patterns
    lists: dict[str, tuple[_PatternList, ...]]

    def naming_list(self, user_agent: str) -> str | None:
        """The first list that names the user agent (cut to USER_AGENT_MAX_LENGTH first) a machine."""
        agent = user_agent[:USER_AGENT_MAX_LENGTH]
        for name, parts in self.lists.items():
            text = agent
            if name == "crawlerdetect":
                # crawlerdetect's own rule: drop the browser tokens, then look for a crawler's name in the rest.
                text = self.exclusions.strip(agent)
                if not text.strip():
                    continue
            if any(part.search(text) for part in parts):
                return name
        return None


def build_judge(names: Iterable[str] = LIST_NAMES) -> Judge:
    """A judge by these lists only (bench/bot_lists.py holds one out to measure it with the others)."""
    # The cheapest first: most user agents are browsers, which every list is asked about.
    order = ("crawler-user-agents", "isbot", "matomo", "crawlerdetect")
    wanted = set(names)
    return Judge(
        exclusions=_PatternList.build(list(crawlerdetect_exclusions), case_sensitive=False),
        lists={name: _list(name) for name in order if name in wanted},
    )


@lru_cache(maxsize=1)
def _judge() -> Judge:
    return build_judge()


def names_a_machine(user_agent: str) -> bool:
    """True when the user agent (cut to USER_AGENT_MAX_LENGTH first) is on one of the four lists."""
    return _judge().naming_list(user_agent) is not None

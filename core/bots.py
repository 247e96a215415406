"""Which user agents name a machine: crawlers, scripts, monitors, link previewers, headless browsers
and AI agents, from two lists maintained upstream, in a time that does not grow with the header.

- crawlerdetect's patterns (and its exclusions: the browser tokens it strips before matching);
- the crawler-user-agents project's patterns (uptime monitors, cloud health checks, link previewers,
  AI agents such as Perplexity-User and ChatGPT-User, Playwright and Selenium by name), which
  crawlerdetect alone misses for about one crawler in seven of that project's examples.

Both lists are matched with RE2 (google-re2), whose automaton runs in time linear in the text, on a
user agent first cut to the length the product stores: crawlerdetect's own Python regex backtracks,
and its cost grew with the square of the length (8,000 letters: 7.6 s of CPU per request). The one
pattern RE2 cannot compile (a look-ahead) is matched by Python's `re` on the same cut text.

An AI agent fetching a page for a person (Perplexity-User, ChatGPT-User, a browsing assistant) counts
as a machine: it reads the page for a summary, in a second, and nobody is sitting in front of it whom
the founder could call; its visit is stored and shown, it never completes a signal.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import crawleruseragents
import re2
from crawlerdetect.providers.crawlers import data as crawlerdetect_patterns
from crawlerdetect.providers.exclusions import data as crawlerdetect_exclusions

# The stored length of a user agent (VisitEvent.user_agent, EmailEvent.user_agent): every judgement
# is made on what is stored, so it is also what a person can read back.
USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True)
class _PatternList:
    """One list, as one RE2 automaton plus the few patterns RE2 refuses (matched by `re`)."""

    linear: "re2._Regexp | None"
    fallback: re.Pattern[str] | None

    @classmethod
    def build(cls, patterns: list[str], *, case_sensitive: bool) -> "_PatternList":
        options = re2.Options()
        options.case_sensitive = case_sensitive
        options.max_mem = 64 << 20  # the combined automaton of ~1,500 patterns needs ~10 MB
        options.log_errors = False
        accepted, refused = [], []
        for pattern in patterns:
            try:
                re2.compile(pattern, options)
            except re2.error:
                refused.append(pattern)
            else:
                accepted.append(pattern)
        flags = 0 if case_sensitive else re.IGNORECASE
        return cls(
            linear=re2.compile("|".join(f"(?:{p})" for p in accepted), options) if accepted else None,
            fallback=re.compile("|".join(f"(?:{p})" for p in refused), flags) if refused else None,
        )

    def search(self, text: str) -> bool:
        return bool(
            (self.linear is not None and self.linear.search(text))
            or (self.fallback is not None and self.fallback.search(text))
        )

    def strip(self, text: str) -> str:
        if self.linear is not None:
            text = self.linear.sub("", text)
        if self.fallback is not None:
            text = self.fallback.sub("", text)
        return text


@dataclass(frozen=True)
class _Lists:
    exclusions: _PatternList  # crawlerdetect strips these browser tokens first
    crawlerdetect: _PatternList
    crawler_user_agents: _PatternList


@lru_cache(maxsize=1)
def _lists() -> _Lists:
    return _Lists(
        exclusions=_PatternList.build(list(crawlerdetect_exclusions), case_sensitive=False),
        crawlerdetect=_PatternList.build(list(crawlerdetect_patterns), case_sensitive=False),
        # The project writes its patterns for a case-sensitive match.
        crawler_user_agents=_PatternList.build(
            [entry["pattern"] for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA], case_sensitive=True
        ),
    )


def names_a_machine(user_agent: str) -> bool:
    """True when the user agent (cut to USER_AGENT_MAX_LENGTH first) is on one of the two lists."""
    agent = user_agent[:USER_AGENT_MAX_LENGTH]
    lists = _lists()
    if lists.crawler_user_agents.search(agent):
        return True
    # crawlerdetect's own rule: drop the browser tokens, then look for a crawler's name in the rest.
    rest = lists.exclusions.strip(agent)
    return bool(rest.strip()) and lists.crawlerdetect.search(rest)

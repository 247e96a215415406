"""Issue 18, point 11: bots by name, from maintained lists. The public crawler-user-agents project's
example user agents are machines (at least 99 %), while a public sample of real browsers' user agents
(fake-useragent's, gathered from real traffic) stay people: both lists are run whole."""

import json
from importlib import resources

import crawleruseragents
import pytest

from core.client import is_bot_user_agent


def public_crawler_user_agents() -> list[str]:
    return sorted(
        {agent for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA for agent in entry.get("instances", [])}
    )


def real_browser_user_agents() -> list[str]:
    lines = resources.files("fake_useragent").joinpath("data/browsers.jsonl").read_text().splitlines()
    return sorted({json.loads(line)["useragent"] for line in lines if line.strip()})


def test_public_crawler_lists_are_judged_machines():
    agents = public_crawler_user_agents()
    assert len(agents) > 1500, "the package no longer ships its examples"
    people = [agent for agent in agents if not is_bot_user_agent(agent)]
    assert len(people) / len(agents) <= 0.01, people[:20]


def test_real_browsers_stay_people():
    agents = real_browser_user_agents()
    assert len(agents) > 500, "the package no longer ships its sample"
    machines = [agent for agent in agents if is_bot_user_agent(agent)]
    assert machines == []


@pytest.mark.parametrize(
    "agent",
    [
        # AI agents fetching a page for a person: machines (nobody in front of the page to call).
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; "
        "+https://perplexity.ai/perplexity-user)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot",
        # Uptime monitors and link previewers, which crawlerdetect alone took for people.
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    ],
)
def test_agents_monitors_and_previewers_are_machines(agent):
    assert is_bot_user_agent(agent)

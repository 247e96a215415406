"""Issue 18, point 11 and issue 29: bots by name, from four maintained lists (crawlerdetect,
crawler-user-agents, isbot, Matomo's bots.yml). Each list's published example user agents are
machines (at least 99 %: crawler-user-agents' instances, Matomo's test fixtures), while a public sample
of real browsers' user agents (fake-useragent's, gathered from real traffic) stay people: every list is
run whole. bench/bot_lists.py gives each list's figures, and each one held out from the others."""

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import crawleruseragents
import pytest

from core import bots
from core.client import is_bot_user_agent

ROOT = Path(__file__).resolve().parent.parent


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


# --- Issue 29: more than one maintained list ---------------------------------------------------


def matomo_example_user_agents() -> list[str]:
    """Matomo device-detector's own example bots (its test fixtures), vendored by `make bot-lists`."""
    return json.loads((ROOT / "core" / "bot_lists" / "matomo-examples.json").read_text())["user_agents"]


def test_matomos_example_bots_are_judged_machines():
    """Uptime monitors, cloud health checks, link checkers, podcast fetchers, security scanners: 83.7 %
    of them were machines by crawlerdetect and crawler-user-agents alone."""
    agents = matomo_example_user_agents()
    assert len(agents) > 1300, "the examples were not vendored whole"
    people = [agent for agent in agents if not is_bot_user_agent(agent)]
    assert len(people) / len(agents) <= 0.01, people[:20]


@pytest.mark.parametrize(
    "agent",
    [
        "rocketmonitor 1.0",  # an uptime monitor
        "Castro 2, Episode Duration Lookup",  # a podcast fetcher
        "RootEvidence/1.0",  # a security scanner
        "Mozilla/5.0 project_patchwatch",  # a change watcher
        "Mozilla/5.0 (compatible; seolyt/1.1; +https://seolyt.com)",  # an SEO checker
        "Google-Pinpoint",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/60.0.3122.113 Safari/537.36 Assetnote/1.0.0",  # a scanner dressed as Chrome
    ],
)
def test_monitors_fetchers_and_scanners_the_first_two_lists_missed_are_machines(agent):
    assert is_bot_user_agent(agent)


@pytest.mark.parametrize("name", ["isbot", "matomo"])
def test_each_vendored_list_names_its_source_and_every_pattern_is_read(name):
    data = json.loads((bots.VENDORED / f"{name}.json").read_text())
    assert data["source"] and data["license"] and len(data["patterns"]) > 150
    judge = bots.build_judge([name])
    assert judge.naming_list("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)") == name


def test_each_list_names_bots_the_others_miss():
    """The new lists earn their place: Matomo's names scanners no other list does; isbot names podcast
    fetchers and monitors the two lists used before it missed."""
    agent = "Mozilla/5.0 (Laravel Reaver .env Presence)"
    assert bots.build_judge(["matomo"]).naming_list(agent) == "matomo"
    assert bots.build_judge([n for n in bots.LIST_NAMES if n != "matomo"]).naming_list(agent) is None
    before = bots.build_judge(["crawlerdetect", "crawler-user-agents"])
    for agent in ("Castro 2, Episode Duration Lookup", "rocketmonitor 1.0"):
        assert bots.build_judge(["isbot"]).naming_list(agent) == "isbot"
        assert before.naming_list(agent) is None


@pytest.mark.parametrize(
    "pattern, relaxed",
    [
        ("(?<! cu)bots?(?:\\b|_)", "bots?(?:\\b|_)"),
        ("(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))", "google"),
        ("java(?!;)", "java"),
        ("[(?]x(?=y)", "[(?]x"),
        ("a\\((?!b)", "a\\("),
    ],
)
def test_the_re2_gate_drops_only_the_look_arounds(pattern, relaxed):
    assert bots.without_lookarounds(pattern) == relaxed


@pytest.mark.parametrize(
    "agent",
    ["_-" * 250 + "bot50", "_" * 500 + "banshee-project1", "Mozilla/5.0 (X11) " + "_-" * 230 + "monitor"],
)
def test_texts_built_to_make_a_look_behind_backtrack_are_judged_without_error(agent):
    assert isinstance(bots.names_a_machine(agent), bool)
    assert isinstance(bots.names_a_machine(agent * 20), bool)  # cut to 512 first


def test_the_lists_are_refreshed_by_a_documented_command():
    makefile = (ROOT / "Makefile").read_text()
    assert "bot-lists:" in makefile and "bin/update-bot-lists" in makefile
    assert "make bot-lists" in (ROOT / "docs" / "operations.md").read_text()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bin" / "update-bot-lists"), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0 and "--isbot" in result.stdout

"""Bots by name, list by list (issue 29): of each maintained list's example user agents, how many are
judged machines by the judge before (main's core/bots.py: crawlerdetect + crawler-user-agents), by
the judge now (four lists), and by the judge now with that list's own patterns held out (its
examples checked against the other three only); how many real browsers are judged machines (must
stay 0); and what one new user agent costs to judge (timeit, no cache), before and after.

    .venv/bin/python bench/bot_lists.py [--before-ref main] [--number 3]

The examples: crawler-user-agents' `instances` (the PyPI package), Matomo device-detector's test
fixtures (core/bot_lists/matomo-examples.json, refreshed by `make bot-lists`), and fake-useragent's
sample of real browsers (the dev extra). isbot ships no examples. Prints figures; asserts nothing.
"""

import argparse
import json
import random
import statistics
import string
import subprocess
import sys
import timeit
import types
from collections.abc import Callable
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import crawleruseragents  # noqa: E402

from core import bots  # noqa: E402


def examples() -> dict[str, list[str]]:
    cua = sorted({a for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA for a in entry.get("instances", [])})
    matomo = json.loads((bots.VENDORED / "matomo-examples.json").read_text())["user_agents"]
    lines = resources.files("fake_useragent").joinpath("data/browsers.jsonl").read_text().splitlines()
    browsers = sorted({json.loads(line)["useragent"] for line in lines if line.strip()})
    return {"crawler-user-agents": cua, "matomo": matomo, "browsers (fake-useragent)": browsers}


def judge_before(ref: str) -> Callable[[str], bool]:
    """main's names_a_machine, loaded from git as it stands at `ref`."""
    source = subprocess.run(
        ["git", "show", f"{ref}:core/bots.py"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    module = types.ModuleType("bots_before")
    exec(compile(source.stdout, "bots_before.py", "exec"), module.__dict__)  # noqa: S102
    return module.names_a_machine


def share(judge: Callable[[str], bool], agents: list[str]) -> str:
    hits = sum(1 for agent in agents if judge(agent))
    return f"{hits:>5} / {len(agents):<5} ({100 * hits / len(agents):5.1f} %)"


def cost_us(judge: Callable[[str], bool], agents: list[str], number: int) -> float:
    """Median µs per user agent over `number` passes (each pass judges every agent once)."""
    runs = [timeit.timeit(lambda: [judge(a) for a in agents], number=1) for _ in range(number)]
    return 1e6 * statistics.median(runs) / len(agents)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before-ref", default="main")
    parser.add_argument("--number", type=int, default=3)
    args = parser.parse_args()
    sets = examples()
    before = judge_before(args.before_ref)
    after = bots.build_judge()

    def judged_by(names: tuple[str, ...]) -> Callable[[str], bool]:
        judge = bots.build_judge(names)
        return lambda agent: judge.naming_list(agent) is not None

    print(
        f"{'examples':<28} {'before (' + args.before_ref + ')':<26} {'after (4 lists)':<26} "
        "held out (its own list left out)"
    )
    for name, agents in sets.items():
        held = judged_by(tuple(n for n in bots.LIST_NAMES if n != name)) if name in bots.LIST_NAMES else None
        print(
            f"{name:<28} {share(before, agents):<26} {share(lambda a: after.naming_list(a) is not None, agents):<26} "
            f"{share(held, agents) if held else '—'}"
        )
    print("\nWhich list names each of Matomo's examples first (after):")
    counts: dict[str, int] = {}
    for agent in sets["matomo"]:
        first = after.naming_list(agent) or "none"
        counts[first] = counts.get(first, 0) + 1
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    print("\nEach list alone, on each set of examples:")
    for list_name in bots.LIST_NAMES:
        alone = judged_by((list_name,))
        print(f"  {list_name:<22} " + "  ".join(f"{n}: {share(alone, a)}" for n, a in sets.items()))

    rng = random.Random(29)
    long_agents = ["".join(rng.choices(string.ascii_letters + " /;().", k=8000)) for _ in range(50)]
    mixes = {
        "real browsers": sets["browsers (fake-useragent)"],
        "bots (matomo examples)": sets["matomo"],
        "8,000-char noise (cut to 512)": long_agents,
    }
    print(f"\nCost of judging one new user agent (median of {args.number} passes, µs):")
    for label, agents in mixes.items():
        print(
            f"  {label:<32} before {cost_us(before, agents, args.number):7.1f}   "
            f"after {cost_us(bots.names_a_machine, agents, args.number):7.1f}"
        )


if __name__ == "__main__":
    main()

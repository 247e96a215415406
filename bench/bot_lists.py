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
import time
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


def costs_us(judges: list[Callable[[str], bool]], agents: list[str], number: int) -> list[float]:
    """Median CPU µs per user agent of each judge over `number` passes, the judges interleaved within
    each pass (the machine is shared: CPU time, not wall time; a warm-up pass first, uncounted)."""
    runs: list[list[float]] = [[] for _ in judges]
    for attempt in range(number + 1):
        for i, judge in enumerate(judges):
            elapsed = timeit.Timer(lambda j=judge: [j(a) for a in agents], timer=time.process_time).timeit(number=1)
            if attempt:
                runs[i].append(elapsed)
    return [1e6 * statistics.median(r) / len(agents) for r in runs]


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
        # Runs of "_-" before a word a look-behind vetoes: the backtracking engine's worst case.
        "look-behind worst cases": [
            "_-" * 250 + "bot50",
            "_" * 496 + "banshee-project1",
            "Mozilla/5.0 (X11) " + "_-" * 230 + "monitor",
            "-" * 500 + "monitor",
            "Mozilla/5.0 (X11) " + "_-" * 230 + "banshee-project1",
        ],
    }
    print(f"\nCPU to judge one new user agent (median of {args.number} interleaved passes, µs):")
    for label, agents in mixes.items():
        was, now = costs_us([before, bots.names_a_machine], agents, args.number)
        print(f"  {label:<32} before {was:7.1f}   after {now:7.1f}")


if __name__ == "__main__":
    main()

"""Every command the README shows runs as written: each `manage.py` command exists and accepts the
arguments shown, each `make` target and `bin/` script exists, and the `curl` examples, sent as written
to the real endpoints, are accepted — the CTA one texts the founder."""

import json
import re
import shlex
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands, load_command_class

from alerts.outbox import sms

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
MANAGE = re.compile(r"(?:\.venv/bin/)?python manage\.py ([^|)`]+)")
OUR_APPS = {"core", "prospects", "tracking", "alerts", "backoffice", "arkwatch"}
MAKE = re.compile(r"(?:^|\s|`)(?:[A-Z_]+=\S+ )*make ([a-z][\w-]*)")


def shell_lines() -> list[str]:
    """The lines of the README's ```sh blocks, continuation lines joined."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.DOTALL):
        lines += [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    return lines


def inline_code() -> list[str]:
    return re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.DOTALL))


def manage_invocations() -> list[list[str]]:
    """Each `manage.py …` shown in a block, as its argument list (a trailing comment dropped)."""
    return [shlex.split(found, comments=True) for line in shell_lines() for found in MANAGE.findall(line)]


def parser_for(name: str):
    command = load_command_class(get_commands()[name], name)
    return command.create_parser("manage.py", name)


def test_the_readme_shows_commands():
    # The tests below check what they find: they must find the first hour's steps.
    names = {args[0] for args in manage_invocations()}
    assert {"import_prospects", "email_links", "monitoring_status", "send_test_sms"} <= names
    assert [line for line in shell_lines() if line.startswith("curl ")]


@pytest.mark.parametrize("args", manage_invocations(), ids=lambda args: " ".join(args)[:60])
def test_each_manage_command_in_a_block_accepts_its_arguments(args):
    name, *rest = args
    assert name in get_commands(), f"no command {name}"
    parser_for(name).parse_args(rest)  # CommandError on an unknown flag or a missing argument


def test_each_command_in_the_commands_table_exists_with_its_flags():
    rows = re.findall(r"^\| `([a-z_]+)((?: [^`]*)?)` \|", README, re.MULTILINE)
    assert len(rows) >= 10
    for name, synopsis in rows:
        assert name in get_commands(), f"no command {name}"
        options = {option for action in parser_for(name)._actions for option in action.option_strings}
        assert set(re.findall(r"--[\w-]+", synopsis)) <= options, name
    # Every command of ours is in the table (Django's own may be too).
    ours = [name for name, app in get_commands().items() if app.split(".")[0] in OUR_APPS]
    assert sorted(set(ours) - {name for name, _ in rows}) == []


def test_each_command_named_in_the_text_exists():
    for found in re.findall(r"manage\.py ([a-z_]+)", README):
        assert found in get_commands(), found


def test_each_make_target_and_script_exists():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    shown = {t for text in shell_lines() + inline_code() for t in MAKE.findall(text)}
    assert {"run", "test", "serve"} <= shown
    assert sorted(shown - targets) == []
    for script in set(re.findall(r"(?<![\w/])bin/([\w.-]+)", README)):
        assert (ROOT / "bin" / script).is_file(), script


def curl_requests(variables: dict[str, str]) -> list[dict]:
    """The README's curl lines as requests: method, path, headers, body, the shell's $VARS expanded."""
    requests = []
    for line in shell_lines():
        if not line.startswith("curl "):
            continue
        # "$(cat data/served-at)": where `make run` serves, as bin/run writes it (by default, port 8000).
        line = line.replace("$(cat data/served-at)", "http://127.0.0.1:8000")
        words = [re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], w) for w in shlex.split(line)[1:]]
        headers, body, url = {}, None, None
        while words:
            word = words.pop(0)
            if word == "-H":
                key, value = words.pop(0).split(":", 1)
                headers[key.strip().lower()] = value.strip()
            elif word in ("-d", "--data"):
                body = words.pop(0)
            else:
                assert not word.startswith("-"), f"the test does not know curl's {word}"
                url = word
        requests.append({"url": url, "headers": headers, "body": body})
    return requests


@pytest.mark.django_db
def test_the_curl_examples_are_accepted_and_the_cta_one_texts_the_founder(client, django_capture_on_commit_callbacks):
    # The first hour, as the README tells it: the demo prospect (never the examples in the real list),
    # then the personal link's ak, then curl.
    assert "import_prospects examples/prospects.example.json --dry-run" in README
    assert "import_prospects examples/prospects.example.json\n" not in README
    call_command("demo_prospect", stdout=StringIO())
    out = StringIO()
    ak_line = next(line for line in shell_lines() if line.startswith("AK="))
    call_command(*shlex.split(MANAGE.search(ak_line).group(1)), stdout=out)
    variables = {"AK": json.loads(out.getvalue())["ak"], "TRACKING_API_KEY": settings.TRACKING_API_KEY}

    requests = curl_requests(variables)
    assert requests
    for request in requests:
        url = urlsplit(request["url"])
        assert url.netloc == "127.0.0.1:8000", "the examples talk to `make run`"
        headers = dict(request["headers"])
        content_type = headers.pop("content-type", "application/x-www-form-urlencoded")  # curl's default
        json.loads(request["body"])
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(url.path, request["body"], content_type=content_type, headers=headers)
        assert answer.status_code == 202, (request["url"], answer.content)
    assert len(sms.outbox) == 1 and "Réserver audit" in sms.outbox[0].body

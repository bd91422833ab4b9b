"""Render a Compose file for docker-compose 1.29 (Debian's package, the one that runs where
Docker Hub and the compose plugin are out of reach): 1.29 reads the Compose spec, profiles
included, but neither the `${VAR:+word}` form docker-compose.yml uses for TLS nor the top-level
`name` (give the project name with -p). This resolves those expressions from an env file (and the
environment) and drops `name`, leaving every other `${...}` to Compose.

    python deploy/docker/compose_v1.py docker-compose.yml --env-file .env > build/compose/docker-compose.yml
    docker-compose -p coopgov --project-directory . -f build/compose/docker-compose.yml --env-file .env --profile full up -d
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

_ALT = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):\+(?P<word>[^}]*)\}")


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def render(text: str, env: dict[str, str]) -> str:
    text = re.sub(r"^name: .*\n", "", text, flags=re.M)
    return _ALT.sub(lambda m: m["word"] if env.get(m["name"]) else "", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compose_file", type=Path)
    parser.add_argument("--env-file", type=Path)
    args = parser.parse_args(argv)
    env = {**(read_env_file(args.env_file) if args.env_file else {}), **os.environ}
    sys.stdout.write(render(args.compose_file.read_text(), env))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

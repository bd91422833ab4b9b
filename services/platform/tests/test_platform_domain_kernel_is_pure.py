"""coop_domain is what every pure domain may import: it must itself import only the standard
library and its own modules, or a domain would drag a framework in through it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import coop_domain


def test_coop_domain_imports_only_the_standard_library_and_itself():
    root = Path(coop_domain.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                     else [])
            for name in names:
                top = name.split(".")[0]
                if top != "coop_domain" and top not in sys.stdlib_module_names:
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert offenders == []

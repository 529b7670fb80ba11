# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/reliability.md is checked against the tests: every reliability test and bad-input case has its row, and
every test the page names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
RELIABILITY_TESTS = ("test_faults", "test_crash", "test_concurrency", "test_restore", "test_bad_input",
                     "test_secrets", "test_tls")  # fmt: skip


def defined_tests(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def bad_input_cases():
    """The keys of ``CASES`` in test_bad_input.py (one parametrised test case each)."""
    tree = ast.parse((ROOT / "tests" / "integration" / "test_bad_input.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(target, "id", None) for target in node.targets] == ["CASES"]:
            return {key.value for key in node.value.keys}
    raise AssertionError("test_bad_input.py has no CASES")


def every_test_function():
    """Every test function or method (tests in classes included) under tests/."""
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {
            node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        }
    return names


def test_every_reliability_test_has_its_row():
    text = DOC.read_text(encoding="utf-8")
    missing = [
        "%s::%s" % (module, name)
        for module in RELIABILITY_TESTS
        for name in sorted(defined_tests(ROOT / "tests" / "integration" / (module + ".py")))
        if name != "test_bad_input_is_refused_clearly_and_changes_nothing" and "`%s`" % name not in text
    ]
    assert missing == []


def test_every_bad_input_case_has_its_row():
    text = DOC.read_text(encoding="utf-8")
    assert sorted(case for case in bad_input_cases() if "`[%s]`" % case not in text) == []


def test_every_test_the_page_names_exists():
    named = set(re.findall(r"\b(test_[a-z0-9_]+)\b", DOC.read_text(encoding="utf-8")))
    named -= set(RELIABILITY_TESTS) | {"test_reliability_doc", "test_tls_settings", "test_error_hints",
                                       "test_sqlite_files", "test_app_decisions", "test_vpp_token", "test_vpp_app",
                                       "test_vpp_deployment"}  # fmt: skip
    assert sorted(named - every_test_function()) == []

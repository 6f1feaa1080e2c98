"""Shared fixtures: the template, a Tesseract engine, and switches for slow tests."""

from __future__ import annotations

import pytest

from pipeline.template import Template, default_template


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow (make test-all)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def template() -> Template:
    return default_template()


@pytest.fixture(scope="module")
def engine():
    """One in-process Tesseract engine per test module, as a worker keeps one."""
    from pipeline.ocr import make_engine

    e = make_engine("tesserocr")
    yield e
    e.close()


@pytest.fixture(scope="session")
def french_dictionary() -> frozenset[str]:
    """The word list inside Tesseract's French model: without it, spelling tests mean nothing."""
    from pipeline.trust.lexicon import french_words

    words = french_words()
    if not words:
        pytest.fail("the French word list could not be read from Tesseract's model")
    return words

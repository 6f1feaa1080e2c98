"""The exceptions formscan raises on purpose, each with the exit code the CLI maps it to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INPUT_FAILED = 1  # the batch ran, but some inputs or pages could not be read
    USAGE = 2
    BAD_TEMPLATE = 3
    BAD_WORKSPACE = 4
    MISSING_DEPENDENCY = 5
    INTERNAL = 10


class FormscanError(Exception):
    """An error a user can act on; the CLI prints it as one line and exits with `exit_code`."""

    exit_code: ExitCode = ExitCode.INTERNAL


class TemplateError(FormscanError):
    exit_code = ExitCode.BAD_TEMPLATE


class InputError(FormscanError):
    """One input file or page could not be read; the batch goes on without it."""

    exit_code = ExitCode.INPUT_FAILED


class WorkspaceError(FormscanError):
    exit_code = ExitCode.BAD_WORKSPACE


class MissingDependencyError(FormscanError):
    exit_code = ExitCode.MISSING_DEPENDENCY

"""Starting or joining Ray for one run, and turning what a failed Ray run raised into one line."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

from emolabel.errors import EmolabelError

RAY_INSTALL = "pip install 'emolabel[ray]'"


def import_ray() -> Any:
    """The ray module, or a one-line user error naming the install command."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise EmolabelError(
            f"--engine ray needs Ray, which is not installed: {RAY_INSTALL}"
        ) from None
    return ray


@contextlib.contextmanager
def ray_session(ray: Any, address: str | None, *, progress: bool) -> Iterator[None]:
    """Connect to `address` (or $RAY_ADDRESS), else start a local Ray on this machine's CPUs
    with quiet logs and no dashboard, and shut it down after. A Ray this process already
    runs is used as it is and left running."""
    started = False
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        options: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.ERROR,
            "log_to_driver": False,
        }
        if address is None:
            options["num_cpus"] = (
                len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            )
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            ray.init(address=address, **options)
        except Exception as exc:  # Ray raises bare Exception for a node that times out
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint = (
                ""
                if address
                else " (on a busy machine Ray's own agents can start too slowly, see "
                "ray-project/ray#65983: retry when it is quieter, or use --engine local)"
            )
            raise EmolabelError(f"could not start or reach {where}: {first}{hint}") from None
        started = True
    context = ray.data.DataContext.get_current()
    saved = (context.enable_progress_bars, context.print_on_execution_start)
    data_logger = logging.getLogger("ray.data")
    saved_level = data_logger.level
    context.enable_progress_bars = progress
    context.print_on_execution_start = False
    data_logger.setLevel(logging.CRITICAL)  # errors reach the caller as exceptions
    try:
        yield
    finally:
        context.enable_progress_bars, context.print_on_execution_start = saved
        data_logger.setLevel(saved_level)
        if started:
            ray.shutdown()


def _user_error(exc: BaseException) -> EmolabelError | None:
    """The EmolabelError a Ray task raised, unwrapped from Ray's exception types, if any."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    wrapped: EmolabelError | None = None
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, EmolabelError):
            if not type(item).__module__.startswith("ray"):
                return EmolabelError(str(item))
            wrapped = wrapped or item  # Ray's dual-class copy: its text holds a traceback
        stack += [getattr(item, "cause", None), item.__cause__, item.__context__]
    if wrapped is not None:
        lines = [line for line in str(wrapped).splitlines() if line.strip()]
        return EmolabelError(lines[-1].split(": ", 1)[-1] if lines else "a Ray worker failed")
    return None


def explain_failure(exc: BaseException, source: str) -> EmolabelError | None:
    """A one-line error for a failed Ray run: the user error a worker raised, or the reason a
    file could not be read. None for anything else (a bug: the caller re-raises it)."""
    found = _user_error(exc)
    if found is not None:
        return found
    text = str(exc)
    bad_csv = re.search(r"Failed to read CSV file: (.+?)\. Please", text)
    if bad_csv:
        path = bad_csv.group(1)
        return EmolabelError(
            f"{path}: not valid CSV (a row with the wrong number of fields, an unclosed quote "
            f"or invalid UTF-8); `emolabel annotate {path} -o check.parquet` names the line"
        )
    for line in text.splitlines():
        if re.match(
            r"\s*(pyarrow\.lib\.)?(ArrowInvalid|ArrowTypeError|JSONDecodeError|"
            r"UnicodeDecodeError|json\.decoder\.JSONDecodeError)\b",
            line,
        ):
            return EmolabelError(f"{source}: cannot read the input ({line.strip()}); fix the file")
    return None


@contextlib.contextmanager
def reraise_as_user_error(source: str) -> Iterator[None]:
    """Inside the block, a failure `explain_failure` understands becomes that one-line error;
    anything else (a bug) keeps its traceback."""
    try:
        yield
    except EmolabelError:
        raise
    except Exception as exc:
        error = explain_failure(exc, source)
        if error is None:
            raise
        raise error from None

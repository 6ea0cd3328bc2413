"""Labels as read from a file -> label names: ids, lists, separators, names files, label maps.

Every row's label cell becomes a tuple of names, whatever its shape (a name, an integer id,
a list, a `joy,love` string), so single- and multi-label data go through one path. A label
map (the format of GoEmotions' `ekman_mapping.json`) renames labels while they are read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emolabel.errors import EmolabelError
from emolabel.training.data_options import OnError, UnmappedLabels

# dair-ai/emotion's own integer encoding (its HF ClassLabel order, not alphabetical).
DAIR_AI_EMOTION_LABELS = ("sadness", "joy", "love", "anger", "fear", "surprise")
# Files beside the data that name integer ids: `id<TAB>name` lines or one name a line.
NAMES_FILE_NAMES = ("mapping.txt", "labels.txt", "label_names.txt", "emotions.txt")

# The official GoEmotions -> Ekman grouping (google-research goemotions/data/
# ekman_mapping.json); `neutral` stays `neutral`, written out so `--unmapped-labels drop`
# keeps it. dair-ai's `love` and TweetEval's `optimism` are GoEmotions labels too (in joy),
# so this one map also unites those datasets.
EKMAN_GROUPS: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": (
        "joy",
        "amusement",
        "approval",
        "excitement",
        "gratitude",
        "love",
        "optimism",
        "relief",
        "pride",
        "admiration",
        "desire",
        "caring",
    ),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "neutral": ("neutral",),
}
BUILTIN_LABEL_MAPS: dict[str, dict[str, tuple[str, ...]]] = {"ekman": EKMAN_GROUPS}


@dataclass
class LabelMap:
    """member -> group, with the groups in the map's order (the model's label order)."""

    name: str
    groups: list[str]
    members: dict[str, str]

    def get(self, label: str) -> str | None:
        return self.members.get(label)


def read_label_map(name_or_path: str) -> dict[str, str]:
    """A built-in map name or a JSON file `{"group": ["member", ...]}` -> {member: group}.

    Every group also maps to itself, so data already in the coarse taxonomy reads the same.
    """
    return dict(load_label_map(name_or_path).members)


def load_label_map(name_or_path: str) -> LabelMap:
    """read_label_map with the group order kept."""
    key = name_or_path.strip()
    if key.lower() in BUILTIN_LABEL_MAPS:
        return build_label_map(key.lower(), dict(BUILTIN_LABEL_MAPS[key.lower()]), key)
    path = Path(key).expanduser()
    if not path.is_file():
        raise EmolabelError(
            f"--label-map {name_or_path}: no such file and not a built-in map "
            f"({', '.join(BUILTIN_LABEL_MAPS)}): pass a JSON file "
            '{"group": ["label", ...]} or a built-in name'
        )
    try:
        content = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EmolabelError(
            f'{path} is not a JSON label map ({exc}): write {{"group": ["label", ...]}}'
        ) from None
    if not isinstance(content, dict) or not content:
        raise EmolabelError(
            f'{path}: a label map is a JSON object {{"group": ["label", ...]}}, not '
            f"{type(content).__name__}"
        )
    groups: dict[str, tuple[str, ...]] = {}
    for group, members in content.items():
        if isinstance(members, str):
            members = [members]
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise EmolabelError(
                f"{path}: group {group!r} must list label names (a JSON array of strings)"
            )
        groups[str(group).strip()] = tuple(m.strip() for m in members)
    return build_label_map(str(path), groups, str(path))


def build_label_map(name: str, groups: dict[str, tuple[str, ...]], where: str) -> LabelMap:
    """{group: members} -> LabelMap; a member in two groups is refused."""
    members: dict[str, str] = {}
    for group, names in groups.items():
        for member in names:
            if member in members and members[member] != group:
                raise EmolabelError(
                    f"{where}: label {member!r} is in two groups ({members[member]!r} and "
                    f"{group!r}): put it in one"
                )
            members[member] = group
    for group in groups:
        members.setdefault(group, group)
    return LabelMap(name=name, groups=list(groups), members=members)


def read_names_file(path: Path) -> list[str]:
    """mapping.txt / emotions.txt: `id<TAB>name` lines (TweetEval) or one name a line."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EmolabelError(f"{path} is not UTF-8 ({exc.reason}): re-save it as UTF-8") from None
    entries: dict[int, str] = {}
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split("\t") if "\t" in line else line.strip().split(None, 1)
        if len(parts) == 2 and parts[0].lstrip("-").isdigit():
            entries[int(parts[0])] = parts[1].strip()
        elif not parts[0].isdigit():
            entries[len(entries)] = line.strip()
        else:
            raise EmolabelError(f"{path}:{number}: write `id<TAB>name` or one label name a line")
    if not entries:
        raise EmolabelError(f"{path} names no labels: write one label name a line")
    if sorted(entries) != list(range(len(entries))):
        raise EmolabelError(f"{path}: label ids must run 0..{len(entries) - 1} without gaps")
    names = [entries[i] for i in range(len(entries))]
    if len(set(names)) != len(names):
        raise EmolabelError(f"{path}: a label name occurs twice; names must be unique")
    return names


def find_names_file(folder: Path) -> Path | None:
    """The names file beside the data, if there is one."""
    for name in NAMES_FILE_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


INTEGER = re.compile(r"^-?\d+(\.0*)?$")
DECIMAL = re.compile(r"^-?\d*\.\d+$")


def _number_or_name(token: str) -> int | float | str:
    """`3` / `3.0` -> the id 3, `0.5` -> 0.5 (refused as a class), anything else the name."""
    text = token.strip()
    if INTEGER.match(text):
        return int(float(text)) if "." in text else int(text)
    if DECIMAL.match(text):
        return float(text)
    return text


@dataclass
class LabelReader:
    """Turns one source's label cells into tuples of (mapped) names, one row at a time.

    `names` names integer ids (a names file or a ClassLabel); `separator` splits string
    cells; `label_map` renames. A row whose labels cannot be read raises an EmolabelError
    naming `where` (file and line), or is counted in `skipped` with on_error="skip".
    """

    source: str
    names: list[str] | None = None
    separator: str | None = None
    label_map: LabelMap | None = None
    unmapped: UnmappedLabels = "keep"
    on_error: OnError = "fail"
    kinds: set[str] = field(default_factory=set)
    unmapped_seen: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    first_skip: str | None = None

    def read(self, value: Any, where: str) -> tuple[str, ...] | None:
        """The row's names; None for a missing label (dropped and counted by the caller)."""
        try:
            tokens = self._tokens(value, where)
            if tokens is None:
                return None
            names = self._map([self._name(token, where) for token in tokens], where)
        except EmolabelError as exc:
            if self.on_error == "fail":
                raise
            self.skipped += 1
            self.first_skip = self.first_skip or str(exc)
            return ()
        return names

    def _tokens(self, value: Any, where: str) -> list[Any] | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, (list, tuple)):
            tokens = [v for v in value if v is not None and str(v).strip() != ""]
        elif isinstance(value, str) and self.separator is not None:
            if not value.strip():
                return None
            tokens = [t for t in value.split(self.separator) if t.strip()]
        else:
            if isinstance(value, str) and not value.strip():
                return None
            tokens = [value]
        if not tokens:
            raise EmolabelError(
                f"{where}: empty label list {value!r}: give each row at least one label, or "
                "pass --on-error skip to drop such rows"
            )
        return tokens

    def _name(self, token: Any, where: str) -> str:
        if isinstance(token, str):
            token = _number_or_name(token)  # CSV cells and stringified JSON arrive as text
        if isinstance(token, bool):
            token = int(token)
        if isinstance(token, float):
            if not token.is_integer():
                raise EmolabelError(
                    f"{where}: label {token} is not a class (a float): labels must be names "
                    "or integer ids"
                )
            token = int(token)
        if isinstance(token, int):
            self.kinds.add("id")
            if self.names is None:
                return str(token)
            if not 0 <= token < len(self.names):
                raise EmolabelError(
                    f"{where}: label id {token} is not in the label mapping (ids 0.."
                    f"{len(self.names) - 1}): fix the row or the names file"
                )
            return self.names[token]
        if isinstance(token, dict):
            raise EmolabelError(
                f"{where}: label {token!r} is an object: write a name, an id or a list of them"
            )
        self.kinds.add("name")
        return str(token).strip()

    def _map(self, names: list[str], where: str) -> tuple[str, ...]:
        if self.label_map is None:
            return tuple(dict.fromkeys(names))
        mapped: list[str] = []
        for name in names:
            group = self.label_map.get(name)
            if group is None:
                self.unmapped_seen[name] = self.unmapped_seen.get(name, 0) + 1
                if self.unmapped == "drop":
                    continue
                group = name
            mapped.append(group)
        if not mapped:
            raise EmolabelError(
                f"{where}: label(s) {', '.join(map(repr, names))} are all unknown to the label "
                f"map {self.label_map.name}: add them to the map, pass --unmapped-labels keep, "
                "or --on-error skip to drop such rows"
            )
        return tuple(dict.fromkeys(mapped))

    def check_kinds(self) -> None:
        if self.kinds == {"id", "name"}:
            raise EmolabelError(
                f"{self.source}: the labels mixes integer ids and label names: use one or the "
                "other (or give a names file for the ids)"
            )

    @property
    def numeric(self) -> bool:
        return self.kinds == {"id"} and self.names is None

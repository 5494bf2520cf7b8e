"""Which witnesses must cosign a checkpoint before it counts: C2SP tlog-policy.

Specification: https://c2sp.org/tlog-policy (``/work/shared/spec/c2sp/tlog-policy.md``).
The log's policy lives in ``<home>/keys/ledger.policy`` beside its key::

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]          # url: the witness's submission prefix
    group <name> all|any|<k> <name>...
    quorum <name>|none

A checkpoint is *published* when the witnesses that cosigned it satisfy the
quorum (:meth:`Policy.satisfied`). Witness keys must be cosignature keys (type
0x04, C2SP tlog-cosignature); log keys Ed25519 (0x01).

Example::

    >>> p = Policy.parse("quorum none\\n")
    >>> p.satisfied(set()), p.witnesses
    (True, [])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jejak.errors import LedgerError
from jejak.ledger.note import COSIGNATURE_V1, ED25519, Verifier

POLICY_FILE = "ledger.policy"


@dataclass(frozen=True)
class PolicyWitness:
    name: str
    key: Verifier
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass
class Policy:
    """Logs, witnesses, groups and the quorum of one tlog-policy file."""

    logs: list[tuple[Verifier, str | None]] = field(default_factory=list)
    witnesses: list[PolicyWitness] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = "none"

    @classmethod
    def parse(cls, text: str, where: str = "policy") -> Policy:
        """Parse a policy; LedgerError naming the line that is wrong."""
        p = cls()
        names: set[str] = set()
        quorums = 0
        for n, raw in enumerate(text.split("\n"), 1):
            if any(c in raw for c in "\r\x0b\x0c") or any(ord(c) < 0x20 and c != "\t" for c in raw):
                raise LedgerError(f"{where}:{n}", "control characters are not allowed")
            words = raw.split()
            if not words or words[0].startswith("#"):
                continue
            at = f"{where}:{n}"
            kw, args = words[0], words[1:]
            if kw == "log" and len(args) in (1, 2):
                key = _key(args[0], ED25519, at)
                if any(k.public == key.public for k, _ in p.logs):
                    raise LedgerError(at, "duplicate log key")
                p.logs.append((key, args[1] if len(args) == 2 else None))
            elif kw == "witness" and len(args) in (2, 3):
                name = args[0]
                _new_name(name, names, at)
                key = _key(args[1], COSIGNATURE_V1, at)
                if any(w.key.public == key.public for w in p.witnesses):
                    raise LedgerError(at, "duplicate witness key")
                p.witnesses.append(PolicyWitness(name, key, args[2] if len(args) == 3 else None))
            elif kw == "group" and len(args) >= 3:
                name, k, members = args[0], args[1], tuple(args[2:])
                _new_name(name, names, at)
                if len(set(members)) != len(members):
                    raise LedgerError(at, "a member is listed twice")
                for m in members:
                    if m not in names or m == "none":
                        raise LedgerError(at, f"{m!r} is not defined on a line before")
                if k == "all":
                    threshold = len(members)
                elif k == "any":
                    threshold = 1
                elif k.isdigit() and k == str(int(k)) and 1 <= int(k) <= len(members):
                    threshold = int(k)
                else:
                    raise LedgerError(at, f"threshold {k!r} is not all, any or 1..{len(members)}")
                p.groups[name] = Group(name, threshold, members)
            elif kw == "quorum" and len(args) == 1:
                quorums += 1
                if args[0] != "none" and args[0] not in names:
                    raise LedgerError(at, f"quorum {args[0]!r} is not defined on a line before")
                p.quorum = args[0]
            else:
                raise LedgerError(at, f"cannot read {raw.strip()[:60]!r}")
        if quorums != 1:
            raise LedgerError(where, f"needs exactly one quorum line, has {quorums}")
        return p

    def witness(self, name: str) -> PolicyWitness | None:
        return next((w for w in self.witnesses if w.name == name), None)

    def satisfied(self, cosigned: set[str]) -> bool:
        """Whether witnesses named ``cosigned`` (policy names) meet the quorum."""
        return self.quorum == "none" or self._ok(self.quorum, cosigned)

    def _ok(self, name: str, cosigned: set[str]) -> bool:
        g = self.groups.get(name)
        if g is None:
            return name in cosigned
        return sum(self._ok(m, cosigned) for m in g.members) >= g.threshold

    def cosigners(self, verified: list[Verifier]) -> set[str]:
        """Policy names of the witnesses among ``verified`` keys."""
        return {w.name for w in self.witnesses if w.key in verified}

    def format(self) -> str:
        lines = [f"log {k}" + (f" {u}" if u else "") for k, u in self.logs]
        lines += [
            f"witness {w.name} {w.key}" + (f" {w.url}" if w.url else "") for w in self.witnesses
        ]
        for g in self.groups.values():
            lines.append(f"group {g.name} {g.threshold} {' '.join(g.members)}")
        lines.append(f"quorum {self.quorum}")
        return "\n".join(lines) + "\n"


def _new_name(name: str, names: set[str], at: str) -> None:
    if name in names or name == "none":
        raise LedgerError(at, f"name {name!r} is already defined")
    names.add(name)


def _key(text: str, alg: int, at: str) -> Verifier:
    key = Verifier.parse(text)
    if key.alg != alg:
        kind = "a cosignature (0x04)" if alg == COSIGNATURE_V1 else "an Ed25519 (0x01)"
        raise LedgerError(at, f"{key.name}'s key is not {kind} key")
    return key


def load_policy(home: Path) -> Policy | None:
    """``<home>/keys/ledger.policy``, or None when the log has none (no witnessing asked)."""
    path = Path(home) / "keys" / POLICY_FILE
    try:
        return Policy.parse(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        return None

"""The bounds on the key directory: what the GS lets an office enrol, and what it stops listing.

Every directory version goes to every office in one bus message, so its size must stay far
below the bus's maximum payload whatever any single office does. Three rules bound it:

- one rotation at a time: an office may enrol a key only when none of its other keys is still
  valid (the previous rotation's overlap window has closed), so a request signed by a key that is
  about to be retired, or sent during the overlap, is refused;
- at most `ROTATIONS_PER_DAY` enrolments per office in 24 h of the GS's clock;
- at most `MAX_LISTED_PER_OFFICE` keys of one office listed at once. A retired or revoked key is
  dropped from the directory `PRUNE_AFTER` after it stopped being valid: by then no message it
  signed can still be waiting on the bus (the direct streams keep messages 7 days) and no token it
  signed is still alive. The GS keeps every key in `office_keys`, and every office keeps every
  directory version it adopted, which is what audit verification reads.

With 209 offices the directory is then at most 209 x 4 records: about 190 KB signed with the
key id format the GS requires, 450 KB if every one of them were revoked with a reason; the GS
refuses to sign anything above `size_limit` (512 KiB on the default 1 MiB bus).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from interpol_mesh.bus.streams import DIRECT_MAX_AGE_S
from interpol_mesh.crypto import KeyRecord
from interpol_mesh.envelope import MAX_CLOCK_SKEW

PRUNE_AFTER = timedelta(seconds=DIRECT_MAX_AGE_S) + MAX_CLOCK_SKEW
ROTATIONS_PER_DAY = 2
MAX_LISTED_PER_OFFICE = 4
DAY = timedelta(hours=24)
# The format `new_key_id` produces; a free-form 80-character id would let a record grow.
KEY_ID_SUFFIX = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")


def size_limit(max_payload: int) -> int:
    """Signed directories stay under half the bus's maximum payload: room for growth, never a wedge."""
    return max_payload // 2


def ended_at(record: KeyRecord) -> datetime | None:
    """When the key stopped (or will stop) being valid; None while it has no end."""
    ends = [t for t in (record.valid_until, record.revoked_from) if t is not None]
    return min(ends) if ends else None


def still_needed(record: KeyRecord, now: datetime, revoked_at: datetime | None = None) -> bool:
    """Whether anything in flight can still be signed by the key (else it leaves the directory).

    A revocation is listed for PRUNE_AFTER from when it was decided (`revoked_at`), even when it
    is dated further back: otherwise a theft found late would make the key vanish (offices would
    say "unknown key", not "revoked") instead of being announced as revoked.
    """
    end = ended_at(record)
    if end is not None and revoked_at is not None:
        end = max(end, revoked_at)
    return end is None or end + PRUNE_AFTER > now


def listed(
    records: Iterable[KeyRecord], now: datetime, revoked_at: Mapping[str, datetime] | None = None
) -> tuple[KeyRecord, ...]:
    """The records a directory version signed at `now` carries, in a stable order."""
    decided = revoked_at or {}
    kept = (r for r in records if still_needed(r, now, decided.get(r.key_id)))
    return tuple(sorted(kept, key=lambda r: r.key_id))


def rotation_refusal(
    office_keys: list[KeyRecord], office_id: str, signing_key_id: str, new_key_id: str, now: datetime
) -> tuple[str, str] | None:
    """(reason code, detail) if `office_id` may not enrol `new_key_id` now; `office_keys` are all its keys."""
    prefix = f"{office_id}/"
    if not new_key_id.startswith(prefix) or not KEY_ID_SUFFIX.fullmatch(new_key_id[len(prefix) :]):
        return "key-id-format", f"key id must be {office_id}/<YYYYmmddTHHMMSS>-<6 hex>, not {new_key_id[:100]!r}"
    by_id = {k.key_id: k for k in office_keys}
    if new_key_id in by_id:
        return "key-already-listed", f"{new_key_id} is enrolled already"
    signing = by_id.get(signing_key_id)
    if signing is None or signing.problem_at(now) is not None:
        # A revoked or retired key must not enrol a successor (even with a backdated request).
        return "signing-key-not-valid", f"{signing_key_id} is not a valid key of {office_id} now"
    overlapping = [k.key_id for k in office_keys if k.key_id != signing_key_id and k.problem_at(now) is None]
    if overlapping:
        return "rotation-pending", f"{', '.join(overlapping)} still valid: the previous rotation has not completed"
    recent = [k for k in office_keys if k.enrolled_by is not None and k.valid_from > now - DAY]
    if len(recent) >= ROTATIONS_PER_DAY:
        return "rotation-daily-cap", f"{len(recent)} keys enrolled in the last 24 h (at most {ROTATIONS_PER_DAY})"
    still_listed = listed(office_keys, now)
    if len(still_listed) >= MAX_LISTED_PER_OFFICE:
        return "too-many-listed-keys", f"{len(still_listed)} keys still listed (at most {MAX_LISTED_PER_OFFICE})"
    return None


def revocation_reach(
    keys: list[KeyRecord], key_id: str, invalid_from: datetime, reason: str
) -> dict[str, tuple[datetime, str]]:
    """Every key a revocation of `key_id` from `invalid_from` reaches: key id -> (revoked from, reason).

    A key that the revoked key enrolled at or after `invalid_from` was enrolled by whoever held the
    revoked key then, so nothing it ever signed counts: it is revoked from its own start, and so,
    in turn, is every key it enrolled. A revocation never moves an earlier `revoked_from` later.
    """
    children: dict[str, list[KeyRecord]] = {}
    for k in keys:
        if k.enrolled_by is not None:
            children.setdefault(k.enrolled_by, []).append(k)
    by_id = {k.key_id: k for k in keys}
    reach: dict[str, tuple[datetime, str]] = {}
    todo = [(key_id, invalid_from, reason)]
    while todo:
        kid, since, why = todo.pop()
        if kid in reach:
            continue
        earlier = by_id[kid].revoked_from
        reach[kid] = (since if earlier is None else min(earlier, since), why)
        for child in children.get(kid, []):
            if child.valid_from >= since:
                todo.append((child.key_id, child.valid_from, f"enrolled by revoked key {kid}"))
    return reach

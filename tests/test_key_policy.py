"""The GS's rotation bounds and revocation reach, rule by rule (pure functions; end to end in test_key_abuse)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from interpol_mesh.crypto import KeyRecord
from interpol_offices.general_secretariat.key_policy import (
    PRUNE_AFTER,
    listed,
    revocation_reach,
    rotation_refusal,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PK = base64.b64encode(bytes(32)).decode()


def key(n: int, *, start: datetime, until: datetime | None = None, by: int | None = None, **kw: object) -> KeyRecord:
    return KeyRecord(
        key_id=f"ncb.fr/20260101T000000-{n:06x}",
        office_id="ncb.fr",
        public_key=PK,
        valid_from=start,
        valid_until=until,
        enrolled_by=None if by is None else f"ncb.fr/20260101T000000-{by:06x}",
        **kw,  # type: ignore[arg-type]
    )


def refusal(keys: list[KeyRecord], signing: int, new: str | int = 99) -> str | None:
    new_id = new if isinstance(new, str) else f"ncb.fr/20260601T120000-{new:06x}"
    found = rotation_refusal(keys, "ncb.fr", keys[signing].key_id, new_id, NOW)
    return None if found is None else found[0]


def test_a_current_key_with_no_other_valid_key_may_rotate() -> None:
    keys = [
        key(0, start=NOW - timedelta(days=30), until=NOW - timedelta(days=2)),
        key(1, start=NOW - timedelta(days=9)),
    ]
    keys[1] = keys[1].model_copy(update={"enrolled_by": keys[0].key_id})
    assert refusal(keys, 1) is None


@pytest.mark.parametrize(
    ("keys", "signing", "new", "reason"),
    [
        ([key(0, start=NOW - timedelta(days=9))], 0, "ncb.fr/" + "x" * 60, "key-id-format"),
        ([key(0, start=NOW - timedelta(days=9))], 0, "ncb.de/20260601T120000-000001", "key-id-format"),
        ([key(0, start=NOW - timedelta(days=9))], 0, "ncb.fr/20260101T000000-000000", "key-already-listed"),
        ([key(0, start=NOW - timedelta(days=9), until=NOW - timedelta(seconds=1))], 0, 9, "signing-key-not-valid"),
        ([key(0, start=NOW - timedelta(days=9), revoked_from=NOW - timedelta(hours=1))], 0, 9, "signing-key-not-valid"),
        # the previous rotation's overlap is open: neither the old nor the new key may start another
        ([key(0, start=NOW - timedelta(days=9), until=NOW + timedelta(hours=1)), key(1, start=NOW, by=0)], 0, 9,
         "rotation-pending"),
        ([key(0, start=NOW - timedelta(days=9), until=NOW + timedelta(hours=1)), key(1, start=NOW, by=0)], 1, 9,
         "rotation-pending"),
        ([key(0, start=NOW - timedelta(days=9), until=NOW - timedelta(hours=3)),
          key(1, start=NOW - timedelta(hours=3), until=NOW - timedelta(hours=1), by=0),
          key(2, start=NOW - timedelta(hours=1), by=1)], 2, 9, "rotation-daily-cap"),
        ([key(0, start=NOW - timedelta(days=6), until=NOW - timedelta(days=5)),
          key(1, start=NOW - timedelta(days=5), until=NOW - timedelta(days=3), by=0),
          key(2, start=NOW - timedelta(days=3), until=NOW - timedelta(days=2), by=1),
          key(3, start=NOW - timedelta(days=2), by=2)], 3, 9, "too-many-listed-keys"),
    ],
)  # fmt: skip
def test_each_bound_refuses_with_its_reason(keys: list[KeyRecord], signing: int, new: str | int, reason: str) -> None:
    assert refusal(keys, signing, new) == reason


def test_a_key_leaves_the_directory_once_nothing_in_flight_can_need_it() -> None:
    ended = NOW - PRUNE_AFTER
    keys = [
        key(0, start=NOW - timedelta(days=30), until=ended),
        key(1, start=NOW - timedelta(days=30), until=ended + timedelta(seconds=1)),
        key(2, start=NOW - timedelta(days=30), revoked_from=ended),
        key(3, start=NOW - timedelta(days=30)),
    ]
    assert [k.key_id[-1] for k in listed(keys, NOW)] == ["1", "3"]


def test_a_revocation_dated_back_is_listed_from_when_it_was_decided() -> None:
    """A theft found late: the key must be announced as revoked, not vanish as if it never existed."""
    stolen = key(0, start=NOW - timedelta(days=30), revoked_from=NOW - timedelta(days=8))
    assert listed([stolen], NOW) == ()  # by its invalid-from alone it would be pruned at once
    assert listed([stolen], NOW, {stolen.key_id: NOW}) == (stolen,)
    assert listed([stolen], NOW + PRUNE_AFTER, {stolen.key_id: NOW}) == ()


def test_a_revocation_reaches_what_the_key_enrolled_after_its_invalid_from_recursively() -> None:
    t = NOW - timedelta(days=3)
    keys = [
        key(0, start=NOW - timedelta(days=30)),
        key(1, start=t - timedelta(days=1), by=0),  # enrolled before T: legitimate, stays
        key(2, start=t + timedelta(hours=1), by=0),  # the thief's
        key(3, start=t + timedelta(hours=2), by=2),  # and its successor
        key(4, start=NOW - timedelta(days=30), revoked_from=NOW - timedelta(days=20)),
    ]
    reach = revocation_reach(keys, keys[0].key_id, t, "stolen")
    assert reach == {
        keys[0].key_id: (t, "stolen"),
        keys[2].key_id: (keys[2].valid_from, f"enrolled by revoked key {keys[0].key_id}"),
        keys[3].key_id: (keys[3].valid_from, f"enrolled by revoked key {keys[2].key_id}"),
    }
    # A later "invalid from" never shortens a revocation already in force.
    assert revocation_reach(keys, keys[4].key_id, NOW, "again")[keys[4].key_id][0] == NOW - timedelta(days=20)

"""Every name form of every office id in the packaged directory is valid where it is used, and distinct."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from interpol_mesh.bus import subjects
from interpol_mesh.directory import Office, OfficeKind, load_directory, office_name, office_of_subject_token
from interpol_mesh.errors import ConfigError
from interpol_mesh.storage import schema_for
from interpol_offices.roles import ROLE_PACKAGES, role_for

DIRECTORY = load_directory()


def test_each_form_is_valid_where_it_is_used_and_maps_back() -> None:
    ids = sorted(DIRECTORY.offices)
    tokens = {office_name(i, "subject") for i in ids}
    identifiers = {office_name(i, "identifier") for i in ids}
    assert len(tokens) == len(identifiers) == len(ids)  # no two offices share a name in any form
    for office_id in ids:
        token = office_name(office_id, "subject")
        assert re.fullmatch(r"[a-z0-9_-]+", token), token  # one subject token: no dot, no wildcard
        assert office_of_subject_token(token, DIRECTORY.offices) == office_id
        assert re.fullmatch(r"[a-z0-9_]+", office_name(office_id, "identifier")), office_id
        assert re.fullmatch(r"[a-z0-9_]+", schema_for(office_id)), office_id
        assert re.fullmatch(r"[A-Za-z0-9_]+", subjects.consumer_name(office_id)), office_id
    assert office_name("lo.new-york", "file") == "lo.new-york"
    assert office_of_subject_token("ncb_zz", DIRECTORY.offices) is None


def test_every_office_kind_has_its_role_and_an_unknown_kind_is_refused() -> None:
    assert set(ROLE_PACKAGES) == set(get_args(OfficeKind))
    for kind in get_args(OfficeKind):
        office = next(o for o in DIRECTORY.offices.values() if o.kind == kind)
        assert role_for(office).name
    stray = Office.model_construct(id="xx", kind="zz", name="Nobody", language="en")
    with pytest.raises(ConfigError, match="no role for office kind 'zz'"):
        role_for(stray)

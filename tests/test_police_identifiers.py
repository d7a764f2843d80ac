"""The identifier layer of the police databases: MRZ (ICAO 9303), VIN, document and plate keys, synthetic data.

Pure functions: no bus or database. The MRZ specimens are those of ICAO Doc 9303 (Utopia, "UTO",
is ICAO's fictitious state, so they are parsed with a real code put in its place: the issuing
state and nationality are outside every check digit, which the specimens keep as printed).
"""

from __future__ import annotations

import random
import re
import time
from datetime import date
from pathlib import Path

import pytest

from interpol_mesh.errors import ConfigError
from interpol_offices.police_data import synthetic
from interpol_offices.police_data.errors import FieldError
from interpol_offices.police_data.identifiers import document_key, plate_key
from interpol_offices.police_data.iso3166 import country_codes, load_codes
from interpol_offices.police_data.mrz import check_digit, parse_mrz
from interpol_offices.police_data.vin import check_vin, vin_check_digit, vin_key

TODAY = date(2026, 12, 2)
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
TD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"
MRV_A = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<"
MRV_B = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<"


def real(mrz: str, code: str = "NLD") -> str:
    return mrz.replace("UTO", code)


def field_of(mrz: str) -> str:
    with pytest.raises(FieldError) as caught:
        parse_mrz(mrz, today=TODAY)
    return caught.value.field


def with_char(mrz: str, line: int, position: int, char: str) -> str:
    """The MRZ with one character replaced (line and position 0-based)."""
    lines = mrz.split("\n")
    lines[line] = lines[line][:position] + char + lines[line][position + 1 :]
    return "\n".join(lines)


# --- check digits and the specimens -------------------------------------------------------------


def test_check_digit_of_the_9303_examples() -> None:
    assert check_digit("L898902C3") == 6
    assert check_digit("740812") == 2
    assert check_digit("120415") == 9
    assert check_digit("ZE184226B<<<<<") == 1
    assert check_digit("<<<<") == 0
    with pytest.raises(ValueError, match="not an MRZ character"):
        check_digit("AB-1")


def test_td3_specimen_passport() -> None:
    doc = parse_mrz(real(TD3), today=TODAY)
    assert (doc.document_type, doc.issuing_country, doc.nationality) == ("passport", "NL", "NL")
    assert (doc.document_number, doc.family_name, doc.given_names) == ("L898902C3", "ERIKSSON", "ANNA MARIA")
    assert (doc.date_of_birth, doc.expires_on, doc.sex) == (date(1974, 8, 12), date(2012, 4, 15), "female")
    assert (doc.mrz_format, doc.personal_number) == ("TD3", "ZE184226B")


def test_utopia_itself_is_not_a_country() -> None:
    assert field_of(TD3) == "mrz.issuing_country"


def test_td1_specimen_card() -> None:
    doc = parse_mrz(real(TD1, "SWE"), today=TODAY)
    assert (doc.document_type, doc.issuing_country, doc.document_number) == ("id-card", "SE", "D23145890")
    assert (doc.family_name, doc.given_names, doc.mrz_format) == ("ERIKSSON", "ANNA MARIA", "TD1")
    assert doc.date_of_birth == date(1974, 8, 12)


def test_td2_specimen() -> None:
    doc = parse_mrz(real(TD2, "SWE"), today=TODAY)
    assert (doc.mrz_format, doc.document_number, doc.expires_on) == ("TD2", "D23145890", date(2012, 4, 15))


@pytest.mark.parametrize(("mrz", "kind"), [(MRV_A, "MRV-A"), (MRV_B, "MRV-B")])
def test_visa_specimens_have_no_composite(mrz: str, kind: str) -> None:
    doc = parse_mrz(real(mrz), today=TODAY)
    assert (doc.mrz_format, doc.document_type, doc.document_number) == (kind, "visa", "L8988901C")
    assert doc.nationality is None  # XXX: unspecified nationality
    assert doc.date_of_birth == date(1940, 9, 7)


def test_concatenated_lower_case_and_surrounding_whitespace() -> None:
    flat = "  " + real(TD3).replace("\n", "").lower() + "\n\n"
    assert parse_mrz(flat, today=TODAY) == parse_mrz(real(TD3), today=TODAY)
    assert parse_mrz(real(TD1, "SWE").replace("\n", ""), today=TODAY).document_number == "D23145890"
    assert parse_mrz("\r\n" + real(TD2, "SWE").replace("\n", "\r\n"), today=TODAY).mrz_format == "TD2"


def test_td1_long_document_number_overflows_into_optional_data() -> None:
    number = "D231458907ABC"  # 13 characters: 9 in place, '<', then 4 more and the check digit
    line1 = f"I<SWE{number[:9]}<{number[9:]}{check_digit(number)}<" + "<" * 9
    line2_head = "7408122F1204159SWE"
    optional2 = "<" * 11
    composite = check_digit(line1[5:30] + line2_head[0:7] + line2_head[8:15] + optional2)
    mrz = f"{line1}\n{line2_head}{optional2}{composite}\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
    assert parse_mrz(mrz, today=TODAY).document_number == number
    assert field_of(with_char(mrz, 0, 19, "0" if line1[19] != "0" else "1")) == "mrz.document_number"


# --- each failure names its field ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "position", "field"),
    [
        (1, 9, "mrz.document_number"),  # the number's check digit
        (1, 2, "mrz.document_number"),  # a misread character of the number
        (1, 19, "mrz.date_of_birth"),
        (1, 27, "mrz.expires_on"),
        (1, 42, "mrz.personal_number"),
        (1, 43, "mrz.composite"),
    ],
)
def test_td3_check_digit_failures(line: int, position: int, field: str) -> None:
    mrz = real(TD3)
    original = mrz.split("\n")[line][position]
    assert field_of(with_char(mrz, line, position, "3" if original != "3" else "4")) == field


@pytest.mark.parametrize(
    ("line", "position", "field"),
    [
        (0, 14, "mrz.document_number"),
        (1, 6, "mrz.date_of_birth"),
        (1, 14, "mrz.expires_on"),
        (1, 29, "mrz.composite"),
        (0, 20, "mrz.composite"),  # optional data 1 is covered by the composite only
    ],
)
def test_td1_check_digit_failures(line: int, position: int, field: str) -> None:
    assert field_of(with_char(real(TD1, "SWE"), line, position, "3")) == field


@pytest.mark.parametrize(
    ("line", "position", "field"),
    [(1, 9, "mrz.document_number"), (1, 19, "mrz.date_of_birth"), (1, 35, "mrz.composite")],
)
def test_td2_check_digit_failures(line: int, position: int, field: str) -> None:
    assert field_of(with_char(real(TD2, "SWE"), line, position, "3")) == field


def test_visa_optional_data_is_not_checked_but_its_dates_are() -> None:
    assert parse_mrz(with_char(real(MRV_A), 1, 40, "7"), today=TODAY).optional_data.startswith("6ZE")
    assert field_of(with_char(real(MRV_A), 1, 27, "0")) == "mrz.expires_on"


def test_impossible_dates() -> None:
    # month 13, with its check digit recomputed so that only the date is wrong
    birth = "741312"
    mrz = real(TD3)
    line2 = mrz.split("\n")[1]
    line2 = line2[:13] + birth + str(check_digit(birth)) + line2[20:43]
    line2 += str(check_digit(line2[0:10] + line2[13:20] + line2[21:43]))
    assert field_of(mrz.split("\n")[0] + "\n" + line2) == "mrz.date_of_birth"
    expiry = "120231"
    line2 = line2[:21] + expiry + str(check_digit(expiry)) + line2[28:43]
    line2 = line2[:13] + "740812" + "2" + line2[20:]
    line2 += str(check_digit(line2[0:10] + line2[13:20] + line2[21:43]))
    assert field_of(mrz.split("\n")[0] + "\n" + line2) == "mrz.expires_on"


def test_unknown_dates_are_none() -> None:
    line1, line2 = real(TD3).split("\n")
    line2 = line2[:13] + "<<<<<<0" + line2[20:43]
    line2 += str(check_digit(line2[0:10] + line2[13:20] + line2[21:43]))
    assert parse_mrz(f"{line1}\n{line2}", today=TODAY).date_of_birth is None


@pytest.mark.parametrize(
    "mrz",
    [
        "",
        "P<NLD",
        real(TD3)[:-1],  # 87 characters
        real(TD3).split("\n")[0],  # one line of two
        real(TD3) + "\n" + "<" * 44,  # three lines of 44
        real(TD3).replace("ERIKSSON", "ERIK-SON"),
        real(TD3).replace("ANNA", "ANNÄ"),
        real(TD1, "SWE").replace("\n", "\n ", 1)[:-1],  # lines of unequal length
        "1" + real(TD3)[1:],  # the document code starts with a digit
    ],
)
def test_bad_shapes_and_characters(mrz: str) -> None:
    assert field_of(mrz) == "mrz.format"


def test_other_fields_named() -> None:
    assert field_of(with_char(real(TD3), 1, 20, "Z")) == "mrz.sex"
    assert field_of(with_char(real(TD3), 1, 10, "Q")) == "mrz.nationality"  # QLD
    assert field_of(real(TD3).replace("ERIKSSON", "ER1KSSON")) == "mrz.name"


def test_two_digit_years_follow_today() -> None:
    young = _td3(birth="240101", expiry="340101")
    doc = parse_mrz(young, today=TODAY)
    assert (doc.date_of_birth, doc.expires_on) == (date(2024, 1, 1), date(2034, 1, 1))
    doc = parse_mrz(_td3(birth="270101", expiry="991231"), today=TODAY)
    assert (doc.date_of_birth, doc.expires_on) == (date(1927, 1, 1), date(1999, 12, 31))
    assert parse_mrz(_td3(birth="000229", expiry="300101"), today=TODAY).date_of_birth == date(2000, 2, 29)
    assert field_of(_td3(birth="010229", expiry="300101")) == "mrz.date_of_birth"  # 2001 and 1901: no 29 February
    assert parse_mrz(_td3(birth="261203", expiry="300101"), today=TODAY).date_of_birth == date(1926, 12, 3)


def _td3(*, birth: str, expiry: str, issuer: str = "NLD", nationality: str = "NLD") -> str:
    number = "L898902C3"
    body = f"{number}{check_digit(number)}{nationality}{birth}{check_digit(birth)}F{expiry}{check_digit(expiry)}"
    body += "<" * 14 + "<"
    body += str(check_digit(body[0:10] + body[13:20] + body[21:43]))
    return f"P<{issuer}ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n{body}"


@pytest.mark.parametrize(
    ("issuer", "nationality", "expected"),
    [
        ("D<<", "D<<", ("DE", "DE")),
        ("DEU", "DEU", ("DE", "DE")),
        ("GBR", "GBD", ("GB", "GB")),
        ("GBR", "GBN", ("GB", "GB")),
        ("FRA", "XXA", ("FR", None)),  # stateless holder of a French travel document
        ("DEU", "XXB", ("DE", None)),  # refugee
        ("UNO", "UNO", ("UN", None)),  # UN laissez-passer: filed under UN
        ("UNK", "UNK", ("UN", None)),  # UNMIK
    ],
)
def test_icao_special_codes(issuer: str, nationality: str, expected: tuple[str, str | None]) -> None:
    doc = parse_mrz(_td3(birth="740812", expiry="300101", issuer=issuer, nationality=nationality), today=TODAY)
    assert (doc.issuing_country, doc.nationality) == expected


@pytest.mark.parametrize("issuer", ["XXA", "XPO", "ABC"])
def test_no_state_as_issuer(issuer: str) -> None:
    assert field_of(_td3(birth="740812", expiry="300101", issuer=issuer)) == "mrz.issuing_country"


@pytest.mark.parametrize(
    ("code", "kind"), [("P<", "passport"), ("ID", "id-card"), ("AC", "id-card"), ("C<", "id-card")]
)
def test_document_type_from_the_code(code: str, kind: str) -> None:
    assert parse_mrz(code + real(TD3)[2:], today=TODAY).document_type == kind
    assert parse_mrz("X" + real(TD3)[1:], today=TODAY).document_type == "travel-document"


# --- the country table ---------------------------------------------------------------------------


def test_country_table_covers_every_ncb() -> None:
    codes = country_codes()
    ncbs = Path(__file__).parents[1] / "shared/interpol_mesh/directory/data/ncbs.csv"
    members = {line.split(",")[0] for line in ncbs.read_text(encoding="utf-8").splitlines()[1:] if line}
    assert members <= codes.alpha3_by_alpha2.keys()
    assert codes.alpha2_by_alpha3["FRA"] == "FR"
    assert len(codes.alpha3_by_alpha2) == len(codes.alpha2_by_alpha3) >= 249


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("alpha2,alpha3,name\nFR,FRA,France\nFR,FRX,Again\n", "duplicate code FR"),
        ("alpha2,alpha3,name\nFR,FRA,France\nFX,FRA,Again\n", "duplicate code FRA"),
        ("alpha2,alpha3,name\nfr,FRA,France\n", "capital letters"),
        ("alpha2,alpha3,name\nFR,FRA\n", "3 columns"),
        ("code,alpha3,name\n", "header"),
        ("alpha2,alpha3,name\n", "empty"),
    ],
)
def test_country_table_validated_at_load(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "iso3166.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_codes(path)


# --- VINs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "1M8GDM9A-XKP-042788 ", "11111111111111111", "1HGCM82633A004352"])
def test_valid_north_american_vins(vin: str) -> None:
    assert check_vin(vin) == vin_key(vin)


def test_one_character_changed_is_refused() -> None:
    with pytest.raises(FieldError) as caught:
        check_vin("1M8GDM9AXKP042789", field="vehicle.vin")
    assert (caught.value.field, caught.value.reason) == ("vehicle.vin", "check digit (9th character) does not match")


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP04278I", "1M8GDM9AXKPO42788", "QM8GDM9AXKP042788"])
def test_i_o_q_refused(vin: str) -> None:
    with pytest.raises(FieldError, match="I, O and Q") as caught:
        check_vin(vin)
    assert caught.value.field == "vin"


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "", "1M8GDM9AXKP04278*"])
def test_bad_lengths_and_characters(vin: str) -> None:
    with pytest.raises(FieldError):
        check_vin(vin)


def test_european_and_japanese_vins_have_no_mandatory_check_digit() -> None:
    assert check_vin("WVWZZZ1JZXW000001") == "WVWZZZ1JZXW000001"  # VW: 'Z' in position 9
    assert check_vin("VF1RFB00X57000001") == "VF1RFB00X57000001"
    assert check_vin("JHMGE88406S000001") == "JHMGE88406S000001"


def test_chinese_vins_are_checked() -> None:
    good = "LSVAA4180E2000001"
    good = good[:8] + vin_check_digit(good) + good[9:]
    assert check_vin(good) == good
    bad = good[:8] + ("1" if good[8] != "1" else "2") + good[9:]
    with pytest.raises(FieldError, match="check digit"):
        check_vin(bad)


# --- keys ----------------------------------------------------------------------------------------


def test_document_key() -> None:
    assert document_key(" 12ab-34.567 ") == "12AB34567"
    assert document_key("L898902C3<<") == "L898902C3"
    assert document_key("AB/123 456") == "AB123456"
    with pytest.raises(FieldError) as caught:
        document_key(" -<. ")
    assert caught.value.field == "document_number"
    with pytest.raises(FieldError, match=r"sltd\.number"):
        document_key("", field="sltd.number")


def test_plate_key() -> None:
    assert plate_key("AB-123-cd") == "AB123CD"
    assert plate_key("B-ÄÖ 1234") == "BAO1234"
    assert plate_key("Ç 12 É") == "C12E"
    assert plate_key("А123ВС 77") == plate_key("A123BC 77") == "A123BC77"  # Cyrillic look-alikes
    assert plate_key("ΙΚΑ-1234") == "IKA1234"  # Greek look-alikes
    assert plate_key("١٢٣٤") == "1234"  # Arabic-Indic digits
    with pytest.raises(FieldError) as caught:
        plate_key(" - ")
    assert caught.value.field == "plate"
    with pytest.raises(FieldError, match=r"vehicle\.plate"):
        plate_key("--", field="vehicle.plate")


# --- synthetic data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "pattern"),
    [
        ("FR", r"^\d{2}[A-Z]{2}\d{5}$"),
        ("DE", r"^[CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8}$"),
        ("US", r"^\d{9}$"),
        ("ES", r"^[A-Z]{3}\d{6}$"),
        ("IT", r"^[A-Z]{2}\d{7}$"),
        ("NL", r"^[A-NP-Z]{2}[A-NP-Z0-9]{6}\d$"),
        ("CN", r"^E\d{8}$"),
        ("IN", r"^[A-Z]\d{7}$"),
        ("ZW", r"^[A-Z]\d{8}$"),  # the default format
    ],
)
def test_document_number_formats(country: str, pattern: str) -> None:
    rng = random.Random(4)
    assert all(re.match(pattern, synthetic.document_number(rng, country)) for _ in range(200))


def test_documents_are_deterministic_unique_and_consistent() -> None:
    first = list(synthetic.documents(20_000, seed=11))
    assert first == list(synthetic.documents(20_000, seed=11))
    assert first[:500] == list(synthetic.documents(500, seed=11))
    assert first != list(synthetic.documents(20_000, seed=12))
    assert len({(d.number, d.issuing_country) for d in first}) == len(first)
    for doc in first:
        if doc.issued_on is None:
            assert doc.status == "blank-stolen" and doc.expires_on is None
        else:
            assert doc.expires_on is not None
            assert doc.issued_on <= doc.reported_on <= min(doc.expires_on, synthetic.AS_OF)
    assert {d.document_type for d in first} == {"passport", "id-card", "visa", "travel-document"}
    assert {d.issuing_country for d in synthetic.documents(300, seed=1, countries=["FR", "DE"])} == {"FR", "DE"}


def test_mrz_round_trip() -> None:
    for doc in synthetic.documents(3_000, seed=5):
        mrz = synthetic.mrz_for(doc, family_name="Müller-Lüdenscheidt", given_names="Jean Paul", personal_number="X1")
        parsed = parse_mrz(mrz, today=TODAY)
        assert (parsed.document_number, parsed.issuing_country, parsed.expires_on) == (
            doc.number,
            doc.issuing_country,
            doc.expires_on,
        )
        assert parsed.document_type == ("passport" if doc.document_type == "travel-document" else doc.document_type)
        assert (parsed.family_name, parsed.given_names) == ("M LLER L DENSCHEIDT", "JEAN PAUL")
        assert parsed.date_of_birth == date(1985, 6, 15)


def test_synthetic_vins_plates_and_vehicles() -> None:
    rng = random.Random(9)
    for _ in range(2_000):
        number = synthetic.vin(rng)
        assert vin_check_digit(number) == number[8] and check_vin(number) == number
    assert plate_key(synthetic.plate(rng, "RU")).isascii()
    fleet = list(synthetic.vehicles(5_000, seed=3))
    assert fleet == list(synthetic.vehicles(5_000, seed=3))
    for vehicle in fleet:
        assert vehicle.vin or vehicle.plate
        if vehicle.vin:
            assert vin_check_digit(vehicle.vin) == vehicle.vin[8]
        if vehicle.plate:
            assert vehicle.plate_country and plate_key(vehicle.plate)
    assert len({v.vin[:3] for v in fleet if v.vin}) >= 20  # WMIs of several regions


def test_generator_speed_is_printed() -> None:
    synthetic.default_countries()
    count = 200_000
    started, cpu = time.perf_counter(), time.process_time()
    for _ in synthetic.documents(count, seed=1):
        pass
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(f"\nsynthetic documents: {count / wall:,.0f}/s wall, {count / used:,.0f}/s of CPU")
    started = time.perf_counter()
    for _ in synthetic.vehicles(50_000, seed=1):
        pass
    print(f"synthetic vehicles: {50_000 / (time.perf_counter() - started):,.0f}/s wall")

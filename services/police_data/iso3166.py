"""ISO 3166-1 alpha-2 <-> alpha-3 (data/iso3166.csv), and the ICAO 9303 codes that are not countries.

An MRZ names states by alpha-3 (plus ICAO's own codes); the databases file them by alpha-2 like
the rest of the mesh. The table is reviewed data, so a malformed file fails at load with one
error naming its line, rather than mapping some country wrongly at a border.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from interpol_mesh.errors import ConfigError

_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")

# ICAO Doc 9303 part 3 §5 codes for holders with no country of nationality (or none stated).
NO_NATIONALITY = frozenset(
    {
        "XXA",  # stateless person (1954 convention)
        "XXB",  # refugee (1951 convention)
        "XXC",  # refugee, other than XXB
        "XXX",  # unspecified nationality
        "UNO",  # United Nations Organization official
        "UNA",  # specialised agency of the UN
        "UNK",  # resident of Kosovo, document issued by UNMIK
        "EUE",  # European Union (laissez-passer)
        "XPO",  # INTERPOL
        "XOM",  # Sovereign Military Order of Malta
        "XCC",  # Caribbean Community
        "XES",  # Organisation of Eastern Caribbean States
        "XBA",  # African Development Bank
        "XIM",  # African Export-Import Bank
        "XCE",  # Council of Europe
        "XCO",  # Common Market for Eastern and Southern Africa
        "XDC",  # Southern African Development Community
        "XEC",  # Economic Community of West African States
    }
)

# ICAO codes that stand for an ISO country: Germany's one-letter code and the British classes.
ICAO_ALIASES = {
    "D": "DE",
    "GBD": "GB",  # British Overseas Territories citizen
    "GBN": "GB",  # British National (Overseas)
    "GBO": "GB",  # British Overseas citizen
    "GBP": "GB",  # British protected person
    "GBS": "GB",  # British subject
}

# Issuers that are organisations, filed under their ISO 3166-1 *exceptionally reserved* code:
# UN laissez-passer and UNMIK documents are in SLTD, so they must be searchable under a code the
# wire models accept (`^[A-Z]{2}$`). Other organisations (XPO, XOM...) are refused as issuers.
ISSUER_ORGANISATIONS = {"UNO": "UN", "UNA": "UN", "UNK": "UN", "EUE": "EU"}


@dataclass(frozen=True)
class CountryCodes:
    """The two directions of the table, and each country's English short name."""

    alpha2_by_alpha3: dict[str, str]
    alpha3_by_alpha2: dict[str, str]
    name_by_alpha2: dict[str, str]


def load_codes(path: Path) -> CountryCodes:
    """Read and check a table (columns alpha2,alpha3,name; unique codes of the right shape)."""
    by3: dict[str, str] = {}
    by2: dict[str, str] = {}
    names: dict[str, str] = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header != ["alpha2", "alpha3", "name"]:
                raise ConfigError(f"{path}:1: header must be alpha2,alpha3,name, not {header}")
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if len(row) != 3:
                    raise ConfigError(f"{where}: 3 columns expected, found {len(row)}")
                alpha2, alpha3, name = row
                if not _ALPHA2.match(alpha2) or not _ALPHA3.match(alpha3) or not name.strip():
                    raise ConfigError(f"{where}: expected two and three capital letters and a name")
                if alpha2 in by2 or alpha3 in by3:
                    raise ConfigError(f"{where}: duplicate code {alpha2 if alpha2 in by2 else alpha3}")
                by2[alpha2] = alpha3
                by3[alpha3] = alpha2
                names[alpha2] = name
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the country table: {exc}") from exc
    if not by2:
        raise ConfigError(f"{path}: the country table is empty")
    return CountryCodes(alpha2_by_alpha3=by3, alpha3_by_alpha2=by2, name_by_alpha2=names)


@cache
def country_codes() -> CountryCodes:
    """The package's table, read once."""
    return load_codes(Path(__file__).with_name("data") / "iso3166.csv")

"""Country names, demonyms and a few capitals -> English short country names (as in FORMAT.md)."""

from __future__ import annotations

import re
from typing import Final

# country: aliases and demonyms (lower case). Capitals only where a dateline rarely misleads.
_TABLE: Final[dict[str, tuple[str, ...]]] = {
    "Afghanistan": ("afghan", "afghans", "kabul"),
    "Albania": ("albanian",),
    "Algeria": ("algerian",),
    "Angola": ("angolan",),
    "Argentina": ("argentine", "argentinian"),
    "Armenia": ("armenian",),
    "Australia": ("australian", "canberra"),
    "Austria": ("austrian", "vienna"),
    "Azerbaijan": ("azerbaijani", "azeri"),
    "Bahrain": ("bahraini",),
    "Bangladesh": ("bangladeshi", "dhaka"),
    "Belarus": ("belarusian", "belarussian", "minsk"),
    "Belgium": ("belgian", "brussels"),
    "Bolivia": ("bolivian",),
    "Bosnia and Herzegovina": ("bosnia", "bosnian"),
    "Brazil": ("brazilian", "brasilia"),
    "Bulgaria": ("bulgarian", "sofia"),
    "Burkina Faso": ("burkinabe",),
    "Burundi": ("burundian",),
    "Cambodia": ("cambodian", "phnom penh"),
    "Cameroon": ("cameroonian",),
    "Canada": ("canadian", "canadians", "ottawa"),
    "Central African Republic": ("central african",),
    "Chad": ("chadian",),
    "Chile": ("chilean",),
    "China": ("chinese", "beijing", "prc", "people's republic of china"),
    "Colombia": ("colombian", "bogota"),
    "Congo": ("congolese", "democratic republic of congo", "democratic republic of the congo", "drc"),
    "Croatia": ("croatian", "croat"),
    "Cuba": ("cuban", "cubans", "havana"),
    "Cyprus": ("cypriot",),
    "Czech Republic": ("czech", "czechia", "prague"),
    "Denmark": ("danish", "dane", "copenhagen"),
    "Ecuador": ("ecuadorian", "ecuadorean"),
    "Egypt": ("egyptian", "cairo"),
    "Eritrea": ("eritrean", "eritreans", "asmara"),
    "Estonia": ("estonian", "tallinn"),
    "Ethiopia": ("ethiopian", "addis ababa"),
    "Finland": ("finnish", "finn", "helsinki"),
    "France": ("french", "paris"),
    "Georgia": ("georgian", "tbilisi"),
    "Germany": ("german", "berlin"),
    "Ghana": ("ghanaian",),
    "Greece": ("greek", "athens"),
    "Guatemala": ("guatemalan",),
    "Guinea": ("guinean",),
    "Haiti": ("haitian",),
    "Honduras": ("honduran",),
    "Hong Kong": ("hong konger",),
    "Hungary": ("hungarian", "budapest"),
    "India": ("indian", "new delhi"),
    "Indonesia": ("indonesian", "jakarta"),
    "Iran": ("iranian", "iranians", "tehran", "persian", "islamic republic"),
    "Iraq": ("iraqi", "iraqis", "baghdad"),
    "Ireland": ("irish", "dublin"),
    "Israel": ("israeli", "israelis", "jerusalem"),
    "Italy": ("italian", "rome"),
    "Ivory Coast": ("ivorian", "cote d'ivoire"),
    "Japan": ("japanese", "tokyo"),
    "Jordan": ("jordanian", "amman"),
    "Kazakhstan": ("kazakh", "kazakhstani"),
    "Kenya": ("kenyan", "nairobi"),
    "Kosovo": ("kosovar",),
    "Kuwait": ("kuwaiti",),
    "Kyrgyzstan": ("kyrgyz",),
    "Laos": ("laotian", "lao"),
    "Latvia": ("latvian", "riga"),
    "Lebanon": ("lebanese",),
    "Liberia": ("liberian",),
    "Libya": ("libyan", "libyans", "tripoli"),
    "Lithuania": ("lithuanian", "vilnius"),
    "Malaysia": ("malaysian", "kuala lumpur"),
    "Mali": ("malian", "bamako"),
    "Mexico": ("mexican",),
    "Moldova": ("moldovan", "chisinau"),
    "Mongolia": ("mongolian",),
    "Morocco": ("moroccan", "rabat"),
    "Mozambique": ("mozambican",),
    "Myanmar": ("burma", "burmese", "myanmar's", "naypyidaw", "naypyitaw"),
    "Nepal": ("nepalese", "nepali", "kathmandu"),
    "Netherlands": ("dutch", "holland", "the netherlands", "the hague", "amsterdam"),
    "New Zealand": ("new zealander", "kiwi", "wellington"),
    "Nicaragua": ("nicaraguan", "managua"),
    "Niger": ("nigerien", "niamey"),
    "Nigeria": ("nigerian", "abuja"),
    "North Korea": ("north korean", "north koreans", "dprk", "pyongyang", "n. korea", "n. korean", "n korea",
                    "democratic people's republic of korea"),
    "Norway": ("norwegian", "oslo"),
    "Oman": ("omani",),
    "Pakistan": ("pakistani", "islamabad"),
    "Palestine": ("palestinian", "palestinians"),
    "Peru": ("peruvian", "lima"),
    "Philippines": ("filipino", "philippine", "the philippines", "manila"),
    "Poland": ("polish", "pole", "warsaw"),
    "Portugal": ("portuguese", "lisbon"),
    "Qatar": ("qatari", "doha"),
    "Romania": ("romanian", "bucharest"),
    "Russia": ("russian", "russians", "moscow", "kremlin", "russian federation"),
    "Rwanda": ("rwandan", "kigali"),
    "Saudi Arabia": ("saudi", "saudis", "riyadh"),
    "Senegal": ("senegalese", "dakar"),
    "Serbia": ("serbian", "serb", "belgrade"),
    "Sierra Leone": ("sierra leonean",),
    "Singapore": ("singaporean",),
    "Slovakia": ("slovak",),
    "Somalia": ("somali", "mogadishu"),
    "South Africa": ("south african", "pretoria", "johannesburg"),
    "South Korea": ("south korean", "south koreans", "seoul", "republic of korea", "rok", "s. korea"),
    "South Sudan": ("south sudanese", "juba"),
    "Soviet Union": ("soviet", "soviets", "ussr", "the soviet union"),
    "Spain": ("spanish", "madrid"),
    "Sri Lanka": ("sri lankan", "colombo"),
    "Sudan": ("sudanese", "khartoum"),
    "Sweden": ("swedish", "swede", "stockholm"),
    "Switzerland": ("swiss", "bern", "geneva"),
    "Syria": ("syrian", "syrians", "damascus"),
    "Taiwan": ("taiwanese", "taipei"),
    "Tajikistan": ("tajik",),
    "Tanzania": ("tanzanian",),
    "Thailand": ("thai", "bangkok"),
    "Tunisia": ("tunisian", "tunis"),
    "Turkey": ("turkish", "turkiye", "türkiye", "ankara", "turks"),
    "Turkmenistan": ("turkmen",),
    "Uganda": ("ugandan", "kampala"),
    "Ukraine": ("ukrainian", "ukrainians", "kyiv", "kiev"),
    "United Arab Emirates": ("uae", "emirati", "abu dhabi", "dubai"),
    "United Kingdom": ("britain", "british", "uk", "u.k.", "great britain", "england", "english", "scotland",
                       "scottish", "wales", "welsh"),
    "United States": ("us", "u.s.", "usa", "u.s.a.", "america", "american", "americans", "washington",
                      "united states of america"),
    "Uruguay": ("uruguayan",),
    "Uzbekistan": ("uzbek",),
    "Venezuela": ("venezuelan", "venezuelans", "caracas"),
    "Vietnam": ("vietnamese", "hanoi", "viet nam"),
    "Yemen": ("yemeni", "yemenis", "sanaa"),
    "Zambia": ("zambian",),
    "Zimbabwe": ("zimbabwean", "harare"),
}

# Sub-national places often named instead of their country (provinces of federal parliaments).
_REGIONS: Final[dict[str, str]] = {
    "ontario": "Canada", "quebec": "Canada", "alberta": "Canada", "nova scotia": "Canada",
    "british columbia": "Canada", "manitoba": "Canada", "saskatchewan": "Canada", "new brunswick": "Canada",
    "westminster": "United Kingdom", "tory": "United Kingdom", "tories": "United Kingdom",
    "crimea": "Ukraine", "donbas": "Ukraine", "kherson": "Ukraine", "idlib": "Syria", "homs": "Syria",
    "aleppo": "Syria", "hama": "Syria", "daraa": "Syria", "hatay": "Turkey",
}

ALIASES: Final[dict[str, str]] = {}
for _country, _aliases in _TABLE.items():
    ALIASES[_country.lower()] = _country
    for _a in _aliases:
        ALIASES[_a] = _country

_COUNTRY_RE: Final = re.compile(
    r"(?<![\w.])(?:" + "|".join(re.escape(a) for a in sorted(ALIASES, key=len, reverse=True)) + r")(?![\w])",
    re.IGNORECASE,
)
_REGION_RE: Final = re.compile(
    r"\b(?:" + "|".join(re.escape(a) for a in sorted(_REGIONS, key=len, reverse=True)) + r")\b", re.IGNORECASE
)

# Lower-case aliases that are ordinary English words unless capitalised.
_CASE_SENSITIVE: Final = frozenset({"us", "chad", "georgia", "jordan", "turkey", "niger", "guinea", "lima",
                                    "sofia", "pole", "english", "kiwi", "rome", "doha"})


def country_of(word: str) -> str | None:
    """A country for a name, demonym or capital, or None."""
    w = word.strip().lower().removesuffix("'s").removesuffix("\u2019s")
    w = w.removeprefix("the ")
    return ALIASES.get(w)


def find_countries(text: str, with_regions: bool = False) -> list[tuple[str, int, int]]:
    """(country, start, end) for every country mention in ``text``."""
    out: list[tuple[str, int, int]] = []
    for m in _COUNTRY_RE.finditer(text):
        s = m.group(0)
        low = s.lower()
        if low in _CASE_SENSITIVE and not s[0].isupper():
            continue
        if low == "us" and s != "US":
            continue
        out.append((ALIASES[low], m.start(), m.end()))
    if with_regions:
        for m in _REGION_RE.finditer(text):
            if m.group(0)[0].isupper():
                out.append((_REGIONS[m.group(0).lower()], m.start(), m.end()))
        out.sort(key=lambda t: t[1])
    return out

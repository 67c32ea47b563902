"""The bundled profile-scoring data: synthetic people scored by a transparent rubric.

The profiles are drawn from a handful of archetypes with a fixed seed; the reference answer of each is
computed by the rubric below (fit for an automotive embedded team that builds TSN/AVB networking in C
under MISRA-C), so every score can be explained and re-derived. Names are made of syllables, so nearly
every person is new: a held-out profile is someone the student never met, name included, and a
memorised handle cannot pass.

`export.source: bundled:json_record` generates `export.bundled_profiles` of them at export time (the
same seed gives the same people, in the same order, whatever the count). The committed
data/seed/profiles.csv and profiles.sqlite are the first 240, as examples of a file and a database source:

    python -m distilloop.data.profiles          # from the checkout: rewrites both files deterministically
"""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from pathlib import Path

SEED_DIR = Path("data") / "seed"  # the checkout's example sources, written by hand (below)
CSV_PATH = SEED_DIR / "profiles.csv"
DB_PATH = SEED_DIR / "profiles.sqlite"
COUNT = 240  # rows in the committed CSV / SQLite examples
SEED = 20261201
COLUMNS = [
    "handle",
    "headline",
    "years_experience",
    "languages",
    "skills",
    "certifications",
    "industry",
    "location",
    "open_to_work",
    "summary",
    "reference",
]

# name parts: 2-3 syllables give tens of thousands of first and last names
ONSETS = ["b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "ch", "kr", "st", "tr"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou"]
CODAS = ["", "", "", "n", "r", "s", "l", "k", "m", "t"]
LOCATIONS = [
    "Munich, DE",
    "Stuttgart, DE",
    "Gothenburg, SE",
    "Detroit, US",
    "Toulouse, FR",
    "Turin, IT",
    "Brno, CZ",
    "Bangalore, IN",
    "Nagoya, JP",
    "Austin, US",
    "Berlin, DE",
    "Warsaw, PL",
    "remote",
]

TSN_SKILLS = ["TSN", "AVB", "gPTP (802.1AS)", "802.1Qbv", "802.1Qav", "IEEE 1722", "SRP"]
ARCHETYPES = {
    # name: (weight, headlines, industries, languages pool, skills pool, certifications pool, years range)
    "automotive_network": (
        3,
        [
            "Embedded C engineer, in-vehicle Ethernet",
            "TSN/AVB firmware developer",
            "Automotive networking engineer",
            "ECU software engineer (Ethernet)",
        ],
        ["automotive"],
        ["C", "C++", "Python", "Rust"],
        TSN_SKILLS + ["MISRA-C", "AUTOSAR", "CAN", "FreeRTOS", "Wireshark", "Linux drivers"],
        ["ISO 26262 functional safety", "ASPICE", "none"],
        (2, 18),
    ),
    "automotive_other": (
        2,
        [
            "Automotive embedded developer",
            "Body control software engineer",
            "AUTOSAR integrator",
            "Powertrain calibration engineer",
        ],
        ["automotive"],
        ["C", "C++", "MATLAB", "Python"],
        ["MISRA-C", "AUTOSAR", "CAN", "LIN", "FlexRay", "UDS diagnostics", "Simulink", "TSN"],
        ["ISO 26262 functional safety", "ASPICE", "none"],
        (1, 20),
    ),
    "embedded_other": (
        2,
        [
            "Firmware engineer",
            "Embedded systems developer",
            "Industrial automation engineer",
            "Avionics software engineer",
        ],
        ["aerospace", "industrial automation", "consumer electronics", "medical devices"],
        ["C", "C++", "Python", "Assembly"],
        ["RTOS", "bare-metal ARM", "SPI/I2C", "MISRA-C", "DO-178C", "PROFINET", "EtherCAT", "TSN", "gPTP (802.1AS)"],
        ["IEC 61508", "DO-178C", "none"],
        (1, 22),
    ),
    "networking": (
        1,
        ["Network software engineer", "Linux networking developer", "Telecom protocol engineer"],
        ["telecom", "networking equipment"],
        ["C", "Go", "Python", "C++"],
        ["Linux kernel networking", "DPDK", "PTP (IEEE 1588)", "802.1Qbv", "VLANs", "BGP", "eBPF"],
        ["CCNA", "none"],
        (1, 20),
    ),
    "web": (
        2,
        ["Full-stack web developer", "Frontend engineer", "Backend developer (Node.js)"],
        ["e-commerce", "fintech", "media"],
        ["JavaScript", "TypeScript", "Python", "Go", "Java"],
        ["React", "Node.js", "PostgreSQL", "Kubernetes", "GraphQL", "AWS"],
        ["AWS Solutions Architect", "none"],
        (0, 15),
    ),
    "data": (
        1,
        ["Data scientist", "Machine learning engineer", "Data engineer"],
        ["fintech", "retail", "automotive", "healthcare"],
        ["Python", "SQL", "R", "Scala", "C++"],
        ["PyTorch", "pandas", "Spark", "MLOps", "computer vision", "time series"],
        ["none"],
        (0, 12),
    ),
    "student": (
        1,
        ["Electrical engineering student", "Computer science graduate", "Mechatronics graduate"],
        ["education"],
        ["C", "Python", "Java", "MATLAB"],
        ["Arduino", "embedded C basics", "CAN", "Linux", "robotics", "TSN"],
        ["none"],
        (0, 1),
    ),
}


INDUSTRY_POINTS = {
    "automotive": 10,
    "aerospace": 6,
    "industrial automation": 6,
    "telecom": 5,
    "networking equipment": 5,
}


def first_held(held: list[str], options: list[tuple[str, str, int]], absent: str) -> tuple[str, int]:
    """(label, points) of the first option (value, label, points) the profile holds; else (absent, 0)."""
    for value, label, points in options:
        if value in held:
            return label, points
    return absent, 0


def score_profile(profile: dict) -> tuple[float, str]:
    """The rubric: fit for an automotive TSN/AVB team writing MISRA-C. Returns (score, reason).

    The reason walks the rubric item by item in a fixed order with a running total in points (the
    score is points / 100): every item is named, present or not, each TSN/AVB skill counted is named on
    its own step (6 points each, at most four), and each step is one small addition. docs/data.md shows
    what each form of the reason let a 135M student learn."""
    languages = profile["languages"].split("; ")
    skills = profile["skills"].split("; ")
    certifications = profile["certifications"].split("; ")
    years = int(profile["years_experience"])
    total = (3 * min(years, 10) + 1) // 2  # 1.5 points a year up to 10, rounded half up
    steps = [f"{years} year{'s' if years != 1 else ''} +{total} = {total}"]

    def add(item: str, points: int) -> None:
        nonlocal total
        total += points
        steps.append(f"{item} +{points} = {total}")

    add(*first_held(languages, [("C", "C", 20), ("C++", "C++ only", 8)], "no C"))
    tsn = [skill for skill in skills if skill in TSN_SKILLS][:4]  # each named: a step per skill, no counting
    for skill in tsn:
        add(skill, 6)
    if not tsn:
        add("no TSN/AVB", 0)
    add(*first_held(skills, [("MISRA-C", "MISRA-C", 12)], "no MISRA-C"))
    add(*first_held(skills, [("AUTOSAR", "AUTOSAR", 5)], "no AUTOSAR"))
    certificates = [
        ("ISO 26262 functional safety", "ISO 26262", 8),
        ("ASPICE", "ASPICE", 4),
        ("IEC 61508", "IEC 61508", 4),
    ]
    add(*first_held(certifications, certificates, "no safety certificate"))
    add(profile["industry"], INDUSTRY_POINTS.get(profile["industry"], 0))
    verdict = "strong fit" if total >= 70 else "partial fit" if total >= 40 else "weak fit"
    return round(total / 100, 2), "; ".join(steps) + f" points: {verdict}."


def make_name(rng: random.Random) -> str:
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(rng.randint(2, 3)))


def reference(profile: dict) -> str:
    """The rubric's answer for the profile, as the JSON the student is trained to write."""
    score, reason = score_profile(profile)
    # the reason comes before the score: an answer works through the rubric, then gives the total it reached
    return json.dumps({"handle": profile["handle"], "reason": reason, "score": score})


def summary(first: str, profile: dict) -> str:
    """The profile's one-line summary, from its first name and fields."""
    years, languages, skills = int(profile["years_experience"]), profile["languages"], profile["skills"]
    return (
        f"{first.capitalize()} has {years} year{'s' if years != 1 else ''} in {profile['industry']}, working mostly in "
        f"{languages.split('; ')[0]} on {skills.split('; ')[0]} and {skills.split('; ')[-1]}."
    )


def make_profile(rng: random.Random, index: int) -> dict:
    names = list(ARCHETYPES)
    archetype = rng.choices(names, weights=[ARCHETYPES[n][0] for n in names])[0]
    _, headlines, industries, language_pool, skill_pool, cert_pool, (low, high) = ARCHETYPES[archetype]
    first, last = make_name(rng), make_name(rng)
    languages = rng.sample(language_pool, rng.randint(1, min(3, len(language_pool))))
    skills = rng.sample(skill_pool, rng.randint(2, min(6, len(skill_pool))))
    certifications = rng.sample(cert_pool, 1)
    years = rng.randint(low, high)
    profile = {
        "handle": f"{first}_{last}{index:04d}",
        "headline": rng.choice(headlines),
        "years_experience": str(years),
        "languages": "; ".join(languages),
        "skills": "; ".join(skills),
        "certifications": "; ".join(certifications),
        "industry": rng.choice(industries),
        "location": rng.choice(LOCATIONS),
        "open_to_work": rng.choice(["yes", "no"]),
    }
    profile["summary"] = summary(first, profile)
    profile["reference"] = reference(profile)
    return profile


def generate(count: int = COUNT):
    """The first `count` profiles, one at a time (a prefix of any longer run)."""
    rng = random.Random(SEED)
    for index in range(1, count + 1):
        yield make_profile(rng, index)


def build(count: int = COUNT) -> list[dict]:
    return list(generate(count))


def write(profiles: list[dict], csv_path: Path = CSV_PATH, db_path: Path = DB_PATH) -> None:
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(profiles)
    load_sqlite(csv_path, db_path)


def load_sqlite(csv_path: Path, db_path: Path) -> None:
    """The SQLite database is built from the CSV, so the two never disagree."""
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    db_path.unlink(missing_ok=True)
    with sqlite3.connect(db_path) as connection:
        columns = ", ".join(f"{name} {'INTEGER' if name == 'years_experience' else 'TEXT'}" for name in COLUMNS)
        connection.execute(f"CREATE TABLE profiles ({columns}, PRIMARY KEY (handle))")
        connection.executemany(
            f"INSERT INTO profiles VALUES ({', '.join('?' * len(COLUMNS))})",
            [[row[name] for name in COLUMNS] for row in rows],
        )
    connection.close()


if __name__ == "__main__":
    write(build())
    print(f"wrote {COUNT} profiles to {CSV_PATH} and {DB_PATH}")

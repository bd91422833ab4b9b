"""Generated member files for the import: realistic Belgian-cooperative data, deterministic.

Names mix francophone, Flemish and international first and family names; emails are unique
(the row number is part of the address); about 86% live in Belgium; languages fr/nl/en.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from datetime import date, timedelta
from pathlib import Path

from coop_membership.entrypoints.cli import CSV_COLUMNS

GIVEN = ["Adrien", "Alice", "Amélie", "Antoine", "Arnaud", "Aurélie", "Baptiste", "Bart", "Benoît", "Bram", "Camille", "Caroline", "Catherine", "Charlotte", "Christophe", "Claire", "Cédric", "Damien", "David", "Delphine", "Dirk", "Elke", "Els", "Emma", "Eva", "Fatima", "Florence", "François", "Frédéric", "Geert", "Gilles", "Hanne", "Hélène", "Hugo", "Inès", "Isabelle", "Jan", "Jasper", "Jeroen", "Joke", "Julie", "Julien", "Karim", "Katrien", "Koen", "Laura", "Laurent", "Lea", "Leen", "Lieven", "Lotte", "Louis", "Lucas", "Manon", "Marc", "Margot", "Marie", "Marieke", "Mathilde", "Maxime", "Mehdi", "Mohamed", "Nathalie", "Nicolas", "Nina", "Noor", "Olivier", "Pascal", "Pauline", "Pieter", "Quentin", "Raphaël", "Rik", "Robin", "Romain", "Sam", "Sander", "Sarah", "Sébastien", "Sofie", "Sophie", "Stijn", "Thomas", "Tim", "Tom", "Valérie", "Vincent", "Wim", "Yasmine", "Yves", "Zoé", "Ana", "João", "Giulia", "Luca", "Anna", "Jakub", "Olga", "Aïcha", "Youssef"]

def _family_names() -> list[str]:
    text = """Peeters|Janssens|Maes|Jacobs|Mertens|Willems|Claes|Goossens|Wouters|De Smet|Dubois|
    Lambert|Dupont|Martin|Simon|Leclercq|Laurent|Lejeune|Renard|Petit|Hermans|Michiels|Aerts|
    Vermeulen|Van den Broeck|De Clercq|Desmet|Vandenberghe|Pauwels|Lemaire|Denis|Dumont|François|
    Leroy|Collard|Fontaine|Mathieu|Gérard|Mercier|Van Damme|Verstraete|Hendrickx|Baert|Smets|Coppens|
    Bosmans|Wuyts|Stevens|Cools|Verhaegen|Charlier|Cornet|Gilson|Jacquet|Henrard|Moreau|Bertrand|
    Rousseau|Lefèvre|El Amrani|Benali|Nowak|Kowalski|Rossi|Ferreira|Silva|Öztürk|Yılmaz|Ndiaye|
    Diallo|Nguyen|Vanderlinden|Van Acker|De Backer|Vandamme|Dierickx|Schepers|Lenaerts|D'Hondt|Nijs"""
    return [n.strip() for n in text.split("|") if n.strip()]


FAMILY = _family_names()

#: (postal code, city, language most spoken there)
BE_CITIES = [
    ("1000", "Bruxelles", "fr"), ("1050", "Ixelles", "fr"), ("1060", "Saint-Gilles", "fr"),
    ("1030", "Schaerbeek", "fr"), ("1080", "Molenbeek-Saint-Jean", "fr"), ("1190", "Forest", "fr"),
    ("4000", "Liège", "fr"), ("5000", "Namur", "fr"), ("6000", "Charleroi", "fr"),
    ("7000", "Mons", "fr"), ("1348", "Louvain-la-Neuve", "fr"), ("6700", "Arlon", "fr"),
    ("2000", "Antwerpen", "nl"), ("9000", "Gent", "nl"), ("3000", "Leuven", "nl"),
    ("8000", "Brugge", "nl"), ("2800", "Mechelen", "nl"), ("3500", "Hasselt", "nl"),
    ("8500", "Kortrijk", "nl"), ("9300", "Aalst", "nl"),
]
ABROAD = [  # country, postal code, city, language
    ("FR", "75011", "Paris", "fr"), ("FR", "59000", "Lille", "fr"), ("NL", "1012", "Amsterdam", "nl"),
    ("LU", "1009", "Luxembourg", "fr"), ("DE", "10115", "Berlin", "en"), ("ES", "08001", "Barcelona", "en"),
    ("PT", "1100", "Lisboa", "en"), ("IT", "20121", "Milano", "en"), ("GB", "E1 6AN", "London", "en"),
]
STREETS_FR = ["Rue de la Loi", "Avenue Louise", "Rue Haute", "Chaussée de Waterloo", "Rue des Tanneurs",
              "Boulevard d'Avroy", "Rue de Fer", "Place du Marché", "Rue du Midi", "Avenue de la Toison d'Or"]
STREETS_NL = ["Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Nieuwstraat", "Veldstraat",
              "Meir", "Korenmarkt", "Bondgenotenlaan", "Steenstraat"]
DOMAINS = ["gmail.com", "hotmail.com", "outlook.com", "skynet.be", "telenet.be", "proximus.be",
           "yahoo.fr", "protonmail.com", "studio-example.be", "atelier-example.be"]


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch in "-.")


def member_rows(count: int, *, seed: int = 41702, email_tag: str = "") -> list[dict[str, str]]:
    rnd = random.Random(seed)
    today = date.today()
    rows = []
    for i in range(count):
        given, family = rnd.choice(GIVEN), rnd.choice(FAMILY)
        if rnd.random() < 0.86:
            country = "BE"
            postal, city, lang = rnd.choice(BE_CITIES)
            if rnd.random() < 0.08:
                lang = "en"
        else:
            country, postal, city, lang = rnd.choice(ABROAD)
        street = rnd.choice(STREETS_NL if lang == "nl" and country == "BE" else STREETS_FR)
        phone = (f"+32 4{rnd.randint(70, 99)} {rnd.randint(10, 99)} {rnd.randint(10, 99)} {rnd.randint(10, 99)}"
                 if country == "BE" else "")
        category = rnd.choices(["user", "permanent_staff", "external_partner"], [0.95, 0.03, 0.02])[0]
        status = "active" if rnd.random() < 0.97 else "applicant"
        joined = today - timedelta(days=rnd.randint(0, 365 * 25)) if status == "active" else None
        rows.append({
            "given_name": given, "family_name": family,
            "email": f"{_ascii(given)}.{_ascii(family)}.{i}{email_tag}@{rnd.choice(DOMAINS)}",
            "phone": phone, "street": f"{street} {rnd.randint(1, 220)}", "postal_code": postal,
            "city": city, "address_country": country, "country_of_residence": country,
            "preferred_language": lang, "category": category,
            "joined_on": joined.isoformat() if joined else "", "status": status,
        })
    return rows


def write_members_csv(path: Path, count: int, *, seed: int = 41702) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(member_rows(count, seed=seed))
    return path

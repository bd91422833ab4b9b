"""The fixed words of minutes in French, Dutch and English (free texts come from the record's
LocalizedText; these are the labels around them)."""

from __future__ import annotations

from datetime import date

LABELS: dict[str, dict[str, str]] = {
    "minutes_of": {"fr": "Procès-verbal du conseil d'administration du {date}",
                   "nl": "Notulen van de raad van bestuur van {date}",
                   "en": "Minutes of the board meeting of {date}"},
    "erratum_of": {"fr": "Erratum au procès-verbal du {date}",
                   "nl": "Erratum bij de notulen van {date}",
                   "en": "Erratum to the minutes of {date}"},
    "attendance": {"fr": "Présences", "nl": "Aanwezigheden", "en": "Attendance"},
    "present": {"fr": "Présents", "nl": "Aanwezig", "en": "Present"},
    "remote": {"fr": "À distance", "nl": "Op afstand", "en": "Remote"},
    "excused": {"fr": "Excusés", "nl": "Verontschuldigd", "en": "Excused"},
    "absent": {"fr": "Absents", "nl": "Afwezig", "en": "Absent"},
    "proxy": {"fr": "{giver} représenté par {holder}", "nl": "{giver} vertegenwoordigd door {holder}",
              "en": "{giver} represented by {holder}"},
    "chair": {"fr": "Présidence", "nl": "Voorzitter", "en": "Chair"},
    "secretary": {"fr": "Secrétariat", "nl": "Secretaris", "en": "Secretary"},
    "place": {"fr": "Lieu", "nl": "Plaats", "en": "Place"},
    "none": {"fr": "personne", "nl": "niemand", "en": "nobody"},
    "item": {"fr": "Point {n}", "nl": "Punt {n}", "en": "Item {n}"},
    "consent": {"fr": "Voté en bloc (agenda de consentement)", "nl": "En bloc gestemd (hamerstukken)",
                "en": "Voted in the consent block"},
    "pulled": {"fr": "Retiré du bloc par {who}", "nl": "Uit het blok gehaald door {who}",
               "en": "Pulled from the consent block by {who}"},
    "declaration": {"fr": "Déclaration d'intérêt de {who} : {text}", "nl": "Belangenverklaring van {who}: {text}",
                    "en": "Declaration of interest by {who}: {text}"},
    "amendment": {"fr": "Amendement (niveau {level}) de {who} : {text}",
                  "nl": "Amendement (niveau {level}) van {who}: {text}",
                  "en": "Amendment (level {level}) by {who}: {text}"},
    "vote": {"fr": "Vote sur « {subject} »", "nl": "Stemming over \"{subject}\"", "en": "Vote on \"{subject}\""},
    "quorum": {"fr": "Quorum : {present} présents ou représentés sur {sitting} en fonction, {required} requis ({met})",
               "nl": "Quorum: {present} aanwezig of vertegenwoordigd van {sitting} zetelend, {required} vereist ({met})",
               "en": "Quorum: {present} present or represented of {sitting} sitting, {required} required ({met})"},
    "quorum_met": {"fr": "atteint", "nl": "bereikt", "en": "met"},
    "quorum_not_met": {"fr": "non atteint", "nl": "niet bereikt", "en": "not met"},
    "counts": {"fr": "Pour {for_}, contre {against}, abstentions {abstain}",
               "nl": "Voor {for_}, tegen {against}, onthoudingen {abstain}",
               "en": "For {for_}, against {against}, abstentions {abstain}"},
    "secret": {"fr": "Vote secret", "nl": "Geheime stemming", "en": "Secret vote"},
    "ballots": {"fr": "Votes nominatifs : {ballots}", "nl": "Hoofdelijke stemmen: {ballots}",
                "en": "Votes by name: {ballots}"},
    "recused": {"fr": "Déportés : {who}", "nl": "Onthouden wegens belangenconflict: {who}",
                "en": "Recused: {who}"},
    "casting": {"fr": "Voix prépondérante de la présidence", "nl": "Doorslaggevende stem van de voorzitter",
                "en": "Chair's casting vote"},
    "outcome": {"fr": "Résultat : {outcome}", "nl": "Uitslag: {outcome}", "en": "Outcome: {outcome}"},
    "adopted": {"fr": "adopté", "nl": "aangenomen", "en": "adopted"},
    "rejected": {"fr": "rejeté", "nl": "verworpen", "en": "rejected"},
    "chosen": {"fr": "choisi", "nl": "gekozen", "en": "chosen"},
    "pending": {"fr": "en attente", "nl": "in behandeling", "en": "pending"},
    "withdrawn": {"fr": "retiré", "nl": "ingetrokken", "en": "withdrawn"},
    "sent_back": {"fr": "renvoyé à la direction", "nl": "teruggestuurd naar de directie",
                  "en": "sent back to management"},
    "approved_minutes": {"fr": "procès-verbal approuvé", "nl": "notulen goedgekeurd", "en": "minutes approved"},
    "decision": {"fr": "Décision : {kind}", "nl": "Besluit: {kind}", "en": "Decision: {kind}"},
    "adopted_text": {"fr": "Texte adopté : {text}", "nl": "Aangenomen tekst: {text}", "en": "Adopted text: {text}"},
    "effective": {"fr": "Prend effet le {date}", "nl": "Van kracht op {date}", "en": "Effective on {date}"},
    "send_back": {"fr": "Motifs du renvoi : {text} (nouvelle version pour le {date})",
                  "nl": "Redenen voor terugsturen: {text} (nieuwe versie tegen {date})",
                  "en": "Reasons for sending back: {text} (next version due {date})"},
    "action": {"fr": "Action : {text} (responsable {owner}, échéance {date})",
               "nl": "Actie: {text} (verantwoordelijke {owner}, tegen {date})",
               "en": "Action: {text} (owner {owner}, due {date})"},
    "closed_decided": {"fr": "Point à huis clos : une décision a été prise.",
                       "nl": "Besloten punt: er werd een besluit genomen.",
                       "en": "Closed item: a decision was taken."},
    "closed_no_decision": {"fr": "Point à huis clos.", "nl": "Besloten punt.", "en": "Closed item."},
    "erratum": {"fr": "Correction", "nl": "Correctie", "en": "Correction"},
    "meeting_date": {"fr": "Séance du {date}", "nl": "Vergadering van {date}", "en": "Meeting of {date}"},
    "published_on": {"fr": "Publié le {date}", "nl": "Gepubliceerd op {date}", "en": "Published on {date}"},
}


def label(key: str, language: str, **values: object) -> str:
    return LABELS[key][language].format(**values)


def day(value: date | None) -> str:
    return value.isoformat() if value else ""

"""Write one brief per interview-writer persona for the interview corpus (seeded, reproducible)."""
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
BRIEF = (HERE / "briefs" / "WRITER_BRIEF.md").read_text(encoding="utf-8")
SEED = 17

PERSONAS = {
    "T01": "Verbatim transcriber, Copenhagen suburb families. Types every 'øh', 'altså', 'ikke', "
           "repetition and false start ('vi — vi havde — altså det var jo sådan at'), marks [griner], "
           "[pause], [utydeligt]. Labels I and R. Parents talk in long, looping answers.",
    "T02": "Cleaned-up transcriber. Removes fillers and writes tidy full sentences with correct "
           "punctuation, keeps the content and the speaker's word choice. Labels 'Interviewer' and the "
           "role ('Mor', 'Far', 'Frivillig'). Couples are often interviewed together.",
    "T03": "Young children (6-9 years). The interviewer works hard with small, concrete questions; the "
           "child answers with one word, 'ved ikke', a shrug noted as [trækker på skuldrene], sudden "
           "stories about a dog or a game, and now and then a long tumbling sentence. Labels I and the "
           "child's first name. The adult interviews of each case are ordinary, not child-like.",
    "T04": "Teenagers 13-17 and their mentors. Teen slang and English words ('lowkey', 'cringe', 'idk', "
           "'sådan', 'ik', 'wallah', 'chill', 'fair nok'), sarcasm, short and bored answers that open up "
           "suddenly. Labels INT and first names.",
    "T05": "Professionals and formal settings: caseworkers (sagsbehandler), coordinators, teachers, "
           "pedagogues, health visitors. Professional jargon ('handleplan', 'indsats', 'netværk', "
           "'beskyttelsesfaktorer', '§ 52', 'underretning', 'trivselsmåling'), cautious, balanced "
           "wording; the other interview of a case is with a parent or a volunteer. Labels I and initials.",
    "T06": "Fathers and men from West and South Jutland. Terse, dry, understated, regional words "
           "('æ' for jeg, 'ka'', 'hjem te', 'knægten', 'tøsen', 'det er sgu ikke så ringe'), long silences "
           "noted as (...), occasional long story once they warm up. Labels I and R.",
    "T07": "Parents of children in care (anbragte børn) in a support programme: emotional, ambivalent, "
           "critical of the municipality, long run-on answers mixing anger, grief, hope and practical "
           "detail about visits (samvær), the foster family and the child. Labels Interviewer and "
           "the parent's first name.",
    "T08": "Young volunteer mentors (students in their twenties) and their mentees aged 10-16: "
           "reflective, articulate, a bit academic ('jeg tænker at', 'rollemodel', 'grænser'), talk a "
           "lot about school, homework, friendships; mentees are brief. Labels I and first names.",
    "T09": "Elderly volunteers (65-80) and their friend-family children: formal, old-fashioned Danish "
           "('det må jeg sige', 'vi har haft den glæde', 'den lille pige'), long chronological "
           "narratives with digressions about their own grandchildren and the old days. Labels "
           "Interviewer and the volunteer's first name; couples interrupt each other.",
    "T10": "Automatic speech recognition, lightly corrected: mostly lower case, commas and full stops "
           "missing or misplaced, run-ons, a few misheard words left in ('venskabs familie', 'kommunen "
           "sag behandler'), numbers as digits. Labels 'Speaker 1', 'Speaker 2'. Mixed respondents.",
    "T11": "Parents with Danish as a second language (Arabic, Somali, Polish, Ukrainian backgrounds): "
           "simple grammar, wrong gender and word order, some words in English or their own language, "
           "polite and careful; sometimes an older child helps translate a word. Labels I and R.",
    "T12": "Group interviews of one match: the child (10-12) and the volunteer family together, or a "
           "parent and the volunteer together; people interrupt, finish each other's sentences, "
           "joke. Labels I and first names. Fairly clean transcription.",
    # A second round (train only), added in a later session for more varied training text.
    "T13": "Telephone interviews on a poor line: the transcriber marks [afbrudt], [forbindelsen hakker], "
           "[utydeligt 3 sek.]; the interviewer repeats or rephrases questions, respondents answer briefly and "
           "practically, sometimes while doing something else ('vent lige, han skal lige have sko på'). "
           "Labels INT and R.",
    "T14": "Articulate, reflective parents and volunteers from North Zealand with a therapeutic vocabulary "
           "('rummelighed', 'spejle', 'mentalisere', 'hans nervesystem', 'at være i sig selv'), long "
           "well-formed answers, self-critical; the transcriber writes clean text. Labels Interviewer and "
           "first names.",
    "T15": "Foster parents (plejefamilie), biological parents and support persons around children in care: "
           "samvær, handleplaner, loyalty conflicts, the child's reactions before and after visits; tone "
           "careful, sometimes bitter, sometimes warm. Labels I and the role ('Plejemor', 'Far', "
           "'Støtteperson').",
    "T16": "Older volunteer couples and grandparent-like volunteers from Funen and Bornholm: regional "
           "expressions, gentle humour, stories about the garden, the church, the boat and the grandchildren "
           "mixed with what they do with the child; they correct each other. Labels I and first names.",
    "T17": "Teenage girls 13-16 in a mentor programme and their young female mentors: social media, "
           "friends, drama at school, body image, spoken emojis and English words ('hun var bare sådan "
           "hjerte-emoji', 'det er så random', 'no offense'), giggling marked [griner]; mentees warm up late. "
           "Labels INT and first names.",
    "T18": "An interviewer who asks long, leading questions that already contain the answer ('Så det har "
           "betydet noget for ham, at det er de samme mennesker hver gang, kan man sige det sådan?'); "
           "respondents often agree briefly ('Ja, præcis.', 'Det kan man godt sige.') and now and then "
           "disagree and explain at length. Labels I and R.",
}

PROGRAMMES = ["venskabsfamilie", "venskabsfamilie", "frivillig mentor", "forældrestøtte (barnet er anbragt)"]
ARCS = [
    "a good, stable match the child is fond of",
    "a good match after a slow, shy start",
    "a match with many cancellations from the family's side, now steadier",
    "a match strained by conflict between the parent and the volunteers",
    "a match that ended early; the volunteer family stopped",
    "an ordinary match: fine, a bit routine, nothing special",
    "a match where the child's school problems take up much of the time",
    "a match overshadowed by a family crisis (illness, divorce, a death)",
]
ROLES = {
    "venskabsfamilie": ["mor", "far", "barn", "frivillig (venskabsfamilie)", "sagsbehandler", "koordinator"],
    "frivillig mentor": ["barn (mentee)", "frivillig mentor", "mor", "far", "lærer", "koordinator"],
    "forældrestøtte (barnet er anbragt)": ["mor", "far", "frivillig støtteperson", "plejefamilie",
                                          "sagsbehandler", "barn"],
}
CHILD_ROLE = {"T03": "barn", "T04": "barn (mentee)"}
FORCED_PROGRAMME = {"T03": "venskabsfamilie", "T04": "frivillig mentor", "T07": "forældrestøtte (barnet er anbragt)",
                    "T08": "frivillig mentor", "T09": "venskabsfamilie", "T12": "venskabsfamilie",
                    "T15": "forældrestøtte (barnet er anbragt)", "T17": "frivillig mentor"}


def cases_for(writer_id: str, rng: random.Random) -> str:
    lines = []
    start = dt.date(2024, 3, 4)
    for number in range(1, 4):
        programme = FORCED_PROGRAMME.get(writer_id) or rng.choice(PROGRAMMES)
        arc = rng.choice(ARCS)
        roles = rng.sample(ROLES[programme], 2)
        if writer_id in CHILD_ROLE and CHILD_ROLE[writer_id] not in roles:
            roles[0] = CHILD_ROLE[writer_id]
        day = start + dt.timedelta(days=rng.randrange(0, 200))
        lines.append(f"- case {number}: {programme}; {arc}.")
        for letter, role in zip("AB", roles):
            when = day + dt.timedelta(days=rng.randrange(0, 10) if letter == "B" else 0)
            lines.append(f"  - interview {letter}: {when.isoformat()}, respondent: {role}")
    return "\n".join(lines)


def main() -> None:
    rng = random.Random(SEED)
    for writer_id, persona in PERSONAS.items():
        text = (BRIEF.replace("{writer_id}", writer_id).replace("{persona}", persona)
                .replace("{cases}", cases_for(writer_id, rng)))
        (HERE / "briefs" / f"{writer_id}.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

"""Write one brief per writer persona for the development corpus (seeded, reproducible)."""
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
BRIEF = (HERE / "briefs" / "WRITER_BRIEF.md").read_text(encoding="utf-8")
PROBE = HERE.parent / "probe_en"  # writers who write English sentences: an evaluation set of its own
ENGLISH_WRITERS = ("V65", "V66", "V67", "V68", "V69", "V70", "V71")  # the brief lets them write English
MOVED_TO_PROBE = ("V68", "V69", "V70", "V71")  # briefs as given (dev paths), kept with the probe

PERSONAS = {
    "V01": "Terse phone notes. A busy volunteer dad who types on his phone in the car after the visit. "
           "Mostly 1-3 short sentences, often without a subject ('Hentede kl 15. Fodbold i parken.'), "
           "abbreviations (kl, ca, evt, mor/far, bh for børnehave), rarely more than 25 words, but a few "
           "longer entries when something matters.",
    "V02": "Long narratives. A retired schoolteacher who writes warm, detailed, chronological entries of "
           "6-10 sentences with correct spelling and many small observations of the child's mood, words "
           "and body language; quotes what the child said.",
    "V03": "Frequent spelling mistakes and missing commas. A volunteer with dyslexia: words spelled as "
           "pronounced ('vi hade det hyggeligt', 'hun var glad for at se hundn', 'de var rigtig sjovt'), "
           "mixed up 'de/det', 'nu/nud', run-on sentences without commas, 2-5 sentences.",
    "V04": "No Danish letters. Writes on an old laptop with a US keyboard: always ae, oe, aa instead of "
           "æ, ø, å ('Vi gik en tur i skoven og saa paa fugle, han var glad og roed i kinderne'). "
           "Otherwise ordinary, medium-length entries of 3-6 sentences.",
    "V05": "All lower case without punctuation. A young volunteer who writes everything in lower case "
           "with no full stops or commas, one long breathless line per entry ('vi var i svømmehallen og "
           "han sprang fra vippen for første gang han var så stolt'). 1-4 'sentences' run together.",
    "V06": "Danish with English words. A couple working in IT who mix English words and phrases into "
           "Danish ('det var en really good dag', 'hun var lidt off i dag', 'vi chillede', 'super "
           "sweet', 'awkward', 'no big deal', 'check-in med mor'). Medium length.",
    "V07": "Bullet lists. An engineer who writes every entry as a short bullet list with '-' or '*' "
           "(time, activity, mood, food, next time), sometimes with a short free-text line at the end. "
           "Concerns appear as one more bullet among the others.",
    "V08": "Elderly formal Danish. A couple in their late seventies who write formally and a little "
           "old-fashioned ('Vi havde den glæde at have Sofie hos os', 'Hun var i godt humør', 'Det må "
           "nævnes at...', 'De venligste hilsner'), full sentences, correct commas, some letter-like "
           "openings and closings.",
    "V09": "A 19-year-old mentor's slang. A young mentor for a 12-15 year old: slang and youth language "
           "('vi hang ud', 'han var vildt nede', 'det var lowkey nice', 'sygt', 'nice', 'fed', 'mega', "
           "'wallah', 'bro', 'cringe', 'chill'), short sentences, some emojis written as :) or xD, "
           "casual spelling.",
    "V10": "Professional report style. A volunteer who is a trained pedagogue and writes like a "
           "professional: third person, observations separated from interpretations ('Det observeres, "
           "at...', 'Barnet giver udtryk for...', 'Vurdering:'), neutral, precise wording, medium length.",
    "V11": "Second-hand reporter. A volunteer who often passes on what others told them: the child's "
           "older sister, the mother on the phone, the teacher at pick-up, the neighbour "
           "('Hendes storebror fortalte...', 'Mor sagde i telefonen at...', 'Læreren nævnte...'), "
           "beside what they saw themselves. Medium length.",
    "V12": "An emotional, over-sharing volunteer mother. Writes about her own feelings as much as the "
           "child's, exclamation marks, worries and joys alike ('Jeg fik helt tårer i øjnene!', 'Jeg er "
           "SÅ stolt af ham', 'Jeg lå vågen og tænkte på...'), including about ordinary things.",
    "V13": "A laconic farming family from West Jutland. Short, dry, understated sentences, some regional "
           "words ('æ' for jeg, 'hjem te', 'det ka' godt være', 'godt nok', 'knægten', 'tøsen'), about "
           "animals, tractors, the barn, weather. Rarely more than 4 sentences.",
    "V14": "Danish as a second language. A volunteer with Arabic or Polish background whose Danish is "
           "good but with grammar errors: wrong gender (en/et), word order ('I dag vi gik til parken'), "
           "missing articles, some wrong prepositions; friendly and direct.",
    "V15": "Humorous with emojis. A cheerful volunteer who writes with humour, exclamation marks and "
           "emojis (😂, ❤️, ⚽, 🙈), jokes about herself ('jeg tabte selvfølgelig igen'), nicknames for "
           "the child; she gets quieter and plainer when something is wrong.",
    "V17": "A practical single dad volunteer writing on a tablet: medium-length, down-to-earth entries about "
           "what they did and how the child seemed, few adjectives, occasional autocorrect slips.",
    "V18": "A warm grandmother-type volunteer in her sixties who uses diminutives and endearments ('lille skat', "
           "'den søde pige'), mentions her church choir and her garden, 4-7 sentences.",
    "V19": "A psychology student volunteer who writes analytically ('tryghed', 'regulering', 'tilknytning', "
           "'hun søgte kontakt'), reflects on her own role, medium to long entries.",
    "V20": "An extremely terse note-taker who writes fragments with clock times ('kl 14-17 svømning. ok. spiste "
           "godt.'), rarely full sentences, now and then one longer line when something matters.",
    "V21": "A volunteer couple who take turns writing, each entry signed or prefixed by the writer ('Jens: ...', "
           "'Lis: ...'), sometimes both write a line in the same entry; two voices, one calmer, one more worried.",
    "V22": "A volunteer who types on a phone with autocorrect: wrong but real words now and then ('hun var glad for "
           "hunden' becomes 'hun var glad for hunten'), missing capital letters after full stops, short entries.",
    "V23": "A retired police officer: factual, chronological, times and places ('Kl. 13.30 afhentet ved skolen.'), "
           "neutral tone, notes what was said in quotes, medium length.",
    "V24": "A young mother volunteer who writes long run-on paragraphs joined with 'og så' and 'og', little "
           "punctuation, lots of detail about food and activities and her own children joining in.",
    "V25": "Dictated on a phone with speech-to-text: long run-on entries, homophone slips left in ('hun ville "
           "gerne have is' written 'hun vil gerne have is'), the word 'punktum' now and then written out, no "
           "paragraphs, few commas.",
    "V26": "A nurse volunteer: clinical shorthand mixed with warmth ('obs.', 'AT fin', 'spiste sparsomt', "
           "'ingen synlige mærker', 'afleveret kl. 16 til mor'), precise about the body, sleep and food.",
    "V27": "A 22-year-old student who writes in lower case with many abbreviations ('ift', 'pga', 'btw', 'mega', "
           "'lol', 'omg', 'idk'), short bursts, sometimes two or three lines.",
    "V28": "A volunteer who writes every entry as a short letter to the coordinator ('Hej Lene,' ... 'Mvh Karin'), "
           "polite, a little formal, sometimes asks the coordinator a question.",
    "V29": "A Swedish-born volunteer writing Danish with Swedish words and spellings mixed in ('hon', 'och', "
           "'jättebra', 'barnet var glad', 'roligt'), understandable but mixed; medium length.",
    "V30": "A minimalist who writes keyword lists separated by semicolons or slashes ('zoo; is; træt til sidst / "
           "mor sent'), sometimes one full sentence when something matters.",
    "V31": "A worried, hedging volunteer who qualifies everything ('måske', 'jeg ved ikke om det betyder noget', "
           "'det kan også bare være mig'), writes at length about small signs, ordinary ones included.",
    "V32": "A football coach volunteer: sports jargon, energetic, exclamation marks, short sentences about "
           "training, matches and the team; plain and brief when something is wrong.",
    "V33": "Fills in the organisation's visit form every time, as fields on their own lines ('Aktivitet: ...', "
           "'Barnets humør: ...', 'Bemærkninger: ...', 'Næste aftale: ...'), a few words per field; what matters "
           "ends up in whichever field seems closest, sometimes nothing under Bemærkninger.",
    "V34": "Pastes bits of text messages from the parent or the child into the log with the time ('mor 15:42: "
           "vi når det ikke i dag'), then a line or two of own comment; short, practical.",
    "V35": "A former social worker who never writes names: the child is 'A.' or 'drengen', the parents 'KM' "
           "(kommunen is 'kom.'), third person, past tense, compact and neutral, with dates and times.",
    "V36": "A dyslexic volunteer who spells by ear ('hun sae', 'vi hae det skjovt', 'nåt', 'hendes far var sur "
           "på hende', 'sej' for 'sig'), few full stops, warm and direct, medium length.",
    "V37": "A volunteer who writes in the present tense, close to the senses and a little literary ('Regnen "
           "trommer på taget. Hun tegner heste og nynner.'), short sentences, moods more than events.",
    "V38": "A Norwegian volunteer living in Denmark who writes Danish with Norwegian words and spellings mixed in "
           "('ikkje', 'veldig', 'gutten', 'jenta', 'koselig', 'hun var lei seg'), friendly, medium length.",
    "V39": "A busy volunteer whose usual entry is one line ('Godt besøg, legeplads.'), who writes two or three "
           "plain sentences only when something stood out, and never more.",
    "V40": "An old-fashioned retired headmaster: long sentences joined with semicolons, formal words ('drengen "
           "fremstod', 'undertegnede', 'hvorledes'), moral asides about upbringing, never uses slang.",
    "V41": "Types on a phone without Danish letters and without a system: sometimes a/o/a ('sa', 'pa', 'for' for "
           "'før', 'ma'), sometimes ae/oe/aa ('paa', 'oeje'), mostly lower case, few commas, 1-5 short sentences.",
    "V42": "A hurried writer with everyday spelling mistakes: 'nogen/nogle', 'ligge/lige', 'ville/vil', compound "
           "words split in two ('fodbold kamp', 'lektie hjælp'), doubled or missing consonants, few commas; "
           "2-6 sentences.",
    "V43": "An international student volunteer who switches between Danish and English mid-sentence, sometimes "
           "writes whole English sentences ('we went to the park og hun var so happy', 'I am not sure what to "
           "make of it'), Danish word order slips; medium length.",
    "V44": "A diarist who writes long entries of 6-12 sentences in two or three paragraphs, chronological, with "
           "food, weather and the journey home; whatever matters comes in the middle among ordinary details, "
           "never as a headline.",
    "V45": "Telegram style with symbols: '+', '->', '!!', '?', 'ok', 'mor->sur', 'kl 15-18', 3-15 words, no "
           "full sentences, now and then two lines when something matters.",
    "V46": "A Copenhagen dad who writes as he talks: spoken forms and fillers ('altså', 'sgu', 'ik', 'nå men', "
           "'det var fedt nok', 'han var helt oppe at køre'), run-on sentences, medium length.",
    "V47": "Writes mostly in direct speech: replays what the child and others said with quotation marks or "
           "dashes ('- Må vi bage? spurgte hun.'), a line of own comment around the quotes.",
    "V48": "One paragraph of comma splices: clauses joined with commas and no full stop until the end, mixed "
           "past and present tense, 2-8 clauses, no capital letters except names.",
    "V49": "A gamer mentor in his twenties for teenagers (13-16): gaming and internet jargon ('vi grindede', 'han "
           "carried hele kampen', 'jeg døde tre gange', 'rage quit', 'GG', 'noob'), short sentences, lower case, "
           "writes about games, streams and snacks as much as about the teenager.",
    "V50": "An over-dramatiser: ordinary events in the strongest words and idioms ('KATASTROFE, hun tabte sin is', "
           "'jeg troede jeg skulle dø af grin', 'hun knuste mig totalt i Ludo', 'mit hjerte gik i stykker'), "
           "exclamation marks and capitals for emphasis, medium length; more plainly worded when something is "
           "really wrong.",
    "V51": "An understater who plays everything down in vague, polite words ('lidt uro derhjemme', 'hun virkede ikke "
           "helt sig selv', 'lidt blå her og der', 'det er nok ingenting'), never dramatic, short to medium "
           "entries; what worries him is said in passing.",
    "V52": "Voice messages transcribed by an app without editing: fillers and false starts ('øh', 'altså', 'ik', "
           "'hvad hedder det', repeated words), sentences that change direction midway, almost no punctuation, "
           "long entries.",
    "V53": "Writes like a social-media post: one or two lines with hashtags and emojis ('bagedag med M 🍰 "
           "#stolt #venskabsfamilie'), cheerful, short; a plain line without hashtags when something is wrong.",
    "V54": "A bookish librarian volunteer who retells at length the stories they read and the films and games they "
           "shared (plots with dragons, wars, deaths, villains, scary scenes) and the child's reactions to them, "
           "besides what else happened; long, literate entries.",
    "V55": "An elderly man who writes on a tablet with caps lock on: everything in CAPITAL LETTERS, short plain "
           "sentences, few commas, signs off 'HILSEN' and his name now and then.",
    "V56": "Writes the week's entry days later from memory: unsure which day things happened ('tirsdag eller "
           "onsdag', 'tror jeg'), mixes the visit with phone calls and what the grandmother or a teacher said, "
           "medium length, hedged.",
    "V57": "A volunteer from Southern Jutland who writes as she speaks, with Sønderjysk words and forms now and then "
           "('a' for jeg, 'æ' as the article, 'hæ' for har, 'it' for ikke, 'do' for du, 'vi wa ud å fisk'), "
           "otherwise ordinary Danish, short to medium entries.",
    "V58": "A grandmother-aged volunteer who writes about herself in the third person by the name the child calls "
           "her ('Mormor Grete hentede Liva kl. 14', 'Mormor var lidt træt bagefter'), warm and plain, 3-6 "
           "sentences.",
    "V59": "Writes every entry to the child, in the second person, as pages of a memory book the child will be "
           "given one day ('Du var så modig på klatrevæggen i dag'); what worries the volunteer is written "
           "carefully in the same voice, or in one plain line to the coordinator after a dash.",
    "V60": "A practical volunteer who opens every entry with logistics: pick-up and drop-off times, bus or car, "
           "kilometres and expenses in kroner ('Udlæg: 85 kr is + bus'), then one to four sentences about the "
           "child.",
    "V61": "Types into the organisation's web form in Markdown: a heading or two ('## Besøg', '**Humør:**'), bold "
           "words, now and then a checkbox line ('- [x] lektier'), otherwise short free text.",
    "V62": "A scatter-brained, warm volunteer who writes long entries full of parentheses, dashes and "
           "afterthoughts ('(glemte at skrive ...)', 'nej vent, det var i går'), and adds 'PS:' or 'PPS:' lines "
           "at the end, where important things sometimes end up.",
    "V63": "A retired craftsman who writes in old sayings and idioms ('det går nok alt sammen', 'man skal ikke "
           "skue hunden på hårene', 'der er ingen ko på isen', 'at få kamp til stregen'), short, dry, "
           "good-humoured sentences; plainer words when something is wrong.",
    "V64": "A schoolteacher volunteer who rates the visit on scales besides a few lines of text ('Humør 7/10', "
           "'Energi: lav', 'Appetit: god'), brief assessments, sometimes a number that changes from week to "
           "week without a comment.",
    # The English probe (V65-V67, corpora/probe_en/, evaluation only): writers who write English sentences
    "V65": "An English volunteer who has lived in Denmark for six years and writes her entries in English, "
           "with the Danish words she uses every day (mor, far, børnehave, SFO, madpakke, kommune, hygge), "
           "British spelling, medium length; what the child or a parent said is quoted in the language it was "
           "said in, Danish or English.",
    "V66": "A bilingual mentor of 21 (Danish mother, American father) who switches between Danish and English "
           "mid-sentence and mid-entry ('vi tog bussen ind til byen, he was in a great mood, og vi spiste "
           "burgers'), slang in both languages, short to medium entries; quotes the teenager in the language "
           "the teenager used, often English.",
    "V67": "A Danish volunteer couple whose child comes from an international family and speaks English at home "
           "and Danish at school. They write correct, medium-length Danish, but quote the child's own words in "
           "English exactly as the child said them ('hun sagde: \"mum gets really angry when I forget\"'), "
           "including everything the child tells about home.",
    # Written as train writers who write English sentences (V68-V71), after the English probe showed the
    # Danish-word categories failing on English text; trained on, they cost the Danish dev and test splits, so
    # they were moved to the probe (corpora/probe_en/README.md) before any shipped model was trained on them
    "V68": "An American former au pair who stayed in Denmark and volunteers; types short English notes on her phone, "
           "mostly lower case, few commas, Danish place and institution words (skolen, SFO, Netto, kommunen), "
           "the child's words in whatever language they were said.",
    "V69": "A Danish IT consultant who writes his entries in Danish but switches to whole English sentences when "
           "something moves or frustrates him ('Honestly, I'm exhausted.', 'Not cool.'), medium length, dry.",
    "V70": "A Polish-born volunteer who works in English and writes her entries in English with small grammar "
           "slips ('he was very happy for the cake', 'we was at the zoo'), Danish words for institutions and "
           "family (mor, far, plejefamilie, kommune), 3-6 sentences.",
    "V71": "A Danish social work student who writes the entries in English for practice, in a tidy report style "
           "(observations, then what the child said, then a short reflection), medium length, correct English "
           "with a Danish word where she knows no English one.",
    "V16": "A teen mentor programme coordinator-volunteer. A man in his forties mentoring teenagers "
           "(13-16) in a mentor programme: activities (climbing, gaming, driving practice talk, job "
           "applications, football), school and friends, matter-of-fact sentences, 3-6 per entry.",
}

ARCS = {
    "calm": "a calm, warm match throughout: ordinary ups and downs, a cold, a birthday, holidays; the child "
            "and the volunteers grow fond of each other",
    "calm_cancel": "a calm match with a few ordinary cancellations (illness, an agreed holiday pause, one visit "
                   "moved to another day, one time nobody opened the door)",
    "shy": "a shy or anxious child who is slow to trust and gradually opens up at its own pace",
    "grief": "the child's grandmother (or a pet) dies during the period; grief and sadness for some weeks, "
             "then slowly better",
    "bullying": "the child is teased at school and has nobody to play with for a period; sad some weeks; the "
                "school gets involved and it slowly improves",
    "cancellations": "visits are cancelled more and more often by the family, sometimes without a word; the "
                     "volunteer gets frustrated",
    "neglect": "slow deterioration at home: over the weeks the child more often arrives hungry, with clothes "
               "that do not fit the weather, unwashed, is not collected on time, mentions being alone at home "
               "at night or a toothache nobody deals with",
    "violence": "signs of violence at home build up over some weeks (the child flinches, has marks it will not "
                "explain, is afraid of going home, a sibling says something), then the child or someone else "
                "tells; the volunteer contacts the coordinator; follow-up entries after",
    "boundary": "a sexual boundary violation or grooming, hinted indirectly and hesitantly: an adult around the "
                "child (a mother's new friend, an uncle, an online 'friend' from a game who sends gifts) does "
                "things the child finds uncomfortable and says it is a secret; the child tells a little at a "
                "time; the volunteer contacts the coordinator; follow-up entries after",
    "selfharm": "a child or teenager in a dark period: withdrawn, says things like not wanting to be here, "
                "marks on the arms, gives away things that mattered to it, or says it wishes to die (maybe "
                "in anger); the volunteer contacts the coordinator; follow-up entries after",
    "burnout": "the volunteers' own strain grows (illness in their family, work, the child's behaviour); they "
               "voice doubts and eventually consider stopping; the child itself is fine",
    "parent_conflict": "conflict with a parent: criticism of the volunteers, disagreements about sweets, screen "
                       "time or bedtimes, a tense pick-up, at one point the mother threatens to end the match; "
                       "later a meeting with the coordinator calms it",
    "parent_illness": "a parent's drinking or mental illness in the background: chaotic pick-ups, the child "
                      "worried about mum, tired after bad nights, occasionally does not want to go home",
    "wellbeing": "the child's wellbeing dips for weeks without one clear cause: anxious, withdrawn, very "
                 "tired, cries easily, stomach aches, some weeks does not want to go home, a week away from "
                 "school; then slowly better with help from the school or a psychologist",
    "teen_school": "a teenager skipping school, gaming all night, a fight at school that the school handles, "
                   "then better after a new class or a job; (for mentors)",
    "rough_play": "a lively, physical child: scrapes and bruises from football, climbing and the trampoline, a cut "
                  "finger while cooking, rough play and fights for fun with siblings, big words in jest, scary "
                  "films and war games; home is fine and the volunteers are not worried",
    "sad_but_safe": "ordinary sad times: the parents divorce, the best friend moves away, the child is not picked "
                    "for the team; tears and big words ('mit liv er ødelagt', 'jeg gider ingenting'), then it "
                    "passes with comfort and time",
    "after_report": "the case begins some months after the volunteers once reported something serious to the "
                    "municipality; it was dealt with (a plan is in place, the child now lives with the other "
                    "parent); the volunteers sometimes refer back to it; the child is mostly doing well",
}

SERIOUS = ["violence", "boundary", "selfharm", "neglect"]
MILD = ["cancellations", "burnout", "parent_conflict", "parent_illness", "bullying", "grief", "teen_school"]
MILD_THIRD_ROUND = MILD + ["wellbeing", "wellbeing"]  # V25-V32: more weeks of low mood, the weakest category
CALM = ["calm", "calm_cancel", "shy"]
LOOKALIKE = ["rough_play", "sad_but_safe", "after_report"]  # V49-V56: whole cases of what looks like a concern


PROBE_SERIOUS = {"V65": ["violence", "selfharm"], "V66": ["boundary", "selfharm"], "V67": ["violence", "neglect"]}


def cases_for(writer: str, rng: random.Random) -> list[str]:
    n = int(writer[1:])
    if writer in PROBE_SERIOUS:  # a few writers only: every serious arc among them, self-harm twice
        arcs = PROBE_SERIOUS[writer] + rng.sample(MILD_THIRD_ROUND, 2) + rng.sample(LOOKALIKE, 2)
        arcs += [rng.choice(CALM) for _ in range(2)]
        rng.shuffle(arcs)
        return arcs
    if n > 48:  # the sixth round (V49-V56, train) and the seventh (V57-V64, dev): fewer mild arcs, two of the
        # look-alike arcs instead of a calm one
        arcs = rng.sample(SERIOUS, 2) + rng.sample(MILD_THIRD_ROUND, 2) + rng.sample(LOOKALIKE, 2)
        arcs += [rng.choice(CALM) for _ in range(2)]
        rng.shuffle(arcs)
        return arcs
    if n > 40:  # the fifth round (train only): the second round's plan with the third round's mild arcs
        serious = rng.sample(SERIOUS, 2)
        arcs = serious + rng.sample(MILD_THIRD_ROUND, 3) + [rng.choice(CALM) for _ in range(3)]
        rng.shuffle(arcs)
        return arcs
    if n > 32:  # the fourth round (dev and test writers): the first round's plan with the third round's mild arcs
        serious = [SERIOUS[(n - 1) % 4]] + ([SERIOUS[(n + 1) % 4]] if n % 3 == 0 else [])
        mild = rng.sample(MILD_THIRD_ROUND, 3 if len(serious) == 1 else 2)
        arcs = serious + mild + [rng.choice(CALM) for _ in range(8 - len(serious) - len(mild))]
        rng.shuffle(arcs)
        return arcs
    if n > 16:  # the second round (train only): two serious and three mild arcs each, more case-history signal
        serious = rng.sample(SERIOUS, 2)
        mild = rng.sample(MILD, 3) if n <= 24 else rng.sample(MILD_THIRD_ROUND, 3)
        arcs = serious + mild + [rng.choice(CALM) for _ in range(3)]
        rng.shuffle(arcs)
        return arcs
    serious = [SERIOUS[(n - 1) % 4]]
    if n % 3 == 0:
        serious.append(SERIOUS[(n + 1) % 4])
    mild = rng.sample(MILD, 3 if len(serious) == 1 else 2)
    calm = [rng.choice(CALM) for _ in range(8 - len(serious) - len(mild))]
    arcs = serious + mild + calm
    rng.shuffle(arcs)
    return arcs


def main(only: list[str] | None = None) -> None:
    rng = random.Random(20261129)
    out = HERE / "briefs"
    for writer, persona in sorted(PERSONAS.items()):
        if only and writer not in only:
            rng = random.Random(f"20261129-{writer}")  # each later writer's draw does not depend on the others
            continue
        arcs = cases_for(writer, rng)
        lines = []
        for i, arc in enumerate(arcs, 1):
            start = dt.date(2023, 8, 7) + dt.timedelta(days=rng.randrange(0, 200))
            programme = "mentor programme (child 12-16)" if writer in ("V09", "V16", "V49") or arc == "teen_school" \
                else "friend family (child 5-12)"
            lines.append(f"{i:02d}: {start.isoformat()}; {programme}; {ARCS[arc]}")
        text = BRIEF.replace("{writer_id}", writer).replace("{persona}", "Persona: " + persona)
        text = text.replace("{cases}", "\n".join(lines))
        target = out
        if writer in ENGLISH_WRITERS:
            text = text.replace("Danish volunteer logbook entries", "volunteer logbook entries from Denmark")
            text = text.replace("- Danish throughout (your persona may mix in English words if it says so).",
                                "- Danish and English as your persona says: some entries or sentences in English.")
        if writer in PROBE_SERIOUS:
            text = text.replace("/work/main/corpora/dev/", "/work/main/corpora/probe_en/")
        if writer in PROBE_SERIOUS or writer in MOVED_TO_PROBE:
            target = PROBE / "briefs"
            target.mkdir(parents=True, exist_ok=True)
        (target / f"{writer}.md").write_text(text, encoding="utf-8")
        print(writer, arcs)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:] or None)

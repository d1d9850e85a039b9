"""Speaker labels as actors: titles and honorifics stripped, names normalised, a name matched to an actor."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from ..errors import InvalidInput

PERSON = "person"
FLOOR = "floor"
KINDS = (PERSON, FLOOR)
# Labels for questions and remarks from the floor (journalists, an audience): their own kind of actor.
_FLOOR = {
    "question": "Question",
    "questions": "Question",
    "q": "Question",
    "remark": "Remark",
    "remarks": "Remark",
    "reply": "Remark",
    "response": "Remark",
    "comment": "Remark",
    "audience member": "Remark",
    "voice from the audience": "Remark",
    "from the audience": "Remark",
    "participant": "Remark",
    "audience": "Remark",
}
# Words that may stand in lower case inside a title ("Minister of Industry and Trade ..."), where the
# office ends and the name begins after the last of them, and inside a name ("Van der Bellen").
_LINKS = frozenset("of the and for on in at to from".split())
_PARTICLES = frozenset("de del della di da du des la le van von der den ter bin ibn al el y e".split())
_CONNECTORS = _LINKS | _PARTICLES
# Words that make the start of a label a title, not a name; the actor is what follows the last one.
_TITLES = frozenset(
    """president vice prime minister deputy first chairman chairwoman chairperson chair head director secretary
    general governor mayor ambassador adviser advisor aide assistant spokesman spokeswoman spokesperson
    press ceo chief commander speaker leader whip senator sen rep representative congressman
    congresswoman member chancellor king queen emperor prince princess sheikh emir sultan premier
    patriarch metropolitan archbishop bishop pope plenipotentiary envoy officer official founder editor
    moderator host correspondent sergeant corporal private secretary-general under-secretary-general
    co-chair co-chairman vice-president vice-premier
    anchor journalist presenter commissioner administrator attorney justice judge colonel lieutenant
    major captain admiral marshal rector dean professor academician major-general lieutenant-general
    cardinal archpriest cosmonaut writer physician paramedic economist historian scholar panelist contributor
    coach""".split()
)
# Roles that speak in White House transcripts under one word in capitals.
_ROLES = frozenset("moderator operator interpreter aide participant narrator announcer".split())
# Fields an office is "of" ("Minister of Sport", "... for North Caucasus Affairs"), for _office_noun.
_FIELDS = frozenset(
    """defence defense finance health education justice labour labor sport sports culture transport energy trade
    industry affairs relations sciences resources ecology communications media agriculture economy
    construction housing emergencies interior tourism youth""".split()
)
# Last words of places: "Verkhnyaya Salda, Sverdlovsk Region:" says where a caller is, not who.
_PLACES_LAST = frozenset("region territory district oblast krai province republic".split())
# Words that qualify an office ("First Deputy Prime Minister", "State Development Corporation"):
# part of a title, but an organisation's name may hold them too, so the name never starts after one.
_MODIFIERS = frozenset(
    "first deputy acting senior special presidential executive managing federal state national".split()
)
_OFFICES = _TITLES - _MODIFIERS  # where the name may begin after
_TITLE_WORDS = _TITLES | _MODIFIERS
# Honorifics kept only when nothing but a surname follows them (``Ms. Jean-Pierre``, ``Mr. Arce``).
_HONORIFICS = frozenset("mr mrs ms miss dr mr. mrs. ms. dr. madam madame sir h.e. his her excellency".split())
# Places of more than one word that titles name ("President of the United States Donald Trump").
_PLACES = (
    "United States of America",
    "United States",
    "United Kingdom",
    "Great Britain",
    "United Arab Emirates",
    "Russian Federation",
    "Saudi Arabia",
    "South Africa",
    "South Korea",
    "North Korea",
    "New Zealand",
    "Sri Lanka",
    "Costa Rica",
    "Czech Republic",
    "Dominican Republic",
    "European Union",
    "European Commission",
    "European Council",
    "Republic of Korea",
    "People’s Republic of China",
    "People's Republic of China",
    "Security Council",
    "General Assembly",
    "Republika Srpska",
    "Abu Dhabi",
    "Hong Kong",
    "El Salvador",
    "Sierra Leone",
    "Burkina Faso",
    "Papua New Guinea",
    "Bosnia and Herzegovina",
    "Trinidad and Tobago",
    "South Ossetia",
    "North Ossetia",
    "North Ossetia-Alania",
)
# Capitalised words that open headings and notes, not speakers ("Note:", "Subject:", "Source: ...").
_NOT_SPEAKERS = frozenset(
    """photo photos video text note notes subject source sources attention date time place venue participants agenda topic
    topics headline quote example answer summary background contents section chapter article item
    annex appendix tel telephone phone fax email e-mail website address location when where what who why
    how update updates see also ps p.s. re fwd bcc cc to from dear memorandum statement declaration
    communique program programme schedule photo video audio transcript moderated dateline embargoed
    warning caution important breaking reference regarding concerning""".split()
)
# Last words of organisations and publications quoted in statements ("Numbers USA:"), not people.
_ORGANISATIONS = frozenset(
    """association institute institution network council committee coalition foundation federation union
    alliance society league group center centre times post journal news tribune herald gazette magazine
    review usa america americas inc corporation company bank fund party movement campaign project
    solutions partners agency office department ministry administration government holding holdings""".split()
)
# Last words of a title's organisation or field that are no office noun by their ending ("Chairman of
# Gazprom Management Board", "Minister for Civil Defence, Emergencies and Disaster Relief").
_HEADS = frozenset(
    """board arts relief service services staff navy army forces autonomy chamber court assembly duma bureau
    guard police club exchange market academy university school college museum theatre theater hospital
    gazeta pravda izvestia vedomosti kommersant rossiya nickel platinum""".split()
)
# Words that open a sentence, not a name ("And on Putin:", "But the main thing:").
_OPENERS = frozenset("and but or so now then also yet still here there this that these those it we i".split())
# Addresses, not labels: an honorific and a title with no name ("Mr. President", "Madam Chair").
_VOCATIVE = re.compile(
    r"^(ladies\s+and\s+gentlemen|excellencies|friends|colleagues)$|^(dear\s+)?(mr\.?|mrs\.?|ms\.?|madam|madame|sir|your\s+(excellency|majesty|highness))"
    r"(\s+(vice|deputy|acting))?(\s+(president|chairman|chairwoman|chair|speaker|secretary(-general)?|"
    r"prime\s+minister|minister|ambassador|co-chairs?|moderator))?$",
    re.IGNORECASE,
)
_PARENS = re.compile(r"\s*\((?:[^()]*)\)")
_SUFFIX = re.compile(r",?\s+(?:Jr|Sr)\.?$")
_AFTER_PARENS = re.compile(r"\)\s+([^()]+)$")
_NAME_WORD = re.compile(
    r"^[A-ZÀ-ÖØ-ÞА-ЯЁ][\w’'\-.]*\.?$|^[A-ZÀ-ÖØ-Þ]\.$|^[A-Z][a-z]?[A-Z][\w’'\-]*$"
    r"|^(?:al|el|ad|as|an|ar|at|az|ul|abu|bin|ibn|d|l)[-’'][A-ZÀ-ÖØ-Þ][\w’'\-]*$"  # "Bashar al-Assad", "d’Estaing"
)
_CAPS_WORD = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ’'\-.]*$")
_REGNAL = re.compile(r"^(?:II|III|IV|VI|VII|VIII)\.?$")  # not XI: Xi Jinping
# "Member of the Russian Academy of Sciences, Secretary of the Global Issues and International Relations
# Department of the Russian Academy of Sciences, Alexander Dynkin" (24 words); a list of 26 countries is no one
MAX_LABEL_WORDS = 25


def _words(label: str) -> list[str]:
    return label.replace("\u00a0", " ").split()


def floor_actor(label: str) -> str | None:
    """The floor actor (``Question``, ``Remark``) a label names, or None."""
    return _FLOOR.get(" ".join(_words(_PARENS.sub("", label))).lower().rstrip("."))


def _title_case(word: str) -> str:
    """``JEAN-PIERRE`` → ``Jean-Pierre``, ``O’CONNELL`` → ``O’Connell``, ``MCCARTHY`` → ``McCarthy``, ``MR.`` →
    ``Mr.``; a regnal number stays one (``MSWATI III``). "Mac" is left alone: it starts Macron and Machado
    as often as MacArthur."""
    if _REGNAL.match(word):
        return word
    word = "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
    word = re.sub(r"^([OD])([’'])(\w)", lambda m: m.group(1) + m.group(2) + m.group(3).upper(), word)
    return re.sub(r"^(Mc)(\w)", lambda m: m.group(1) + m.group(2).upper(), word) if len(word) > 4 else word


def strip_title(words: Sequence[str]) -> list[str]:
    """The name at the end of a titled label: ``President of Russia Vladimir Putin`` → ``Vladimir
    Putin``. Whatever follows the last title word is the name; after "of"/"and" one word names an
    office or a place first (``Minister of Sport Pavel Kolobkov``), after "of the" an organisation of
    several words (the name is then the last two), and a known place of several words is skipped
    whole. A name of one word keeps its title (``President Trump``)."""
    words = list(words)
    lows = [w.lower().rstrip(".,") for w in words]
    first_link = next((i for i, w in enumerate(lows) if w in _LINKS and i > 0), None)
    if first_link is not None and lows[first_link] != "and" and lows[0] in _TITLE_WORDS:
        between = [i for i in range(1, first_link) if lows[i] not in _TITLE_WORDS]
        if between:  # "Patriarch Kirill of Moscow and All Russia": the name stands before "of"
            name = words[between[0] : first_link]
            return name if len(name) > 1 else words[between[0] - 1 : first_link]
    cut = -1
    for i, w in enumerate(words[:-1]):
        low = w.lower().rstrip(".,")
        if low in _OFFICES or (low in _LINKS and i > 0):
            cut = i
    if cut < 0:
        return words
    rest = words[cut + 1 :]
    if words[cut].lower() in _LINKS:
        joined = " ".join(rest)
        for place in _PLACES:
            if joined.startswith(place + " ") and len(place.split()) < len(rest):
                return _headless(rest[len(place.split()) :])  # "Russian Federation Navy Vladimir Korolyov"
        if words[cut].lower() == "the":  # "of the Central Bank Elvira Nabiullina": an organisation of several words
            return _last_name_words(rest, 2)
        if len(rest) > 2:  # "of Turkey Recep Tayyip Erdogan": one word of office or place
            rest = rest[1:]
        return _last_name_words(_headless(rest), 3)
    if len(rest) == 1:
        first = cut
        while first > 0 and words[first - 1].lower().rstrip(".,") in _TITLE_WORDS:
            first -= 1
        return words[first:]
    return _headless(rest)


def _headless(words: list[str]) -> list[str]:
    """``words`` without the last words of an office's field, organisation or place that end a title
    before the name: "Nuclear Supervision Alexei Aleshin", "Tula Region Alexei Dyumin", "Gazprom
    Management Board Alexei Miller", "General Council Sergei Neverov" (a name keeps two words)."""
    while len(words) > 2 and _office_noun(words[0]):
        words = words[1:]
    return words


def _office_noun(word: str) -> bool:
    """Whether a capitalised word names a field of office, an organisation or a place rather than a
    person ("Supervision", "Board", "Region", "Rights", "Railways", "Monitoring")."""
    low = word.lower().rstrip(".,").removesuffix("’s").removesuffix("'s")
    return (
        low in _FIELDS
        or low in _ORGANISATIONS
        or low in _PLACES_LAST
        or low in _HEADS
        or low.endswith(("tion", "sion", "ment", "ity", "ics", "ance", "ence", "ism", "ure", "ship"))
        or low.endswith(("ing", "ies", "ives", "ness", "ights", "ways", "works"))
    )


def _last_name_words(words: list[str], most: int) -> list[str]:
    """``words`` if they hold at most ``most`` words besides name particles, else the last two such
    words with the particles between them (``Alexander Van der Bellen`` stays whole)."""
    if sum(w.lower() not in _PARTICLES for w in words) <= most:
        return words
    kept, seen = [], 0
    for w in reversed(words):
        kept.append(w)
        seen += w.lower() not in _PARTICLES
        if seen == 2:
            break
    return kept[::-1]


def _drop_honorific(words: list[str]) -> list[str]:
    if len(words) > 2 and words[0].lower() in _HONORIFICS:
        return words[1:]
    return words


def normalise(label: str) -> tuple[str, str] | None:
    """``(actor, kind)`` for a speaker label, or None when the label does not look like one."""
    floor = floor_actor(label)
    if floor:
        return floor, FLOOR
    core = _PARENS.sub("", label).strip()
    if ". " in core:  # "Direct Line with Vladimir Putin. Vladimir Putin": a heading glued to the label
        head, tail = core.rsplit(". ", 1)
        head_words = _words(head)
        if head_words and (len(head_words) > 1 or len(head_words[0]) > 3) and head_words[-1].lower() not in _HONORIFICS:
            if len(_words(tail)) < 2 or _words(tail)[0].lower().rstrip(".") in _NOT_SPEAKERS:
                return None  # "Meeting of the Valdai Club. Photo": a caption's credit
            core = tail
    if ", " in core:  # "Natalya Yuryeva, Channel One Russia": a name, then who they are
        name, _, role = core.partition(", ")
        parts = _words(name)
        if 2 <= len(parts) <= 4 and not any(w.lower() in _TITLE_WORDS or w.lower() in _LINKS for w in parts):
            if _words(role) and _words(role)[-1].lower().rstrip(".") in _PLACES_LAST:
                return None  # "Verkhnyaya Salda, Sverdlovsk Region": where a caller is, not who
            core = name
    words = _words(core)
    if not words or len(words) > MAX_LABEL_WORDS or any(ch.isdigit() for ch in core):
        return None
    if len(words) > 1 and words[0] == "Q":
        return None  # "Go ahead. Q    Yeah, so on the nominations": a press question, no name
    if re.search(r"[!?;\"“”«»<>=*#/\\|@&%$+_\[\]{}]", core) or core.endswith((",", "-", "—")):
        return None
    if core.startswith(("*", "-", "•")) or "**" in core:
        return None  # markdown: a bold heading or a bullet, not a transcript's label
    first, last = words[0].lower().rstrip("."), words[-1].lower().rstrip(".’'s")
    if (
        first in _NOT_SPEAKERS
        or first in _OPENERS
        or _VOCATIVE.match(core)
        or last in _ORGANISATIONS
        or last in _PLACES_LAST
    ):
        return None
    if first in _CONNECTORS and not (len(words) > 1 and words[1].lower() in _TITLE_WORDS):
        return None
    if all(_CAPS_WORD.match(w) for w in words if w.lower() not in _CONNECTORS):
        return _capitals(words)
    for i, w in enumerate(words):
        if w.lower() in _CONNECTORS and 0 < i < len(words) - 1:
            continue
        if not _NAME_WORD.match(w.rstrip(",") if i < len(words) - 2 else w):
            return None  # commas may part an office's words ("Environmental, Technological and ..."), not a name's
    words = [_title_case(w) if len(w.rstrip(".")) > 2 and _CAPS_WORD.match(w) else w for w in words]
    name = _drop_honorific(strip_title(words))
    if len(name) < 2 and name[0].lower().rstrip(".") not in _HONORIFICS:
        if len(words) == 1 or any(w.lower() in _LINKS for w in words):
            return None  # "Russia:", "Minister of Agriculture:": a heading, or an office with nobody named
        name = words[-2:] if words[-2].lower().rstrip(".") in _HONORIFICS else name
    if any("." in w.rstrip(".") for w in name):
        return None  # "Lenta.ru": an outlet, not a person
    after = _AFTER_PARENS.search(label)  # "… Chemical Weapons (OPCW) Hamid Ali Rao": the acronym ends the office
    if after is not None and ". " not in after.group(1):
        tail = _words(after.group(1))
        if (
            len(name) < len(tail) <= 4
            and tail[-len(name) :] == name
            and not any(w.lower() in _TITLE_WORDS | _LINKS for w in tail)
        ):
            name = tail
    return " ".join(name), PERSON


_CONSORTS = frozenset({"lady", "gentleman"})  # "First Lady Biden", "Second Gentleman Emhoff": an office too
# Words no name or office holds, which headings in capitals do.
_VERBS = frozenset("is are was were will has have had delivers announces a an".split())


def _capitals(words: list[str]) -> tuple[str, str] | None:
    """A label in capitals, as White House transcripts write them: an honorific and a surname
    (``MS. JEAN-PIERRE``), or a role (``THE PRESIDENT``, ``SECRETARY BLINKEN``)."""
    first = words[0].lower()
    if any(w.lower() in _VERBS for w in words):
        return None  # "PRESIDENT TRUMP IS ENDING THE ENDLESS DELAYS": a fact sheet's heading
    if first in ("mr.", "mrs.", "ms.", "dr.", "mr", "mrs", "ms", "dr") and len(words) >= 2:
        pass
    elif len(words) == 1 and first in _ROLES:
        pass  # "MODERATOR:", "OPERATOR:"
    elif first == "the" and len(words) >= 2 and words[1].lower().rstrip(".,") in _TITLE_WORDS:
        pass  # "THE PRESIDENT", "THE VICE PRESIDENT"
    elif len(words) >= 2 and any(w.lower().rstrip(".,") in _TITLE_WORDS for w in words[:-1]):
        pass  # "THE PRESIDENT", "SECRETARY BLINKEN", "SURGEON GENERAL MURTHY"
    else:
        return None  # "SUBJECT:", "MEMORANDUM FOR ...:", a shouted heading
    cased = [_title_case(w) if i == 0 or w.lower() not in _CONNECTORS else w.lower() for i, w in enumerate(words)]
    if len(cased) > 3:  # "DEPUTY CHIEF OF STAFF ... PRESS SECRETARY DMITRY PESKOV": an office, then the name
        cased = strip_title(cased)
    return " ".join(cased), PERSON


def spelling(name: str) -> str:
    """What two spellings of one name share: its letters and digits, case and accents folded. "Ban Ki-moon",
    "Ban Ki Moon" and "Ban Ki-Moon", or "Kirill Kle Y Menov" (a source's typo) and "Kirill Kleymenov",
    give one spelling; two names that differ in a letter do not ("Ismaël", "Ismaïl")."""
    plain = unicodedata.normalize("NFKD", name)  # modifier letters (Lm) are apostrophes: "Tuʻiʻonetoa"
    return "".join(ch for ch in plain if ch.isalnum() and unicodedata.category(ch) != "Lm").casefold()


# How alike two full names with the same surname and initials must be to be one person's (difflib's ratio):
# "Sergei Lavrov" and "Sergey Lavrov", "Vladimir V. Putin", "Tatayana Golikova"; not "George W. Bush"
# and "George Bush" (0.88), two presidents.
VARIANT_RATIO = 0.9
MOST_HEARD = 10  # a surname of several well-heard actors means the one with this many times the others' sentences


def one_person(said: Mapping[str, int]) -> dict[str, str]:
    """Each name of ``said`` (names and their sentences), and the name its person goes by: the one most
    of their sentences carry, among the names spelt alike (``spelling``) and the full names that are
    variants of one another (``_variants``: a transliteration, a middle initial, a typo), titles before a
    full name aside ("Prince Albert II" is "Albert II"). A name that is a title and a surname ("Mr.
    Kirby") is only ever spelt alike: "Mrs. Smith" is not "Mr. Smith"."""
    parent = {name: name for name in said}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def join(a: str, b: str) -> None:
        parent[root(a)] = root(b)

    bare = {name: _bare(name) for name in said}  # each name without the titles before it, once
    first: dict[str, str] = {}  # a name of each spelling
    for name in said:
        key = spelling(bare[name])
        if key in first:
            join(name, first[key])
        else:
            first[key] = name
    surnames: dict[str, list[str]] = {}
    for name in first.values():
        words = bare[name].split()
        if len(words) >= 2 and not _surname_only(name):
            surnames.setdefault(spelling(words[-1]), []).append(name)
    for names in surnames.values():
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if _variants(bare[a], bare[b]):
                    join(a, b)
    people: dict[str, list[str]] = {}
    for name in said:
        people.setdefault(root(name), []).append(name)
    # between names said as much, the one whose words other names share ("Carlos", not a typo "Carlso")
    common: dict[str, int] = {}
    for name in said:
        for word in set(name.casefold().split()):
            common[word] = common.get(word, 0) + 1
    out: dict[str, str] = {}
    for names in people.values():
        lead = max(names, key=lambda n: (said[n], sum(common[w] for w in set(n.casefold().split())), n))
        out.update(dict.fromkeys(names, lead))
    return out


def _bare(name: str) -> str:
    """A full name without the titles before it ("Sheikh Tamim bin Hamad Al-Thani": "Tamim bin Hamad
    Al-Thani"), as the UN's records sometimes give it and sometimes not; a title with a surname alone
    ("President Biden", "Surgeon General Murthy") stays whole. A generation's suffix goes too ("Joseph R.
    Biden, Jr" is "Joseph R. Biden")."""
    bare = " ".join(strip_title(_SUFFIX.sub("", name).split()))
    return bare if len(bare.split()) >= 2 and not _surname_only(bare) else name


def _variants(a: str, b: str) -> bool:
    """Whether two full names with one surname are one person's: the same initials (an initial of one
    letter aside) and names as alike as ``VARIANT_RATIO``."""
    initials = [[w[0].casefold() for w in n.split() if len(w.rstrip(".")) > 1] for n in (a, b)]
    if initials[0] != initials[1]:
        return False  # "Terry Moran" is not "Jerry Moran"
    return difflib.SequenceMatcher(None, a.casefold(), b.casefold()).ratio() >= VARIANT_RATIO


def match_actor(name: str, actors: Iterable[str] | Mapping[str, int], least: int = 0) -> str:
    """The one actor among ``actors`` that ``name`` means. ``actors`` may give each actor's sentences;
    then, where a surname leaves several, those with fewer than ``least`` give way to one with more, and
    the rest to one with ``MOST_HEARD`` times the sentences of each ("Biden": "President Biden").

    In order: the same name in any case, or spelt alike (``spelling``: "Ban Ki Moon" is "Ban Ki-moon"), or
    the one variant of a full name (``_variants``: "Sergey Chemezov" is "Sergei Chemezov");
    the last words (a surname) of exactly one actor ("Putin"); or, for a full name, the one actor a
    transcript names by a title and that surname alone ("Karine Jean-Pierre" is "Ms. Jean-Pierre", "John
    Kirby" "Mr. Kirby"; never "Dan Sullivan"). An ambiguous or unknown name is ``InvalidInput``, with the
    candidates or the nearest actors."""
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        raise InvalidInput("speaker is empty: give an actor's name")
    counts = dict(actors) if isinstance(actors, Mapping) else dict.fromkeys(actors, least)
    names = sorted(counts)
    key = spelling(name)
    exact = [a for a in names if a.casefold() == wanted] or [a for a in names if key and spelling(a) == key]
    if exact:
        return exact[0]
    words = name.split()
    if len(words) >= 2 and not _surname_only(name):
        variants = [
            a
            for a in names
            if spelling(a.split()[-1]) == spelling(words[-1]) and not _surname_only(a) and _variants(name, a)
        ]
        if len(variants) == 1:
            return variants[0]  # "Sergey Chemezov" is "Sergei Chemezov"

    def one_of(found: list[str], most_heard: bool = True) -> str | None:
        """The actor ``found`` means, if one: the only one, or the one ``best_heard``."""
        return found[0] if len(found) == 1 else best_heard(found, counts, least, most_heard)

    tail = [a for a in names if a.casefold().endswith(" " + wanted)]
    full = [a for a in tail if a.split()[0].lower().rstrip(".") not in _HONORIFICS]
    named = full or tail  # "Mr Putin" gives way to "Vladimir Putin"
    shortest = min(named, key=len) if named else ""
    if named and all(a == shortest or a.endswith(" " + shortest) for a in named):
        return shortest
    # then the one well heard: "Sullivan" is "Mr. Sullivan" (2,141 sentences), not Dan (8) or Jake (1);
    # "Biden" is "President Biden" (153,704), not "First Lady Biden" (3,262)
    if (chosen := one_of(named) or one_of(tail)) is not None:
        return chosen
    if tail:
        shown = ", ".join(tail[:10]) + (f" and {len(tail) - 10} more" if len(tail) > 10 else "")
        raise InvalidInput(f"speaker {name!r} is ambiguous: {shown}; give the full name")
    surname = wanted.split()[-1]
    titled = [a for a in names if _surname_only(a) and a.split()[-1].casefold() == surname] if " " in wanted else []
    if (chosen := one_of(titled, most_heard=False)) is not None:
        return chosen  # a full name is never the better heard of two: "Jill Biden" is not "President Biden"
    if len(heard := [a for a in titled if counts[a] >= least]) > 1:
        raise InvalidInput(f"speaker {name!r} is ambiguous: {', '.join(heard[:10])}; give the name the index uses")
    near = difflib.get_close_matches(wanted, [a.casefold() for a in names], n=5, cutoff=0.6)
    by_fold = {a.casefold(): a for a in names}
    hint = f"; nearest: {', '.join(by_fold[n] for n in near)}" if near else ""
    raise InvalidInput(f"no speaker {name!r} in this index{hint} (list them with `fpsearch speakers` or GET /speakers)")


def best_heard(names: Iterable[str], counts: Mapping[str, int], least: int = 0, most_heard: bool = True) -> str | None:
    """Of ``names`` (of one surname), the one a reader means: the only one with ``least`` sentences or
    more, or (``most_heard``) the one of those with ``MOST_HEARD`` times the sentences of each other
    ("Biden": "President Biden", not "First Lady Biden"); None if neither."""
    heard = sorted((n for n in names if counts[n] >= least), key=lambda n: -counts[n])
    if len(heard) == 1:
        return heard[0]
    if most_heard and len(heard) > 1 and counts[heard[0]] >= MOST_HEARD * max(counts[heard[1]], 1):
        return heard[0]
    return None


def _surname_only(actor: str) -> bool:
    """Whether an actor is named by a title or honorific and a surname alone: "Ms. Jean-Pierre", "Secretary
    Mayorkas", "President Biden", "First Lady Biden"."""
    words = actor.split()
    return len(words) >= 2 and all(w.lower().rstrip(".") in _HONORIFICS | _TITLE_WORDS | _CONSORTS for w in words[:-1])

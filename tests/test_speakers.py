"""Who said it: speaker turns read at index time, hits that carry their speaker, the speaker filter,
and positions (what each actor says about a topic)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from search import Engine, build
from search.chunking import split_sentences
from search.cli import app
from search.errors import InvalidInput
from search.server import create_app
from search.speakers import (
    FLOOR,
    PERSON,
    askers,
    attribute,
    document_turns,
    find_turns,
    match_actor,
    normalise,
    office_holder,
    one_person,
    spelling,
)
from search.store.base import Actor, askers_among, one_name_each

TRANSCRIPT = """Meeting with Prime Minister of Japan Shinzo Abe
The leaders discussed the peace treaty and the Kuril Islands.
President of Russia Vladimir Putin: Mr Prime Minister, colleagues, welcome to Moscow.
We do not trade territories, although a peace treaty with Japan is a key issue for us.
Prime Minister of Japan Shinzo Abe (retranslated): Thank you, Mr President.
Japan seeks a solution on the four northern islands and a peace treaty with Russia.
Question: What about joint economic activity on the Kuril Islands and the peace treaty?
Vladimir Putin: Joint economic activity on the islands creates conditions for a peace treaty.
I represent a large regional Siberian healthcare centre: that is not a speaker label.
Cooperatives are not alone in selling their products: nor is this one.
"""

BRIEFING = """James S. Brady Press Briefing Room
1:03 P.M. EST
MS. JEAN-PIERRE:  Good afternoon, everyone.  We have sanctions to announce on Russia.
Q    Thank you, Karine.  Will the sanctions on Russia cover energy?
MS. JEAN-PIERRE:  The sanctions on Russia target its banks, not energy, for now.
SUBJECT: this line is a heading.
"""

INTERVIEW = """Interview to Fictional Television
Anna Asker: Mr President, the peace treaty with Japan and the Kuril Islands: will you give the islands back?
Vladimir Putin: A peace treaty with Japan needs trust. We do not trade the Kuril Islands.
Anna Asker: Japan says the islands are its northern territories. Is a peace treaty possible at all?
Vladimir Putin: The peace treaty is possible when Japan respects our security. Why should we hurry?
Anna Asker: And the joint economic activity on the Kuril Islands, is that a step to a peace treaty?
Vladimir Putin: Joint economic activity on the Kuril Islands prepares a peace treaty with Japan.
"""


# -- reading turns ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Vladimir Putin", ("Vladimir Putin", PERSON)),
        ("President of Russia Vladimir Putin", ("Vladimir Putin", PERSON)),
        ("Minister of Sport Pavel Kolobkov", ("Pavel Kolobkov", PERSON)),
        ("President of Turkey Recep Tayyip Erdogan (retranslated)", ("Recep Tayyip Erdogan", PERSON)),
        ("President of the United States of America Donald Trump", ("Donald Trump", PERSON)),
        ("Defence Minister Sergei Shoigu", ("Sergei Shoigu", PERSON)),
        ("Andrei Vandenko", ("Andrei Vandenko", PERSON)),
        ("Vladimir PUTIN", ("Vladimir Putin", PERSON)),
        ("Direct Line with Vladimir Putin. Vladimir Putin", ("Vladimir Putin", PERSON)),
        ("King Mohammed VI of Morocco ( retranslated )", ("Mohammed VI", PERSON)),
        ("MS. JEAN-PIERRE", ("Ms. Jean-Pierre", PERSON)),
        ("MS. LEAVITT", ("Ms. Leavitt", PERSON)),
        ("THE PRESIDENT", ("The President", PERSON)),
        ("COACH KERR", ("Coach Kerr", PERSON)),
        ("President of Syria Bashar al-Assad (retranslated)", ("Bashar al-Assad", PERSON)),
        (
            "Deputy Director General of the Technical Secretariat of the Organisation for the Prohibition of "
            "Chemical Weapons (OPCW) Hamid Ali Rao",
            ("Hamid Ali Rao", PERSON),  # the acronym ends the office: the name is all that follows it
        ),
        # an organisation, then its office "and" another: the name follows the last ("… and CEO")
        ("National Turkey Federation President and CEO Leslee Oden", ("Leslee Oden", PERSON)),
        ("KPMG Chief Economist Diane Swonk", ("Diane Swonk", PERSON)),
        ("Sen. Dave McCormick on Fox News Sunday", ("Dave McCormick", PERSON)),
        ("SECRETARY BLINKEN", ("Secretary Blinken", PERSON)),
        ("MODERATOR", ("Moderator", PERSON)),
        ("SURGEON GENERAL MURTHY", ("Surgeon General Murthy", PERSON)),
        ("PRESIDENT MACRON", ("President Macron", PERSON)),
        ("Chief of the General Staff Valery Gerasimov", ("Valery Gerasimov", PERSON)),
        ("Prime Minister of Great Britain Theresa May", ("Theresa May", PERSON)),
        ("Commander in Chief of the Russian Federation Navy Vladimir Korolyov", ("Vladimir Korolyov", PERSON)),
        ("General Director of the Agency for Strategic Initiatives Svetlana Chupsheva", ("Svetlana Chupsheva", PERSON)),
        ("Vatican Secretary of State Cardinal Pietro Parolin (retranslated)", ("Pietro Parolin", PERSON)),
        ("SECRETARY MCDONOUGH", ("Secretary McDonough", PERSON)),
        ("Federal President of the Republic of Austria Alexander Van der Bellen", ("Alexander Van der Bellen", PERSON)),
        ("Chairman of the State Development Corporation VEB.RF Igor Shuvalov", ("Igor Shuvalov", PERSON)),
        (
            "Head of the Federal Service for Environmental, Technological and Nuclear Supervision Alexei Aleshin",
            ("Alexei Aleshin", PERSON),
        ),
        ("At a meeting with Government members. President of Russia Vladimir Putin", ("Vladimir Putin", PERSON)),
        ("Acting Governor of Tula Region Alexei Dyumin", ("Alexei Dyumin", PERSON)),
        ("Chairman of Gazprom Management Board Alexei Miller", ("Alexei Miller", PERSON)),
        ("Commissioner for Children’s Rights Anna Kuznetsova", ("Anna Kuznetsova", PERSON)),
        ("President of South Ossetia Leonid Tibilov", ("Leonid Tibilov", PERSON)),
        ("Secretary of the United Russia General Council Andrei Turchak", ("Andrei Turchak", PERSON)),
        ("Head of the Federal Service for Financial Monitoring Yury Chikhanchin", ("Yury Chikhanchin", PERSON)),
        ("Secretary General of OPEC Mohammed Sanusi Barkindo", ("Mohammed Sanusi Barkindo", PERSON)),
        ("Question", ("Question", FLOOR)),
        ("Question (retranslated)", ("Question", FLOOR)),
        ("Remark", ("Remark", FLOOR)),
        ("Q", ("Question", FLOOR)),
    ],
)
def test_labels_normalise_into_one_actor(label: str, expected: tuple[str, str]) -> None:
    assert normalise(label) == expected


@pytest.mark.parametrize(
    "label",
    [
        "I represent a large regional Siberian healthcare centre",
        "Cooperatives are not alone in selling their products",
        "Contact telephone numbers",
        "Regarding North Korea, our position is well known",
        "SUBJECT",
        "Mr. President",
        "Dear Mr. Speaker",
        "Ladies and Gentlemen",
        "And on Putin",
        "Numbers USA",
        "**Ohio Congressman Greg Landsman**",
        "Russia",
        "Text of the Decree",
        "Section 2",
        "PRESIDENT TRUMP IS ENDING THE ENDLESS DELAYS",
        "INVOKING A NATIONAL EMERGENCY",
    ],
)
def test_prose_headings_and_addresses_are_not_labels(label: str) -> None:
    assert normalise(label) is None


def test_turns_run_until_the_next_label_and_titles_merge_within_a_document() -> None:
    turns = find_turns(TRANSCRIPT)
    assert [(t.actor, t.kind) for t in turns] == [
        ("Vladimir Putin", PERSON),
        ("Shinzo Abe", PERSON),
        ("Question", FLOOR),
        ("Vladimir Putin", PERSON),
    ]
    assert turns[0].label == "President of Russia Vladimir Putin"  # the raw label is kept
    assert TRANSCRIPT[turns[0].start : turns[0].body] == "President of Russia Vladimir Putin: "
    assert turns[0].end <= turns[1].start
    # the two colons in prose are not turns: the last turn runs to the end of the text
    assert TRANSCRIPT[turns[-1].start : turns[-1].end].endswith("nor is this one.")


def test_a_misspelling_joins_the_most_frequent_name_it_resembles_in_every_run() -> None:
    # "Kleimenov" is near both "Kleymenov" (3 turns) and "Kleimyonov" (2): which one it joined depended
    # on the order of a set, so on the process's hash seed, and two builds of one corpus could differ
    script = (
        "from search.speakers import find_turns\n"
        "text = ''.join(['Kirill Kleymenov: Good afternoon.\\n', 'Vladimir Putin: Hello.\\n'] * 3"
        " + ['Kirill Kleimyonov: A call.\\n'] * 2 + ['Kirill Kleimenov: The next question.\\n'])\n"
        "print(find_turns(text)[-1].actor)\n"
    )
    for seed in range(1, 7):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert run.stdout.strip() == "Kirill Kleymenov", seed


def test_what_nobody_says_inside_a_turn_has_no_speaker() -> None:
    text = (
        "Vladimir Putin: Good afternoon, colleagues.\n"
        "We will discuss the budget.\n"
        "See also\n"
        "Meeting on the budget May 17, 2018 Vlaidmir Putin: Let us continue with the second item, the budget for next year.\n"
        "With Finance Minister Anton Siluanov.\n"
        "Anton Siluanov: The budget is balanced. (Laughter.)\n"
        "Vladimir Putin: Thank you.\n"
        "To be continued.\n"
        "The meeting went on behind closed doors.\n"
    )
    turns = find_turns(text)
    assert [t.actor for t in turns] == ["Vladimir Putin", "Vladimir Putin", "Anton Siluanov", "Vladimir Putin"]
    spans = split_sentences(text)
    said = {text[a:b]: None if t is None else turns[t].actor for (a, b), t in zip(spans, attribute(turns, spans, text))}
    # the link under "See also" is nobody's, the misspelt label is Putin's, the caption and the
    # stage direction are nobody's, and after "To be continued." nobody speaks
    assert said["We will discuss the budget."] == "Vladimir Putin"
    assert said["See also"] is None
    glued = "Meeting on the budget May 17, 2018 Vlaidmir Putin: Let us continue with the second item, the budget for next year."
    assert said[glued] == "Vladimir Putin"
    assert said["With Finance Minister Anton Siluanov."] is None
    assert said["Anton Siluanov: The budget is balanced."] == "Anton Siluanov"
    assert said["(Laughter.)"] is None
    assert said["The meeting went on behind closed doors."] is None


def test_white_house_labels_and_press_questions() -> None:
    turns = find_turns(BRIEFING)
    assert [(t.actor, t.kind) for t in turns] == [
        ("Ms. Jean-Pierre", PERSON),
        ("Question", FLOOR),
        ("Ms. Jean-Pierre", PERSON),
    ]
    assert BRIEFING[turns[1].body :].startswith("Thank you, Karine.")


def test_a_press_question_is_the_press_whatever_colon_follows() -> None:
    briefing = (
        "MR. KIRBY:  Good afternoon.\n"
        "Q    Mr. Kirby, on the prisoner swap: Is it done?\n"  # no actor "Q Mr. Kirby", whose answers Kirby's would join
        "MR. KIRBY:  Not yet.\n"
        "Q    So, on this relief package: Does it pass?\n"
        "Q    Okay. MS. JEAN-PIERRE:  Go ahead, Nancy.\n"  # a question's last word, then an answer glued on
        "Q    Thank you.\n"
        "MS. JEAN-PIERRE:  Yes. Q    Tomorrow is jobs day. Is it good?\n"  # a question glued to an answer
        "MS. JEAN-PIERRE:  We think so.\n"
        "Go ahead. Q    Yeah, so on the nominations: Who?\n"  # and to a line with no label
        "Q    And the testing issue? MS. PSAKI:  Sure. We test.\n"  # an answer glued to a question
        "Q    Did he say it? NOTE: the audio cut out.\n"  # capitals that are nobody's label
        "7:06 P.M. EDT THE VICE PRESIDENT:  Thank you.\n"  # glued to a time stamp, which is nobody's
    )
    turns = find_turns(briefing)
    said = [(t.actor, briefing[t.body : t.end]) for t in turns]
    assert said == [
        ("Mr. Kirby", "Good afternoon."),
        ("Question", "Mr. Kirby, on the prisoner swap: Is it done?"),
        ("Mr. Kirby", "Not yet."),
        ("Question", "So, on this relief package: Does it pass?"),
        ("Question", "Okay."),
        ("Ms. Jean-Pierre", "Go ahead, Nancy."),
        ("Question", "Thank you."),
        ("Ms. Jean-Pierre", "Yes."),
        ("Question", "Tomorrow is jobs day. Is it good?"),
        ("Ms. Jean-Pierre", "We think so.\nGo ahead."),
        ("Question", "Yeah, so on the nominations: Who?"),
        ("Question", "And the testing issue?"),
        ("Ms. Psaki", "Sure. We test."),
        ("Question", "Did he say it? NOTE: the audio cut out."),
        ("The Vice President", "Thank you."),
    ]


def test_in_a_transcript_labelled_in_capitals_a_mixed_case_label_is_read_out() -> None:
    briefing = (
        "MS. PSAKI:  Here is what economists say.\n"
        "Goldman Sachs: “Vaccinations will have a positive impact on employment.”\n"
        "And that is why we act.\n"
        "Q    Thanks, Jen.\n"
        "Mr. KIRBY:  I have not heard that report.\n"  # a typo's case, with the surname in capitals: a label
        "THE PRESIDENT:  Bipartisan Infrastructure Law: 37,000 projects.\n"
    )
    said = [(t.actor, briefing[t.body : t.end]) for t in find_turns(briefing)]
    assert said == [
        (
            "Ms. Psaki",
            "Here is what economists say.\nGoldman Sachs: “Vaccinations will have a positive impact on employment.”"
            "\nAnd that is why we act.",
        ),
        ("Question", "Thanks, Jen."),
        ("Mr. Kirby", "I have not heard that report."),
        ("The President", "Bipartisan Infrastructure Law: 37,000 projects."),
    ]
    # one label in capitals is enough against one in mixed case: an address in a speech is no speaker
    speech = "THE VICE PRESIDENT:  Thank you.\nFirst Lady Dr. Jill Biden, President Joe Biden: thank you both.\nWe end cancer.\n"
    assert [t.actor for t in find_turns(speech)] == ["The Vice President"]
    # where mixed case is how the transcript labels (the Kremlin), nothing changes
    kremlin = "Vladimir Putin: Good afternoon.\nSergei Shoigu: Mr President, the troops are ready.\n"
    assert [t.actor for t in find_turns(kremlin)] == ["Vladimir Putin", "Sergei Shoigu"]


def test_a_long_title_before_the_name_is_still_a_label() -> None:
    label = (
        "Director of the Federal Service of National Guard Troops of the Russian Federation and Commander of the "
        "National Guard Troops Viktor Zolotov"
    )
    text = f"Vladimir Putin: Mr Zolotov, please.\n{label}: Our troops maintain their service.\n"
    assert [t.actor for t in find_turns(text)] == ["Vladimir Putin", "Viktor Zolotov"]


def test_prose_has_no_speaker_and_metadata_gives_one() -> None:
    prose = "Vladimir Putin held talks with the Prime Minister of Japan.\nThey discussed the islands."
    assert document_turns(prose, {}) == []
    assert document_turns(prose, {"speaker": ""}) == []
    (turn,) = document_turns(prose, {"speaker": "Mr. Shinzo ABE", "country": "Japan"})
    assert (turn.actor, turn.kind, turn.start, turn.end) == ("Shinzo Abe", PERSON, 0, len(prose))
    assert document_turns(prose, {"speaker": "Mr. ARCE"})[0].actor == "Mr. Arce"  # a surname keeps its title
    assert document_turns(prose, {"speaker": "King Mswati III"})[0].actor == "King Mswati III"  # not "Iii"


def test_an_office_alone_is_the_holder_the_title_names() -> None:
    remarks = (
        "THE PRESIDENT:  Thank you all. We stand with Ukraine.\n"
        "Q    Mr. President, will you meet him?\n"
        "THE PRESIDENT:  Not this week.\n"
        "THE VICE PRESIDENT:  And we will keep our word.\n"
    )
    speakers = lambda title: [t.actor for t in document_turns(remarks, {}, title)]  # noqa: E731
    assert speakers("Remarks by President Biden and Vice President Harris Before Marine One Departure") == [
        "President Biden",
        "Question",
        "President Biden",
        "Vice President Harris",
    ]
    # two presidents are two actors; a headline in capitals; a first name before the surname
    assert speakers("REMARKS BY PRESIDENT TRUMP AND VICE PRESIDENT VANCE AT THE LIBERTY BALL")[::3] == [
        "President Trump",
        "Vice President Vance",
    ]
    assert speakers("Remarks by President Donald J. Trump Honoring the Troops")[0] == "President Trump"
    # a title that names neither office, or names it only inside a longer one, changes nothing
    assert speakers("Press Briefing by Press Secretary Karine Jean-Pierre")[::3] == [
        "The President",
        "The Vice President",
    ]
    assert speakers("Remarks by Vice President Harris at the Summit")[::3] == ["The President", "Vice President Harris"]
    assert speakers("") == ["The President", "Question", "The President", "The Vice President"]


def test_a_speech_under_one_office_label_is_the_holders() -> None:
    # one label alone is most often a heading, but an office alone is a speaker: 407 White House speeches
    speech = "Washington National Cathedral\n11:31 A.M. EST\nTHE PRESIDENT:  Leaders of the clergy.\nMay God bless you.\n11:42 A.M. EST"
    (turn,) = document_turns(
        speech, {}, "Remarks by President Biden at a Memorial Service for Former President Jimmy Carter"
    )
    assert (
        turn.actor == "President Biden" and speech[turn.body : turn.end] == "Leaders of the clergy.\nMay God bless you."
    )
    assert find_turns("Summary: the budget is balanced.\nNothing else was said.") == []  # a heading stays one


def test_an_office_is_the_holder_who_does_not_speak_under_their_name() -> None:
    title = "Remarks by President Biden and President Rodrigo Chaves Robles of Costa Rica Before Bilateral Meeting"
    assert office_holder("The President", title, {"President Chaves", "Question"}) == "President Biden"
    # both speak by name too: the host, named first ("PRESIDENT BIDEN: … THE PRESIDENT: Thank you.")
    assert office_holder("The President", title, {"President Biden", "President Chaves"}) == "President Biden"
    harris = "Remarks by Vice President Harris and President William Ruto of the Republic of Kenya"
    assert office_holder("The Vice President", harris, {"Vice President Harris", "President Ruto"}) == (
        "Vice President Harris"
    )
    assert (
        office_holder("The President", "Remarks by President Biden, Vice President Harris, and Guests")
        == "President Biden"
    )
    assert office_holder("The President", "President Biden’s Call with President Macron") == "President Biden"
    assert office_holder("The First Lady", "Remarks by First Lady Jill Biden at the Event") == "First Lady Biden"
    assert office_holder("Vladimir Putin", "Meeting with President Biden") is None  # a name is no office


def test_the_title_repeated_as_a_caption_inside_a_speech_is_nobodys() -> None:
    text = (
        "Vladimir Putin: Russian investment in Austria is growing.\n"
        "Statements for the press following talks with President of Austria Heinz Fischer. We discussed gas.\n"
        "Interview. That is what I said.\n"
        "Heinz Fischer: Thank you.\n"
    )
    spans = split_sentences(text)
    turns = find_turns(text)
    said = {
        text[s:e]: (None if t is None else turns[t].actor) for (s, e), t in zip(spans, attribute(turns, spans, text))
    }
    assert said["Statements for the press following talks with President of Austria Heinz Fischer."] == "Vladimir Putin"
    title = "Statements for the press following talks with President of Austria Heinz Fischer"
    for name in (title, "Interview"):
        said = {text[s:e]: t for (s, e), t in zip(spans, attribute(turns, spans, text, name))}
        assert said["Statements for the press following talks with President of Austria Heinz Fischer."] is (
            None if name == title else 0
        )
        assert said["We discussed gas."] == 0 and said["Interview."] == 0  # a short title may be said


def test_a_sentence_run_into_a_glued_label_is_the_first_speakers() -> None:
    text = "MR. FENTON:  Let me ask Dr. Daskalakis to add more. DR. DASKALAKIS:  Sure, I will start with the events.\n"
    turns = find_turns(text)
    assert [t.actor for t in turns] == ["Mr. Fenton", "Dr. Daskalakis"]
    whole = (text.index("Let"), text.index("events.") + 7)  # one sentence to a splitter that sees "DR." as short
    after = (text.index("Sure"), text.index("events.") + 7)
    assert attribute(turns, [whole, after], text) == [0, 1]


def test_sentences_take_the_speaker_of_their_turn() -> None:
    turns = find_turns(TRANSCRIPT)
    first = TRANSCRIPT.index("The leaders")
    answer = TRANSCRIPT.index("We do not trade")
    asked = TRANSCRIPT.index("Question:")
    said = attribute(turns, [(first, first + 5), (answer, answer + 5), (asked, asked + 5)])
    assert said == [None, 0, 2]


def test_names_match_in_full_or_by_an_unambiguous_surname() -> None:
    actors = ["Vladimir Putin", "Dmitry Medvedev", "Sergei Ivanov", "Viktor Ivanov", "Question"]
    assert match_actor("vladimir putin", actors) == "Vladimir Putin"
    assert match_actor("Putin", actors) == "Vladimir Putin"
    with pytest.raises(InvalidInput, match="ambiguous: Sergei Ivanov, Viktor Ivanov"):
        match_actor("Ivanov", actors)
    with pytest.raises(InvalidInput, match="nearest: Vladimir Putin"):
        match_actor("Vladimir Puttin", actors)
    with pytest.raises(InvalidInput, match="no speaker 'Nobody'"):
        match_actor("Nobody", actors)
    assert match_actor("Ban Ki Moon", ["Ban Ki-moon", "Ban Kim"]) == "Ban Ki-moon"  # spelt alike
    assert match_actor("Sergey Lavrov", ["Sergei Lavrov", "Sergei Ivanov"]) == "Sergei Lavrov"  # a variant
    with pytest.raises(InvalidInput, match="no speaker 'Jerry Moran'"):
        match_actor("Jerry Moran", ["Terry Moran"])


def test_white_house_names_match_their_titled_actors() -> None:
    said = {
        "Ms. Jean-Pierre": 24830,
        "Mr. Kirby": 6945,
        "Ms. Kirby": 1,  # a typo of the transcript's
        "Mr. Sullivan": 2141,
        "Dan Sullivan": 8,
        "Jake Sullivan": 1,
        "President Biden": 1186,
        "First Lady Biden": 6,
        "Mr. Smith": 3,
        "Ms. Smith": 2,
    }
    # a full name, where the transcripts name that surname with a title only
    assert match_actor("Karine Jean-Pierre", said, 20) == "Ms. Jean-Pierre"
    assert match_actor("John Kirby", said, 20) == "Mr. Kirby"
    assert match_actor("Joe Biden", said, 20) == "President Biden"
    # a surname: the one actor well heard gives way to nobody barely heard
    assert match_actor("Kirby", said, 20) == "Mr. Kirby"
    assert match_actor("Sullivan", said, 20) == "Mr. Sullivan"
    # a full name never becomes another full name, and two barely heard stay two
    assert match_actor("Jake Sullivan", said, 20) == "Jake Sullivan"
    with pytest.raises(InvalidInput, match="no speaker 'Tom Sullivan'"):
        match_actor("Tom Sullivan", {"Dan Sullivan": 8, "Jake Sullivan": 1}, 20)
    with pytest.raises(InvalidInput, match="no speaker 'Dan Smith'"):
        match_actor("Dan Smith", said, 20)
    with pytest.raises(InvalidInput, match="ambiguous"):
        match_actor("Smith", said, 20)
    with pytest.raises(InvalidInput, match="ambiguous"):
        match_actor("Kirby", list(said))  # without counts, two Kirbys are two
    # two well heard: a surname is the one heard ten times as much; a full name is neither of them
    heard = {**said, "President Biden": 153704, "First Lady Biden": 3262, "Mark Biden": 21}
    assert match_actor("Biden", heard, 20) == "President Biden"
    with pytest.raises(InvalidInput, match="'Jill Biden' is ambiguous: First Lady Biden, President Biden"):
        match_actor("Jill Biden", heard, 20)
    with pytest.raises(InvalidInput, match="ambiguous"):
        match_actor("Biden", {"President Biden": 3000, "First Lady Biden": 600}, 20)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Ban Ki-moon", "Ban Ki Moon"),
        ("Kirill Kleymenov", "Kirill Kle Y Menov"),
        ("Yunus-Bek Yevkurov", "Yunus-bek Yevkurov"),
        ("Mr. Romulo", "Mr Romulo"),
        ("Ismaël Omar Guelleh", "Ismael Omar Guelleh"),
        ("Pohiva Tu’i’onetoa", "Pohiva Tuʻiʻonetoa"),
    ],
)
def test_spellings_of_one_name_are_one(one: str, other: str) -> None:
    assert spelling(one) == spelling(other)


@pytest.mark.parametrize(("one", "other"), [("Ismaël Omar Guelleh", "Ismaïl Omar Guelleh"), ("Mr. Romulo", "Romulo")])
def test_other_names_are_not(one: str, other: str) -> None:
    assert spelling(one) != spelling(other)


def test_variants_of_a_full_name_are_one_person() -> None:
    said = {
        "Sergei Lavrov": 900,  # the Kremlin's
        "Sergey Lavrov": 300,  # the UN's
        "Sergey V. Lavrov": 40,
        "Vladimir Putin": 5000,
        "Vladimir V. Putin": 10,
        "Tatayana Golikova": 2,
        "Tatyana Golikova": 60,
        "Carlso Alberto Veiga": 5,  # a typo, as often as the name: the name's common words win
        "Carlos Alberto Veiga": 5,
        "Carlos Menem": 9,
        "George Bush": 30,  # two presidents
        "George W. Bush": 70,
        "Terry Moran": 4,  # a journalist and a senator
        "Jerry Moran": 5,
        "Mr. Smith": 3,  # titles and a surname alone are only ever spelt alike
        "Mrs. Smith": 2,
        "Ms. Jean-Pierre": 900,
        "MS. JEAN-PIERRE": 1,
        "Sheikh Tamim bin Hamad Al-Thani": 5,  # titles before a full name aside
        "Emir Sheikh Tamim bin Hamad Al-Thani": 1,
        "Tamim bin Hamad Al Thani": 3,
        "Surgeon General Murthy": 7,  # a title and a surname stay whole
        "General Murthy": 1,
        "Joseph R. Biden": 2,  # a generation's suffix aside
        "Joseph R. Biden, Jr": 1,
    }
    named = one_person(said)
    assert named["Joseph R. Biden, Jr"] == "Joseph R. Biden"
    assert named["Sergey Lavrov"] == "Sergei Lavrov"
    assert named["Sergey V. Lavrov"] == "Sergey V. Lavrov"  # 0.897: the price of keeping two Bushes apart
    assert named["Vladimir V. Putin"] == "Vladimir Putin" and named["Tatayana Golikova"] == "Tatyana Golikova"
    assert named["Carlso Alberto Veiga"] == named["Carlos Alberto Veiga"] == "Carlos Alberto Veiga"
    assert named["MS. JEAN-PIERRE"] == "Ms. Jean-Pierre"
    assert {named[n] for n in said if "Tamim" in n} == {"Sheikh Tamim bin Hamad Al-Thani"}
    assert named["General Murthy"] == "General Murthy"
    for name in ("George Bush", "George W. Bush", "Terry Moran", "Jerry Moran", "Mr. Smith", "Mrs. Smith"):
        assert named[name] == name


# -- in an index (fake embedder) ----------------------------------------------------------------


def built(tmp_path: Path, docs: list[dict], fake) -> Path:
    """An index of ``docs`` (JSONL records) under ``tmp_path``."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "docs.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    build([root], tmp_path / "index", model=fake)
    return tmp_path / "index"


@pytest.fixture
def actors_index(tmp_path: Path, fake) -> Path:
    docs = [
        {"_id": "k-talks", "title": "Talks with Shinzo Abe", "date": "2016-12-15", "text": TRANSCRIPT},
        {"_id": "wh-1", "title": "Press Briefing", "date": "2022-03-01", "text": BRIEFING},
        {
            "_id": "un-jpn",
            "title": "UN General Debate: Japan",
            "date": "1983",
            "country": "Japan",
            "speaker": "Mr. Shintaro Abe",
            "text": "Japan calls for the return of the Northern Territories, the four northern islands. "
            "A peace treaty with the Soviet Union requires the return of the islands.",
        },
        {
            "_id": "un-rus",
            "title": "UN General Debate: USSR",
            "date": "1972",
            "country": "Union of Soviet Socialist Republics",
            "speaker": "Mr. Gromyko",
            "text": "Negotiations will soon take place on a peace treaty between the USSR and Japan.",
        },
        {
            "_id": "news",
            "title": "News",
            "date": "2018-01-01",
            "text": "The Kuril Islands were discussed. Vladimir Putin spoke about a peace treaty with Japan.",
        },
    ]
    return built(tmp_path, docs, fake)


def test_those_who_mostly_ask_are_askers() -> None:
    turns = [
        (1, "Mr President, the islands. Will you give them back?"),
        (1, "Is a treaty possible?"),
        (1, "Thank you."),  # two of three turns end in a question
        (2, "We do not trade territories. Why should we hurry? A treaty needs trust."),  # rhetorical
        (2, "Joint activity prepares a treaty. We keep talking."),
        (3, "Thank you, colleagues. Who would like to speak next?"),  # chairs: one turn in three asks
        (3, "The treaty matters to us. The islands are ours."),
        (3, "Our position has not changed."),
        (4, "Good evening. " + "What do you make of it? We heard you. " * 4 + "Thanks."),  # 4 questions in 10
        (4, "Let us move on."),
        (4, "Next, the economy."),
    ]
    assert askers(turns) == frozenset({1})  # actor 4 says too little for its share of questions to count
    assert askers([*turns, (4, "Another statement. " * 6 + "Really? Truly? Why?")]) == frozenset({1, 4})
    assert askers([]) == frozenset()


def test_spellings_of_one_asker_ask_together() -> None:
    actors = one_name_each(
        [
            Actor(1, "Anna Asker", PERSON, 1, 2, 2),
            Actor(2, "Anna ASKER", PERSON, 1, 1, 1),
            Actor(3, "Vladimir Putin", PERSON, 1, 4, 9),
            Actor(4, "Question", FLOOR, 1, 1, 1),
            Actor(5, "Question", PERSON, 1, 1, 1),  # another kind of actor: never one with the floor
        ]
    )
    assert [actors[i].name for i in (1, 2, 3)] == ["Anna Asker", "Anna Asker", "Vladimir Putin"]
    assert actors[5].kind == PERSON and actors[4].kind == FLOOR
    # under one name, two of four turns ask: both spellings ask, not just the one that asks once in one turn
    turns = [(1, "Will you give them back?"), (1, "Thanks."), (1, "Go on."), (2, "A treaty?"), (3, "No. We talk.")]
    assert askers(turns) == frozenset({2}) and askers_among(actors, turns) == frozenset({1, 2})


@pytest.fixture
def interview_index(tmp_path: Path, fake) -> Path:
    docs = [
        {"_id": "k-interview", "title": "Interview", "date": "2018-06-01", "text": INTERVIEW},
        {"_id": "k-talks", "title": "Talks with Shinzo Abe", "date": "2016-12-15", "text": TRANSCRIPT},
        {  # one turn over a whole speech that ends in a question: a speech asks nobody
            "_id": "un-speech",
            "title": "UN General Debate",
            "date": "1983",
            "speaker": "Mr. Ivan Orator",
            "text": "The islands and the peace treaty with Japan concern us all. Who will keep the peace?",
        },
    ]
    return built(tmp_path, docs, fake)


def test_an_interviewer_is_no_side(interview_index: Path, fake) -> None:
    engine = Engine.open(interview_index, model=fake)
    store = engine.store
    assert {store.actors[i].name for i in store.askers()} == {"Anna Asker"}
    listed = {a.name: a for a in engine.speakers()}
    assert listed["Anna Asker"].asks and listed["Anna Asker"].as_dict()["asks"] is True
    assert not listed["Vladimir Putin"].asks and not listed["Question"].asks
    names = [p.actor for p in engine.positions("peace treaty with Japan, Kuril Islands", by="speaker", n=10)]
    assert "Vladimir Putin" in names and "Shinzo Abe" in names and "Anna Asker" not in names
    # grouped by document year, a question gives way to the answer beside it in the quote
    topic = "Kuril Islands joint economic activity"
    (year,) = [p for p in engine.positions(topic, by="year", n=10, quotes=1) if p.actor == "2018"]
    assert year.quotes[0].speaker == "Vladimir Putin", year.quotes[0].sentence


def test_hits_carry_the_speaker_of_their_best_sentence(actors_index: Path, fake) -> None:
    engine = Engine.open(actors_index, model=fake)
    hits = engine.search("Kuril Islands peace treaty", k=10, per_doc=0)
    by_doc = {h.doc_id: h for h in hits}
    assert by_doc["news"].speaker is None and by_doc["news"].speaker_kind is None  # prose: nobody guessed
    assert by_doc["un-jpn"].speaker == "Shintaro Abe"
    for h in hits:
        if h.doc_id == "k-talks":
            assert (h.speaker, h.speaker_kind) in {
                ("Vladimir Putin", PERSON),
                ("Shinzo Abe", PERSON),
                ("Question", FLOOR),
                (None, None),
            }


def test_a_statement_is_preferred_over_a_question_that_restates_the_topic(actors_index: Path, fake) -> None:
    engine = Engine.open(actors_index, model=fake)
    (hit,) = [
        h
        for h in engine.search("joint economic activity Kuril Islands peace treaty", k=10, per_doc=1)
        if h.doc_id == "k-talks"
    ]
    assert hit.speaker == "Vladimir Putin", hit.sentence
    # quoted from the words spoken, not from the label that opens the turn
    assert hit.sentence.startswith("Joint economic activity on the islands"), hit.sentence
    assert engine.document("k-talks").text[hit.sentence_start : hit.sentence_end] == hit.sentence


def test_speaker_filter_keeps_only_passages_where_they_speak(actors_index: Path, fake) -> None:
    engine = Engine.open(actors_index, model=fake)
    hits = engine.search("peace treaty Japan", k=10, per_doc=0, speaker="Putin")
    assert hits and all(h.speaker == "Vladimir Putin" for h in hits)
    turns = [t for t in find_turns(TRANSCRIPT) if t.actor == "Vladimir Putin"]
    for h in hits:
        assert any(t.start <= h.sentence_start < t.end for t in turns)
    assert all(h.doc_id == "wh-1" for h in engine.search("sanctions", k=5, speaker="ms. jean-pierre"))
    with pytest.raises(InvalidInput, match="ambiguous"):
        engine.search("peace treaty", speaker="Abe")  # Shinzo Abe and Shintaro Abe
    with pytest.raises(InvalidInput, match="nearest: Vladimir Putin"):
        engine.search("peace treaty", speaker="Vladimir Puttin")


def test_two_presidents_under_one_office_are_two_actors(tmp_path: Path, fake) -> None:
    remarks = (
        "THE PRESIDENT:  Tariffs on steel protect our workers.\nQ    Will they stay?\nTHE PRESIDENT:  They stay.\n"
    )
    docs = [
        {"_id": "wh-b", "title": "Remarks by President Biden on Steel", "date": "2022-05-01", "text": remarks},
        {"_id": "wh-t", "title": "Remarks by President Trump on Steel", "date": "2025-05-01", "text": remarks},
        {"_id": "wh-x", "title": "Press Gaggle Aboard Air Force One", "date": "2023-05-01", "text": remarks},
    ]
    engine = Engine.open(built(tmp_path, docs, fake), model=fake)
    found = {a.name: a.documents for a in engine.speakers()}
    assert found == {"President Biden": 1, "President Trump": 1, "The President": 1, "Question": 3}
    hits = engine.search("steel tariffs", k=10, per_doc=0, speaker="Trump")
    assert {h.doc_id for h in hits} == {"wh-t"} and {h.speaker for h in hits} == {"President Trump"}


def test_speakers_lists_actors_with_counts(actors_index: Path, fake) -> None:
    engine = Engine.open(actors_index, model=fake)
    found = {a.name: a for a in engine.speakers()}
    assert {"Vladimir Putin", "Shinzo Abe", "Question", "Ms. Jean-Pierre", "Shintaro Abe", "Mr. Gromyko"} <= set(found)
    assert found["Question"].kind == FLOOR and found["Vladimir Putin"].kind == PERSON
    assert found["Vladimir Putin"].documents == 1 and found["Vladimir Putin"].sentences >= 3


def test_positions_by_speaker_country_and_year(actors_index: Path, fake) -> None:
    engine = Engine.open(actors_index, model=fake)
    by_speaker = engine.positions("peace treaty Japan islands", by="speaker", n=10, quotes=1)
    names = [p.actor for p in by_speaker]
    assert "Vladimir Putin" in names and "Question" not in names  # the floor is nobody's position
    top = by_speaker[0]
    assert top.score > 0 and top.documents >= 1 and top.passages >= 1 and len(top.quotes) == 1
    quote = top.quotes[0]
    text = engine.document(quote.doc_id).text
    assert text[quote.sentence_start : quote.sentence_end] == quote.sentence
    assert quote.speaker == top.actor
    by_country = {p.actor: p for p in engine.positions("peace treaty Japan islands", by="country", quotes=2)}
    assert {"Japan", "Union of Soviet Socialist Republics"} <= set(by_country)
    assert by_country["Japan"].first_date == by_country["Japan"].last_date == "1983"
    years = {p.actor for p in engine.positions("peace treaty", by="year", n=20)}
    assert {"1972", "1983", "2016"} <= years


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"by": "colour"}, "cannot group by 'colour'"),
        ({"n": 0}, "n must be"),
        ({"quotes": -1}, "quotes must be"),
        ({"speaker": "Nobody"}, "no speaker 'Nobody'"),
    ],
)
def test_positions_refuses_bad_options(actors_index: Path, fake, options: dict, message: str) -> None:
    engine = Engine.open(actors_index, model=fake)
    with pytest.raises(InvalidInput, match=message):
        engine.positions("peace treaty", **options)
    with pytest.raises(InvalidInput, match="empty"):
        engine.positions("   ")


# -- the real model: CLI and HTTP ---------------------------------------------------------------


def test_real_speaker_filter_answers_with_putins_words(real_index: Path) -> None:
    engine = Engine.open(real_index)
    hits = engine.search("What did Putin say about a peace treaty with Japan?", k=5, speaker="Putin")
    assert hits and all(h.speaker == "Vladimir Putin" and h.speaker_kind == PERSON for h in hits)
    for h in hits:
        doc = engine.document(h.doc_id)
        turns = [t for t in document_turns(doc.text, doc.metadata) if t.actor == "Vladimir Putin"]
        assert any(t.start <= h.sentence_start < t.end for t in turns)


def test_cli_speakers_positions_and_their_errors(real_index: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["speakers", "--index", str(real_index), "--json"])
    assert out.exit_code == 0
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["actor"] == "Vladimir Putin" and rows[0]["sentences"] >= rows[-1]["sentences"]
    out = runner.invoke(app, ["positions", "Kuril Islands", "--index", str(real_index), "-n", "3", "--json"])
    assert out.exit_code == 0, out.output
    found = [json.loads(line) for line in out.stdout.splitlines()]
    assert 1 <= len(found) <= 3
    for p in found:
        assert {"actor", "score", "documents", "passages", "first_date", "last_date", "quotes"} <= set(p)
        for q in p["quotes"]:
            assert {
                "doc_id",
                "title",
                "date",
                "start",
                "end",
                "sentence_start",
                "sentence_end",
                "sentence",
                "speaker",
            } <= set(q)
    human = runner.invoke(
        app, ["query", "peace treaty with Japan", "--index", str(real_index), "-k", "2", "--speaker", "Putin"]
    )
    assert human.exit_code == 0 and "— Vladimir Putin" in human.stdout
    for args in (
        ["positions", "Kuril", "--by", "colour"],
        ["positions", "Kuril", "-n", "0"],
        ["positions", " "],
        ["query", "Kuril", "--speaker", "Nobody At All"],
    ):
        bad = runner.invoke(app, [*args, "--index", str(real_index)])
        assert bad.exit_code == 2, args
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.output


def test_http_positions_speakers_and_speaker_filter(real_index: Path) -> None:
    with TestClient(create_app(real_index)) as c:
        r = c.get("/positions", params={"q": "Kuril Islands", "n": 3, "quotes": 1})
        assert r.status_code == 200
        body = r.json()
        assert body["topic"] == "Kuril Islands" and body["by"] == "speaker" and len(body["positions"]) <= 3
        assert body["positions"][0]["quotes"][0]["speaker"] == body["positions"][0]["actor"]
        hits = c.get("/search", params={"q": "peace treaty", "k": 3, "speaker": "Putin"}).json()["hits"]
        assert hits and {h["speaker"] for h in hits} == {"Vladimir Putin"}
        asked = c.get("/search", params={"q": "What did Putin say about the islands?", "k": 3}).json()
        assert asked["reading"] == "statements by Vladimir Putin" and asked["hits"][0]["reading"] == asked["reading"]
        plain = c.get("/search", params={"q": "What did Putin say about the islands?", "k": 3, "literal": "true"})
        assert plain.json()["reading"] is None
        assert c.get("/speakers").json()[0]["actor"] == "Vladimir Putin"
        for params in ({"q": "Kuril", "by": "colour"}, {"q": "Kuril", "n": 0}, {"q": " "}, {"q": "x", "quotes": 99}):
            r = c.get("/positions", params=params)
            assert r.status_code == 422 and isinstance(r.json()["detail"], str), params
        r = c.get("/search", params={"q": "peace", "speaker": "Nobody At All"})
        assert r.status_code == 422 and "no speaker" in r.json()["detail"]


# -- questions that name an actor ---------------------------------------------------------------


def test_questions_that_ask_what_an_actor_says_are_read_so() -> None:
    from search.reading import Reading, read_query

    speakers = {"Vladimir Putin": 500, "Shinzo Abe": 40, "Sergei Ivanov": 30, "Viktor Ivanov": 25}
    countries = ["Japan", "Russian Federation", "Iran (Islamic Republic of)"]
    assert read_query("What did Putin say about a peace treaty with Japan?", speakers, countries) == Reading(
        "Vladimir Putin"
    )
    assert read_query("How does Shinzo Abe view the islands?", speakers) == Reading("Shinzo Abe")
    assert read_query("What is Russia's position on Iran's nuclear programme?", speakers, countries) == Reading(
        "Russian Federation", "country", ("Russian Federation",)
    )
    assert read_query("What is Japan’s stance on whaling?", speakers, countries) == Reading(
        "Japan", "country", ("Japan",)
    )
    # one country under the names the corpus gives it over the years is one actor
    assert read_query("What is Russia's position on Syria?", speakers, [*countries, "Russia"]) == Reading(
        "Russian Federation", "country", ("Russia", "Russian Federation")
    )
    for literal in (
        "Kuril Islands position",
        "peace treaty with Japan",
        "What did Ivanov say about it?",
        "What did Putin and Abe say?",
        "putin peace treaty",
    ):
        assert read_query(literal, speakers, countries) is None, literal
    # a surname two well-heard speakers share is the one heard ten times as much, or nobody
    bidens = {"President Biden": 3000, "First Lady Biden": 200}
    assert read_query("What did Biden say about steel?", bidens) == Reading("President Biden")
    assert read_query("What did Biden say about steel?", {**bidens, "First Lady Biden": 600}) is None


def test_named_actors_statements_come_first_unless_literal(actors_index: Path, fake) -> None:
    engine = Engine.open(actors_index, model=fake)
    hits = engine.search("What did Vladimir Putin say about a peace treaty with Japan?", k=6, per_doc=0)
    read = [h for h in hits if h.reading]
    assert read and read[0].rank == 1 and read[0].reading == "statements by Vladimir Putin"
    # his own words, or a report that names him where nobody's turn is given
    assert all(h.speaker == "Vladimir Putin" or (h.speaker is None and "Putin" in h.text) for h in read)
    assert any(h.speaker == "Vladimir Putin" for h in read)
    assert hits[: len(read)] == read  # the actor's statements first, then the rest
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    literal = engine.search(
        "What did Vladimir Putin say about a peace treaty with Japan?", k=6, per_doc=0, literal=True
    )
    assert not any(h.reading for h in literal)
    by_country = engine.search("What is Japan's position on the peace treaty?", k=3, per_doc=0)
    assert by_country[0].doc_id == "un-jpn" and by_country[0].reading == "statements from Japan (country)"

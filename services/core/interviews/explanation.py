"""The plain-language explanation in a candidate's data download: how they were assessed, and
what the assessment found, written from the same facts as my-data.json."""

from __future__ import annotations

from typing import Any

BAND_WORDS = {
    "below": "is below the level the role asks for",
    "meets": "meets the level the role asks for",
    "exceeds": "goes beyond the level the role asks for",
}
GATE_WORDS = {
    "too_little_content": "too little was said to assess it",
    "mostly_unknown_words": "most of the words could not be recognised",
    "repetitive": "the answer was mostly repetition",
    "buzzwords_without_substance": "it used general phrases without a real example",
    "no_personal_action": "it did not describe something you did yourself",
    "off_topic": "it was about something other than the question",
}
STATUS_WORDS = {
    "new": "not reviewed yet",
    "in_review": "being reviewed",
    "advanced": "moved to the next step",
    "on_hold": "on hold",
    "not_progressed": "not taken further",
}


def _on_100(level: float) -> int:
    """A rubric level (1 to 5) on the 0-100 scale the scores use (scoring.service.band)."""
    return round((level - 1) / 4 * 100)


def render(data: dict[str, Any]) -> str:
    """The explanation, as Markdown."""
    org, role = data["organisation"]["name"], data["role"]
    sections = [
        f"# How your interview for {role} at {org} was assessed",
        "This file explains in plain words what was assessed, how, and what was found. The "
        "other files hold everything kept about you: `my-data.json` (all of it, as data), "
        "`recordings/` (your answers as you recorded them) and `transcripts/` (what you said, "
        "as text).",
        *_what_was_assessed(data),
        *_how_it_works(data),
        *_what_it_found(data),
        *_decisions(data),
        *_kept_by_recruiters(data),
        *_your_rights(data),
    ]
    return "\n\n".join(sections) + "\n"


def _what_was_assessed(data: dict[str, Any]) -> list[str]:
    items = [f"- **{c['name']}**" + (f": {c['description']}" if c["description"] else "")
             for c in data["competencies_assessed"]]
    return [
        "## What was assessed",
        f"{data['organisation']['name']} chose these competencies for the role. Each question "
        "asks about one of them.",
        "\n".join(items) or "- (no competencies are set for this role)",
    ]


def _how_it_works(data: dict[str, Any]) -> list[str]:
    model = data["results"]["scoring_model"]
    rubric = data["results"]["rubric"]
    typed = sum(1 for a in data["answers"] if a["typed"])
    lines = [
        "- An AI speech-recognition system turned what you said into text (a transcript)."
        + (" You typed some of your answers: for those, your own text was used." if typed else ""),
        "- A second AI system read **only the words of that transcript**, with your name taken "
        "out, and scored each answer from 0 to 100 against the competency its question asks "
        "about. It looks at what you said: the real situation you described, what you did "
        "yourself and why, what happened, and what you learnt.",
        "- It **never** listens to your voice and never sees your face or your camera picture. "
        "Your accent, the way you speak, your appearance and your emotions play no part.",
        f"- The scores use the rubric \"{rubric['name']}\" (version {rubric['version']}) and the "
        f"scoring model \"{model['name']}\""
        + (f" (version {model['version']})." if model["version"] else "."),
    ]
    if not model["calibrated"]:
        lines.append(
            "- **This scoring model is an uncalibrated demo model.** It has not yet been checked "
            "against the judgement of occupational psychologists, so its scores are a rough "
            "guide only."
        )
    if data["self_identification"] is not None:
        lines.append(
            "- Your answers to the optional questions about yourself are kept apart from your "
            "interview. The AI never sees them: they are used only to check that the assessment "
            "treats every group of candidates fairly."
        )
    lines.append(
        f"- **People make every decision.** The recruiting team at "
        f"{data['organisation']['name']} reads your answers, can listen to them, and decides "
        "the next step. Nothing is decided automatically."
    )
    return ["## How the assessment works", "\n".join(lines)]


def _what_it_found(data: dict[str, Any]) -> list[str]:
    lines = ["## What it found"]
    results = data["results"]["competencies"]
    if not results:
        lines.append(_why_nothing_scored(data))
    for r in results:
        lines.append(_competency_sentence(r))
    if data["results"]["overall_fit"] is not None:
        lines.append(
            f"Taken together (the average over the competencies), your answers scored "
            f"{round(data['results']['overall_fit'])} out of 100."
        )
    names = {c["key"]: c["name"] for c in data["competencies_assessed"]}
    for answer in data["answers"]:
        lines.append(_answer_paragraph(answer, names))
    return lines


def _why_nothing_scored(data: dict[str, Any]) -> str:
    if data["interview"]["state"] == "human_review":
        return ("You asked for a review by a person only, so no AI assessed your answers.")
    if not data["answers"]:
        return "You have not answered any questions yet, so nothing has been assessed."
    return ("None of your answers has been scored yet: they may still be processing, or AI "
            "scoring may be paused for this role. A person reviews your interview either way.")


def _competency_sentence(r: dict[str, Any]) -> str:
    score = f"**{r['name']}**: {round(r['score'])} out of 100"
    if r["band"] is None or r["required_level"] is None:
        return f"{score}. The role sets no level for this competency, so it is not compared."
    exceeds = (f", and counts {_on_100(r['exceeds_level'])} or more as going beyond it"
               if r["exceeds_level"] is not None else "")
    return (f"{score}. The role asks for {_on_100(r['required_level'])} out of 100 (level "
            f"{r['required_level']:g} of 5){exceeds}. Your score {BAND_WORDS[r['band']]}.")


def _answer_paragraph(answer: dict[str, Any], names: dict[str, str]) -> str:
    head = f"### Question {answer['question']}\n\n> {answer['question_text']}"
    if answer["transcript"] is None:
        return f"{head}\n\nThis answer has not been transcribed yet ({answer['state']})."
    if not answer["scores"]:
        return f"{head}\n\nThis answer has not been scored."
    parts = [head]
    for score in answer["scores"]:
        name = names.get(score["competency"], score["competency"])
        parts.append(f"Score: {round(score['score'])} out of 100 for {name}.")
        if score["gates"]:
            reasons = "; ".join(GATE_WORDS.get(g, g.replace("_", " ")) for g in score["gates"])
            parts.append(f"The score was held below the role's level because {reasons}.")
        quotes = [e["text"] for e in score["evidence"] if e.get("text")]
        if quotes:
            parts.append("The sentences that counted most towards this score:\n\n"
                         + "\n".join(f"> \"{q}\"" for q in quotes))
    return "\n\n".join(parts)


def _decisions(data: dict[str, Any]) -> list[str]:
    status = STATUS_WORDS.get(data["interview"]["status"], data["interview"]["status"])
    changes = [
        f"- {d['at'][:10]}: a member of the recruiting team changed it from "
        f"\"{STATUS_WORDS.get(d['from'], d['from'])}\" to "
        f"\"{STATUS_WORDS.get(d['to'], d['to'])}\", because: {d['reason']}"
        for d in data["decisions"]
    ]
    return ["## Decisions about you", f"Your application is currently {status}.",
            "\n".join(changes) or "No decision has been made yet."]


def _kept_by_recruiters(data: dict[str, Any]) -> list[str]:
    """The CV and notes the recruiting team keeps, which people read and the AI never does."""
    lines = []
    if data.get("cv"):
        lines.append(f"- Your CV, added on {data['cv']['uploaded_at'][:10]}"
                     + (" (`cv.pdf` in this download)." if data["cv"]["file"] else "."))
    if data.get("notes"):
        count = len(data["notes"])
        lines.append(f"- {count} note{'s' if count != 1 else ''} written about you by the "
                     "recruiting team (in `my-data.json`).")
    if not lines:
        return []
    return ["## What the recruiting team keeps about you", "\n".join(lines),
            "Only people read these. The AI never sees them: your scores come from the words "
            "of your answers alone."]


def _your_rights(data: dict[str, Any]) -> list[str]:
    requests = data["requests"]
    retention = data["organisation"]["retention_days"]
    lines = [
        "## Your rights",
        "From your interview link you can download this again, ask for a review by a person, "
        "or ask for everything to be deleted. Deletion removes your recordings, transcripts, "
        "scores, consents, decisions, any CV and notes, and your name and email, within 30 "
        "days at most.",
    ]
    if retention:
        lines.append(f"If you ask for nothing, your interview is deleted {retention} days after "
                     "you finished it (or after you were invited, if you never finished it).")
    if requests["deletion_due_at"]:
        lines.append(f"You asked for deletion on {requests['deletion_requested_at'][:10]}: "
                     f"everything will be deleted by {requests['deletion_due_at'][:10]}.")
    if requests["human_review_requested_at"]:
        lines.append(f"You asked for a review by a person on "
                     f"{requests['human_review_requested_at'][:10]}.")
    return lines

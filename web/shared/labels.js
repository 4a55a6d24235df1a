// Human wording and chip tones for the API's state codes.

export const INTERVIEW_STATES = {
  invited: ["Invited", ""],
  consented: ["Consented", "info"],
  in_progress: ["In progress", "info"],
  completed: ["Completed", "success"],
  human_review: ["Asked for human-only review", "warning"],
  expired: ["Expired", ""],
};

export const STATUSES = {
  new: "New",
  in_review: "In review",
  advanced: "Advanced",
  on_hold: "On hold",
  not_progressed: "Not progressed",
};

export const ANSWER_STATES = {
  not_started: ["Not started", ""],
  receiving: ["Receiving", "info"],
  uploaded: ["Uploaded, waiting for processing", "info"],
  transcribing: ["Transcribing", "info"],
  transcribed: ["Transcribed", "success"],
  no_speech: ["No speech heard", "warning"],
  failed: ["Failed", "danger"],
};

export const ROLES = { admin: "Admin", recruiter: "Recruiter", psychologist: "Psychologist" };

export function labelOf(table, code) {
  const entry = table[code];
  if (entry === undefined) return String(code).replace(/_/g, " ");
  return Array.isArray(entry) ? entry[0] : entry;
}

export function toneOf(table, code) {
  const entry = table[code];
  return Array.isArray(entry) ? entry[1] : "";
}

// Text-quality flags stored with a transcript (what reviewers should know before trusting it).
export const QUALITY_FLAGS = {
  too_short: "Short answer: under 20 words",
  wrong_language: "Not in the interview's language",
  low_confidence: "Transcription often unsure",
  mostly_non_speech: "Mostly silence or noise",
};

// A competency score against the role's levels. "Below" is worded as fit, never as failure.
export const BANDS = {
  below: ["Not the best fit here", ""],
  meets: ["Meets the role's level", "info"],
  exceeds: ["Exceeds: potential beyond the role", "success"],
};

// Why a score is capped below "meets": the words could not show the competency.
export const GATES = {
  too_little_content: "Too little said to assess",
  mostly_unknown_words: "Mostly unrecognised words",
  repetitive: "Mostly repetition",
  buzzwords_without_substance: "Buzzwords without an example",
  no_personal_action: "No action of the candidate's own described",
  off_topic: "About something other than the question",
};

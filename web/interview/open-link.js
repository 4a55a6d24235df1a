// A role's open link (/interview/#open=TOKEN): who is hiring, then a name and an email make an
// interview of one's own. The token travels in the request body, never in a URL.

import { post } from "/shared/api.js";
import { field, h } from "/shared/dom.js";

export const OPEN_LINK_PREFIX = "open=";

const CLOSED_TITLES = {
  open_link_disabled: "This link has been closed",
  open_link_expired: "This link has expired",
  open_link_full: "This link is no longer taking applicants",
};

/**
 * The open link's page. `show(title, ...children)` puts a step on the page; `onJoined(token)`
 * continues in the new interview, under its own token.
 */
export async function openLinkPage(token, { show, contextEl, onJoined }) {
  let about;
  try {
    about = await post("/candidate/open-link", { token });
  } catch (err) {
    if (err.status === 404 || err.status === 410) { closedLink(err, show); return; }
    const retry = h("button", { type: "button", class: "btn" }, "Try again");
    retry.addEventListener("click", () => openLinkPage(token, { show, contextEl, onJoined }));
    show("Something went wrong", h("h1", {}, "We could not open this link"),
      h("div", { class: "notice notice--danger", role: "alert" }, h("p", {}, err.message),
        h("div", { class: "btn-row" }, retry)));
    return;
  }
  contextEl.textContent = `${about.role_title} · ${about.organisation}`;
  show("Apply", h("h1", {}, `Interview for ${about.role_title}`),
    h("p", { class: "lead" },
      `${about.organisation} invites applicants to a short structured interview: the same ${about.questions} questions, asked the same way, to everyone. It takes about 15 minutes.`),
    about.role_description ? h("p", {}, about.role_description) : null,
    h("p", {}, "Give your name and email to get an interview of your own. The next page explains what is recorded and how your answers are assessed, before anything starts."),
    detailsForm(token, about, { show, onJoined }));
}

function detailsForm(token, about, { show, onJoined }) {
  const name = h("input", { type: "text", autocomplete: "name", required: true, maxlength: "200" });
  const email = h("input", { type: "email", autocomplete: "email", required: true, spellcheck: "false", maxlength: "320" });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn" }, "Start my interview");
  const form = h("form", { novalidate: true, class: "card" },
    h("h2", {}, "Your details"),
    field("Your name", name),
    field("Your email", email, { hint: "We email you a personal link to your interview, so you can come back to it." }),
    error, h("div", { class: "btn-row" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    for (const input of [name, email]) input.removeAttribute("aria-invalid");
    const invalid = !name.value.trim() ? [name, "Enter your name."]
      : !email.value.trim() || !email.checkValidity() ? [email, "Enter a valid email address."] : null;
    if (invalid) {
      invalid[0].setAttribute("aria-invalid", "true");
      error.textContent = invalid[1];
      invalid[0].focus();
      return;
    }
    submit.disabled = true;
    try {
      const out = await post("/candidate/open-link/join", { token, name: name.value.trim(), email: email.value.trim() });
      if (out.invite_token) { await onJoined(out.invite_token); return; }
      show("Check your email", h("h1", {}, "Check your email"),
        h("p", { class: "lead" }, out.message),
        h("p", {}, `Open your interview for ${about.role_title} from the link in that email. It can take a few minutes to arrive; look in your spam folder too.`));
    } catch (err) {
      if (err.status === 404 || err.status === 410) { closedLink(err, show); return; }
      error.textContent = err.message;
      submit.disabled = false;
    }
  });
  return form;
}

function closedLink(err, show) {
  const title = CLOSED_TITLES[err.code] || "This link does not work";
  show("Link not available", h("h1", {}, title),
    h("p", { class: "lead" }, err.message),
    h("p", {}, "If you were already given a personal interview link by email, open that one: it still works. Otherwise, contact the organisation that shared this link."));
}

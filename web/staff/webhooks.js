// #/webhooks (admins): endpoints of an applicant tracking system that Parley signs and sends
// events to, the signing secret shown once, and each endpoint's delivery log.

import { api, get, post } from "/shared/api.js";
import { field, formatDateTime, h, render } from "/shared/dom.js";
import { chip, errorBox, pageHead, table, toast } from "./app.js";

const EVENTS = {
  "interview.completed": "Interview completed: the candidate finished answering",
  "interview.scored": "Interview scored: every answer has its scores",
};
const DELIVERY_TONES = { pending: "warning", delivered: "success", failed: "danger" };

const VERIFY_SAMPLE = `import hashlib, hmac

def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(f"sha256={digest.hexdigest()}".encode(), header.encode())`;

export async function viewWebhooks() {
  const listBox = h("div", {});
  const logBox = h("div", { "aria-live": "polite" });
  const load = async () => {
    const endpoints = await get("/webhooks");
    render(listBox, table(["Address", "Events", "State", "Added", ""], endpoints.map((w) => [
      h("code", { class: "webhook-url" }, w.url),
      h("div", { class: "row chips" }, w.events.map((e) => chip(e, "info"))),
      w.active ? chip("Active", "success") : chip("Deactivated", "", "chip--outline"),
      formatDateTime(w.created_at),
      endpointActions(w, () => showLog(w, logBox), load),
    ]), { empty: "No webhooks yet." }));
  };
  await load();
  return {
    title: "Webhooks",
    node: h("div", {},
      pageHead("Webhooks", { lead: "Parley tells your applicant tracking system when an interview is completed or scored. "
        + "Each event is signed with the endpoint's secret and names ids only: never a candidate's name, email or words." }),
      addForm(load),
      h("section", { "aria-labelledby": "wh-list" }, h("h2", { id: "wh-list" }, "Endpoints"), listBox),
      logBox),
  };
}

function endpointActions(w, onLog, onChanged) {
  const box = h("div", { class: "btn-row" });
  const log = h("button", { type: "button", class: "btn btn--secondary btn--small", "aria-label": `Delivery log of ${w.url}`, onclick: onLog }, "Delivery log");
  if (!w.active) { render(box, log); return box; }
  const ping = h("button", { type: "button", class: "btn btn--secondary btn--small", "aria-label": `Send a test ping to ${w.url}` }, "Send a test ping");
  ping.addEventListener("click", async () => {
    ping.disabled = true;
    try {
      await post(`/webhooks/${w.id}/test`);
      toast("Test ping queued; it appears in the delivery log.", "success");
      onLog();
    } catch (err) {
      toast(err.message, "danger");
    } finally {
      ping.disabled = false;
    }
  });
  const deactivate = h("button", { type: "button", class: "btn btn--secondary btn--small", "aria-label": `Deactivate ${w.url}` }, "Deactivate");
  deactivate.addEventListener("click", () => {
    const confirm = h("button", { type: "button", class: "btn btn--small" }, "Yes, deactivate");
    const cancel = h("button", { type: "button", class: "btn btn--secondary btn--small" }, "Keep it");
    render(box, h("span", { class: "small" }, "Stop sending to this address? Its log stays. "), confirm, cancel);
    confirm.focus();
    cancel.addEventListener("click", () => { render(box, log, ping, deactivate); deactivate.focus(); });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      try {
        await api(`/webhooks/${w.id}`, { method: "DELETE" });
        toast("Webhook deactivated. Nothing more is sent to it.", "success");
        await onChanged();
      } catch (err) {
        toast(err.message, "danger");
        confirm.disabled = false;
      }
    });
  });
  render(box, log, ping, deactivate);
  return box;
}

function addForm(onAdded) {
  const url = h("input", { type: "url", required: true, maxlength: "2000", spellcheck: "false", placeholder: "https://ats.example.com/parley" });
  const boxes = Object.entries(EVENTS).map(([value, label]) => {
    const box = h("input", { type: "checkbox", id: `wh-ev-${value}`, value, checked: true });
    return { box, node: h("div", { class: "check" }, box, h("label", { for: box.id }, label)) };
  });
  const error = h("p", { class: "form-error", role: "alert" });
  const result = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn" }, "Add webhook");
  const form = h("form", { novalidate: true },
    field("Address (http or https)", url),
    h("fieldset", {}, h("legend", {}, "Events to send"), boxes.map((b) => b.node)),
    error, h("div", { class: "btn-row" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const events = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
    if (!/^https?:\/\/\S+$/i.test(url.value.trim())) { error.textContent = "Enter an http or https address."; url.focus(); return; }
    if (!events.length) { error.textContent = "Choose at least one event."; boxes[0].box.focus(); return; }
    submit.disabled = true;
    try {
      const created = await post("/webhooks", { url: url.value.trim(), events });
      url.value = "";
      render(result, secretNotice(created));
      result.querySelector("input").focus();
      result.querySelector("input").select();
      await onAdded();
    } catch (err) {
      error.textContent = err.message;
    } finally {
      submit.disabled = false;
    }
  });
  return h("section", { class: "card", "aria-labelledby": "wh-add" },
    h("h2", { id: "wh-add" }, "Add a webhook"), form, result);
}

/** The signing secret, this once, with how a receiver checks the signature. */
function secretNotice(created) {
  const input = h("input", { type: "text", readonly: true, value: created.secret, "aria-label": "Signing secret", spellcheck: "false" });
  const copy = h("button", { type: "button", class: "btn btn--secondary" }, "Copy secret");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(created.secret);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    copy.textContent = "Copied";
    toast("Signing secret copied.", "success");
    window.setTimeout(() => { copy.textContent = "Copy secret"; }, 2500);
  });
  return h("div", { class: "notice notice--success" },
    h("p", {}, h("strong", {}, `Webhook added for ${created.url}. `),
      "This is its signing secret. It is shown only this once: keep it in your receiver's configuration now."),
    h("div", { class: "copy-row" }, input, copy),
    h("p", {}, "Each request carries ", h("code", {}, "X-Parley-Event"), ", ", h("code", {}, "X-Parley-Delivery"), ", ",
      h("code", {}, "X-Parley-Timestamp"), " (Unix seconds) and ", h("code", {}, "X-Parley-Signature: sha256=<hex>"),
      ", the HMAC-SHA256 of the timestamp, a dot and the raw request body, keyed with this secret. "
      + "Check it on the raw bytes before parsing the JSON, and refuse old timestamps to stop replays:"),
    h("pre", { class: "code-sample" }, h("code", {}, VERIFY_SAMPLE)));
}

async function showLog(w, box) {
  render(box, h("p", { class: "muted" }, "Loading the delivery log…"));
  try {
    const deliveries = await get(`/webhooks/${w.id}/deliveries?limit=50`);
    render(box, h("section", { class: "card", "aria-labelledby": "wh-log" },
      h("h2", { id: "wh-log", tabindex: "-1" }, `Delivery log · ${w.url}`),
      h("p", { class: "muted small" }, "The 50 newest, newest first. A failed attempt is retried after 30 s, 2 min, 10 min, 1 h and 6 h, then marked failed."),
      table(["Created", "Event", "State", "Attempts", "Last answer", "Next retry", "Delivered"], deliveries.map((d) => [
        formatDateTime(d.created_at),
        h("code", {}, d.event),
        chip(d.state, DELIVERY_TONES[d.state] || ""),
        String(d.attempts),
        [d.last_status_code != null ? `HTTP ${d.last_status_code}` : null, d.last_error].filter(Boolean).join(": ") || "–",
        d.state === "pending" && d.next_attempt_at ? formatDateTime(d.next_attempt_at) : "–",
        d.delivered_at ? formatDateTime(d.delivered_at) : "–",
      ]), { empty: "Nothing sent to this endpoint yet." })));
    box.querySelector("h2").focus();
  } catch (err) {
    render(box, errorBox(err, () => showLog(w, box)));
  }
}

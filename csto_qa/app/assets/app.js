// csto-qa chat page behaviour. Listeners are delegated from `document`, so they keep working
// when Gradio re-renders the chat. No answer text is built here from strings: everything shown
// comes from the server's escaped HTML, or is set with textContent.
(() => {
  if (window.__cqReady) return;
  window.__cqReady = true;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const box = () => $("#cq-input textarea");

  // --- character count near the limit -------------------------------------------------------
  function syncLine() {  // the count/"Searching…" line takes room only when it shows something
    const line = $("#cq-count"), counter = $("#cq-count .cq-count"), status = $("#cq-pending");
    if (line && counter && status) line.classList.toggle("cq-empty", counter.hidden && status.hidden);
    return Boolean(line);
  }
  function updateCount() {
    const counter = $("#cq-count .cq-count"), area = box();
    if (!counter || !area) return;
    const limit = parseInt(counter.dataset.limit, 10), n = area.value.length;
    const near = n >= limit * 0.8;
    counter.hidden = !near;
    counter.classList.toggle("cq-over", n > limit);
    counter.textContent = n > limit
      ? `${n.toLocaleString("en")} / ${limit.toLocaleString("en")} characters: ${(n - limit).toLocaleString("en")} too many, shorten the question to ask it`
      : `${n.toLocaleString("en")} / ${limit.toLocaleString("en")} characters`;
    syncLine();
  }
  document.addEventListener("input", (e) => { if (e.target === box()) updateCount(); }, true);

  // --- "searching…" at once, before the server's round trip ----------------------------------
  function pending(question) {
    const status = $("#cq-pending");
    if (!status) return;
    if (!question) { status.hidden = true; status.textContent = ""; syncLine(); return; }
    status.hidden = false;
    status.textContent = `Searching the documents for: ${question.length > 120 ? question.slice(0, 120) + "…" : question}`;
    syncLine();
  }
  window.cqPending = pending;
  function submitted() {
    const area = box(), counter = $("#cq-count .cq-count");
    if (!area) return;
    const q = area.value.trim(), limit = counter ? parseInt(counter.dataset.limit, 10) : Infinity;
    if (q && area.value.length <= limit) pending(q);
  }
  document.addEventListener("keydown", (e) => {
    if (e.target !== box() || e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    if (!box().value.trim()) {
      // A blank question is never sent: with Gradio's one-event-at-a-time submit, a pending
      // round trip for nothing would swallow the real question typed right after it.
      e.preventDefault();
      e.stopImmediatePropagation();
      return;
    }
    submitted();
  }, true);
  document.addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest("#cq-input button")) submitted();
  }, true);

  // --- citations, copy, ask again ------------------------------------------------------------
  function flash(card) {
    card.classList.remove("cq-flash");
    void card.offsetWidth;  // restart the animation
    card.classList.add("cq-flash");
    setTimeout(() => card.classList.remove("cq-flash"), 2200);
  }
  function plainAnswer(answer) {
    const lines = [];
    const lead = $(".cq-lead", answer) || $(".cq-nothing", answer);
    if (lead) lines.push(lead.textContent.trim(), "");
    answer.querySelectorAll("li.cq-cite").forEach((card, i) => {
      const where = $(".cq-where", card).textContent.trim();
      const source = $(".cq-source", card);
      lines.push(`[${i + 1}] ${where}${source ? " (" + source.textContent.trim() + ")" : ""}`);
      lines.push(`> ${$(".cq-passage", card).textContent.trim()}`, "");
    });
    return lines.join("\n").trim() + "\n";
  }
  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); return true; } catch (err) {
      const area = document.createElement("textarea");
      area.value = text; area.style.position = "fixed"; area.style.opacity = "0";
      document.body.appendChild(area); area.select();
      const ok = document.execCommand("copy"); area.remove(); return ok;
    }
  }
  // submit: "" only fills the box (edit), "ask" sends it as typed, "alone" sends it without the
  // conversation's earlier questions (the hidden #cq-alone-go button runs that event).
  function askAgain(question, submit) {
    const area = box();
    if (!area) return;
    area.value = question;
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
    if (!submit) { area.setSelectionRange(question.length, question.length); return; }
    setTimeout(() => {
      const button = submit === "alone"
        ? $("#cq-alone-go")
        : $("#cq-input button.submit-button") || $("#cq-input button");
      pending(question);
      if (button) button.click();
      else area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    }, 50);
  }
  document.addEventListener("click", async (e) => {
    const link = e.target.closest && e.target.closest("a.cq-ref, a.cq-copy, a.cq-rerun, a.cq-alone, a.cq-edit");
    if (!link) return;
    e.preventDefault();
    e.stopPropagation();
    const answer = link.closest(".cq-answer");
    if (link.classList.contains("cq-ref")) {
      // Cards are in rank order; the chat's sanitiser keeps href but drops data-* attributes.
      const rank = parseInt((link.getAttribute("href") || "").split("-").pop(), 10);
      const card = answer && answer.querySelectorAll("li.cq-cite")[rank - 1];
      if (!card) return;
      const folded = card.closest("details");
      if (folded) folded.open = true;
      card.setAttribute("tabindex", "-1");
      card.scrollIntoView({ behavior: "smooth", block: "center" });
      card.focus({ preventScroll: true });
      flash(card);
    } else if (link.classList.contains("cq-copy")) {
      const ok = await copyText(plainAnswer(answer));
      const label = link.textContent;
      link.textContent = ok ? "Copied" : "Copy failed";
      setTimeout(() => { link.textContent = label; }, 1800);
    } else {
      const text = answer && answer.querySelector(".cq-qtext");
      const submit = link.classList.contains("cq-rerun") ? "ask" : link.classList.contains("cq-alone") ? "alone" : "";
      askAgain(text ? text.textContent : "", submit);
    }
  }, true);
  // The answer's tools are links with role="button": Space presses them, as it does a button.
  document.addEventListener("keydown", (e) => {
    if (e.key !== " " || !e.target.matches || !e.target.matches(".cq-answer a[role=button]")) return;
    e.preventDefault();
    e.target.click();
  }, true);

  // --- API page: no MCP tab (no MCP server runs), no boilerplate before each description ---
  const BOILERPLATE = /^The input value that is provided in the "[^"]*"\s+Api\s+component\.\s*/;
  function tidyApiPage() {
    document.querySelectorAll(".api-docs button, .api-docs li, .api-docs .snippet button").forEach((el) => {
      if (el.textContent.trim() === "MCP") el.style.display = "none";
    });
    document.querySelectorAll(".api-docs *").forEach((el) => {
      if (el.children.length > 0) return;  // leaf elements only: their text is one sentence
      const text = el.textContent.trim();
      if (!BOILERPLATE.test(text)) return;
      const rest = text.replace(BOILERPLATE, "");
      el.textContent = rest.charAt(0).toUpperCase() + rest.slice(1);
    });
  }
  let tidyQueued = false;
  new MutationObserver(() => {
    if (tidyQueued || !document.querySelector(".api-docs")) return;
    tidyQueued = true;
    requestAnimationFrame(() => { tidyQueued = false; tidyApiPage(); });
  }).observe(document.documentElement, { childList: true, subtree: true });

  // --- phone: settings start folded ---------------------------------------------------------
  function foldSettingsOnPhone() {
    if (window.innerWidth > 700) return true;
    const toggle = $("#cq-settings button.label-wrap, #cq-settings > button");
    if (!toggle) return false;
    if (toggle.classList.contains("open") || toggle.getAttribute("aria-expanded") === "true") toggle.click();
    return true;
  }
  let tries = 0;
  let lineReady = false, folded = false;
  const timer = setInterval(() => {
    lineReady = lineReady || syncLine();
    folded = folded || foldSettingsOnPhone();
    if ((lineReady && folded) || ++tries > 100) clearInterval(timer);
  }, 100);
})();

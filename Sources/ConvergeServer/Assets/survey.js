// Converge pages: the live survey page and report frames.
// Served as /assets/survey.js; the pages' Content-Security-Policy allows no other script.
// Every text from a model or a person is written with textContent, never as markup.
"use strict";

(function () {
  // Size report frames to their content so that the report reads as part of the page.
  function fit(frame) {
    try {
      const doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = Math.max(doc.documentElement.scrollHeight, 200) + 24 + "px";
      }
    } catch (_) { /* another origin: keep the CSS height */ }
  }
  for (const frame of document.querySelectorAll("iframe.report")) {
    frame.addEventListener("load", () => fit(frame));
    if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit(frame);
  }

  // A form sends once: its submit buttons are disabled while the next page loads (no double surveys).
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
    });
  }

  // Forms that destroy something ask first.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // "More follow-up boxes" adds one in place, keeping what was typed (without script it reloads the form).
  const more = document.getElementById("more-follow-ups");
  if (more) {
    more.addEventListener("click", (event) => {
      const boxes = document.querySelectorAll("textarea[name=followUp]");
      const max = Number(more.dataset.max || 20);
      if (boxes.length >= max) return;
      event.preventDefault();
      const last = boxes[boxes.length - 1].closest("p");
      const n = boxes.length;
      const paragraph = document.createElement("p");
      const label = document.createElement("label");
      label.htmlFor = "followUp" + n;
      label.textContent = "Follow-up " + (n + 1) + " (optional)";
      const box = document.createElement("textarea");
      box.id = "followUp" + n;
      box.name = "followUp";
      box.rows = 2;
      paragraph.append(label, document.createElement("br"), box);
      (last || more.closest("p")).after(paragraph);
      box.focus();
      if (n + 1 >= max) more.hidden = true;
    });
  }

  // Back to a page from the browser's cache: its buttons work again.
  window.addEventListener("pageshow", () => {
    for (const button of document.querySelectorAll("form[method=post] button[type=submit]")) button.disabled = false;
  });

  const root = document.getElementById("survey");
  if (!root || !("EventSource" in window)) return;
  const statusElement = document.getElementById("status");
  const articles = Array.from(root.querySelectorAll("article.request"));

  function find(turn, panelist, sample) {
    return articles.find((a) => a.dataset.turn === String(turn) && a.dataset.panelist === panelist &&
      a.dataset.sample === String(sample));
  }
  function setState(article, state, detail) {
    article.dataset.state = state;
    article.querySelector(".state").textContent = detail ? state + " (" + detail + ")" : state;
  }
  function setText(article, text) {
    const answer = article.querySelector(".answer");
    answer.textContent = text;
    answer.hidden = false;
  }
  function setFailure(article, text) {
    const failure = article.querySelector(".failure");
    failure.textContent = text || "";
    failure.hidden = !text;
  }
  function setStatus(status) {
    statusElement.textContent = status;
    statusElement.dataset.status = status;
    root.dataset.status = status;
  }
  // Whether this page saw the survey being asked: its report (if shown) is then out of date at `complete`.
  let sawRunning = root.dataset.status === "running";
  function showReport() {
    const section = document.getElementById("report");
    const frame = document.getElementById("report-frame");
    if (!frame.getAttribute("src")) {
      frame.setAttribute("src", root.dataset.report);
    } else if (sawRunning) {
      frame.contentWindow.location.replace(root.dataset.report);
    }
    section.hidden = false;
  }

  const notice = document.getElementById("notice");
  function setNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  // One EventSource at a time. A survey left `interrupted` (the server stopped) resumes when the server is
  // back: the page keeps asking, every 2 s doubling to 30 s, and fills in again without a reload.
  let retryDelay = 2000;
  function connect() {
    const source = new EventSource(root.dataset.events);
    root.dataset.connection = "connecting";
    source.addEventListener("open", () => { root.dataset.connection = "open"; });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (signed out, survey deleted): the browser gives up; say so.
        root.dataset.connection = "closed";
        setNotice("Live updates stopped; reload the page to see the latest state.");
      } else {
        root.dataset.connection = "reconnecting";
      }
    });

    source.addEventListener("state", (event) => {
      const detail = JSON.parse(event.data);
      setStatus(detail.status);
      if (detail.status === "running") {
        sawRunning = true;
        setNotice("");
        for (const element of document.querySelectorAll("[data-when-done]")) element.hidden = true;
        // The report shown is of an earlier turn: hidden until the new one is ready.
        document.getElementById("report").hidden = true;
      }
      for (const turn of detail.turns) {
        for (const request of turn.requests) {
          const article = find(turn.index, request.panelist, request.sample);
          if (!article) continue;
          const detailText = request.state === "answered" && typeof request.latencyMs === "number"
            ? request.latencyMs + " ms" : (request.attempts > 1 ? "attempt " + request.attempts : "");
          setState(article, request.state, detailText);
          if (typeof request.text === "string") setText(article, request.text);
          setFailure(article, request.error);
        }
      }
    });

    source.addEventListener("progress", (event) => {
      const progress = JSON.parse(event.data);
      const article = find(progress.turn, progress.panelist, progress.sample);
      if (!article) return;
      switch (progress.type) {
        case "started":
          setState(article, "pending", progress.attempt > 1 ? "attempt " + progress.attempt : "");
          setFailure(article, "");
          break;
        case "retrying":
          setState(article, "retrying", "in " + Number(progress.delaySeconds || 0).toFixed(1) + " s: " +
            (progress.reason || ""));
          break;
        case "answered":
          setState(article, "answered", typeof progress.latencyMs === "number" ? progress.latencyMs + " ms" : "");
          break;
        case "failed":
          setState(article, "failed");
          setFailure(article, progress.cause || "failed");
          break;
      }
    });

    source.addEventListener("response", (event) => {
      const response = JSON.parse(event.data);
      const article = find(response.turn, response.panelist, response.sample);
      if (!article) return;
      setText(article, response.text);
      setState(article, "answered", typeof response.latencyMs === "number" ? response.latencyMs + " ms" : "");
    });

    source.addEventListener("complete", (event) => {
      source.close();
      const completion = JSON.parse(event.data);
      setStatus(completion.status);
      if (completion.status === "interrupted") {
        root.dataset.connection = "waiting";
        setNotice("The server stopped while asking this survey; it resumes when the server starts again. " +
          "This page reconnects by itself.");
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
        return;
      }
      root.dataset.connection = "done";
      setNotice("");
      for (const element of document.querySelectorAll("[data-when-done]")) element.hidden = false;
      if (completion.report) showReport();
    });
  }
  connect();
})();

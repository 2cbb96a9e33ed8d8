// Progressive enhancement only: every page works without this file.
// Keeps the header's unread count live and, on the inbox page, shows new items at the top.
// The stream is the portal's own /live (same origin, session cookie): no token here.
"use strict";

(function () {
  var body = document.body;
  if (!body.dataset.live || !window.EventSource) {
    return;
  }
  var after = body.dataset.after;
  var url = body.dataset.live + (after !== undefined ? "?after=" + encodeURIComponent(after) : "");
  var source = new EventSource(url);
  var badge = document.getElementById("unread-count");
  var list = document.getElementById("inbox-list");
  var lang = document.documentElement.lang || "zh-CN";
  var when = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: body.dataset.zone || "Asia/Shanghai",
    dateStyle: "medium",
    timeStyle: "short",
  });

  source.addEventListener("unread", function (event) {
    var count = JSON.parse(event.data).unread;
    if (badge) {
      badge.textContent = String(count);
      badge.dataset.count = String(count);
    }
  });

  source.addEventListener("item", function (event) {
    if (list) {
      list.insertBefore(card(JSON.parse(event.data)), list.firstChild);
      var empty = document.getElementById("inbox-empty");
      if (empty) {
        empty.hidden = true;
      }
    }
  });

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text) {
      node.textContent = text; // never markup: the item's text is data
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function card(item) {
    var li = element("li", "", "card unread fresh");
    li.appendChild(element("h2", item.title));
    li.appendChild(element("p", item.body));
    li.appendChild(element("p", when.format(new Date(item.created_at)), "meta"));
    var csrf = document.querySelector("input[name=csrf]");
    if (csrf && !item.read_at) {
      var form = element("form", "", "inline");
      form.method = "post";
      form.action = "/inbox/" + encodeURIComponent(item.item_id) + "/read";
      var hidden = element("input");
      hidden.type = "hidden";
      hidden.name = "csrf";
      hidden.value = csrf.value;
      var button = element("button", list.dataset.read || "OK", "secondary");
      button.type = "submit";
      form.appendChild(hidden);
      form.appendChild(button);
      li.appendChild(form);
    }
    return li;
  }
})();

// The roster import's progress page: moves the bar from the job's status (counts only)
// and reloads once the job is done, to show the report link. Without this file the page
// reloads itself (a <noscript> refresh).
(function () {
  var job = document.getElementById("roster-job");
  if (!job || job.hasAttribute("data-finished") || !window.fetch) {
    return;
  }
  var bar = document.getElementById("roster-progress");
  function poll() {
    fetch(job.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        return answer.ok ? answer.json() : null;
      })
      .then(function (status) {
        if (!status) {
          return;
        }
        bar.max = Math.max(status.total, 1);
        bar.value = status.done;
        if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }
  window.setTimeout(poll, 1000);
})();

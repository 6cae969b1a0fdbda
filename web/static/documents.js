// The documents page: lists the collection (GET /api/documents) and, for an admin holding the token, adds a
// document (pasted or uploaded) and removes one after a confirmation. Text from documents only ever enters the
// page as text nodes, never as HTML; the token lives in sessionStorage only.
"use strict";

(function () {
  const main = document.getElementById("main");
  const api = main.dataset.api || "/api/documents";
  const admin = main.dataset.admin === "yes";
  const rows = document.querySelector("#documents tbody");
  const summary = document.getElementById("summary");
  const more = document.getElementById("more");
  const PAGE = 50;
  let shown = 0;
  let removeDocument = null; // set below for an admin

  const { el, linkedTo } = window.qaDom;

  // What each refusal of a write means, for the admin (the server's own message follows as the detail).
  const ERRORS = {
    unauthorized: "Mã quản trị không đúng hoặc chưa nhập.",
    admin_disabled: "Máy chủ không cho phép thay đổi tài liệu.",
    bad_document: "Tài liệu không hợp lệ.",
    bad_json: "Tài liệu không hợp lệ.",
    request_too_large: "Tệp hoặc bài quá lớn.",
    unsupported_media_type: "Chỉ nhận tệp .txt, .md, .html hoặc .jsonl.",
    no_such_document: "Tài liệu này không còn trong bộ tài liệu.",
    busy: "Đang có một thay đổi khác; hãy thử lại sau giây lát.",
    insufficient_storage: "Máy chủ hết chỗ trên đĩa.",
    index_unavailable: "Bộ tài liệu tạm thời không dùng được; hãy thử lại sau giây lát.",
  };

  function row(doc) {
    const tr = el("tr");
    tr.dataset.id = doc.id;
    const title = el("td", "title");
    title.append(linkedTo(document.createTextNode(doc.title), doc.url), el("span", "doc-id", doc.id));
    // The day and the time each kept whole: on a phone the time goes under the day.
    const date = el("td", "date");
    if (doc.date) date.append(...doc.date.split("T").flatMap((part, i) => (i ? [" ", el("span", "", part)] : [el("span", "", part)])));
    else date.textContent = "—";
    tr.append(title, date, el("td", "count", String(doc.passages)));
    if (admin) {
      const cell = el("td");
      const button = el("button", "remove", "Xóa");
      button.type = "button";
      button.setAttribute("aria-label", "Xóa " + doc.title);
      button.addEventListener("click", () => removeDocument(doc));
      cell.append(button);
      tr.append(cell);
    }
    return tr;
  }

  async function load(reset) {
    if (reset) {
      rows.replaceChildren();
      shown = 0;
    }
    try {
      const response = await fetch(api + "?offset=" + shown + "&limit=" + PAGE, { headers: { Accept: "application/json" } });
      const body = await response.json();
      for (const doc of body.documents) rows.append(row(doc));
      shown += body.documents.length;
      summary.textContent = body.total + " tài liệu" + (shown < body.total ? " (đang hiện " + shown + ")" : "");
      more.hidden = shown >= body.total;
    } catch (_) {
      summary.textContent = "Không tải được danh sách tài liệu.";
    }
  }

  more.addEventListener("click", () => load(false));

  if (admin) {
    const token = document.getElementById("token");
    const status = document.getElementById("admin-status");
    token.value = sessionStorage.getItem("qa-admin-token") || "";
    token.addEventListener("input", () => sessionStorage.setItem("qa-admin-token", token.value));

    async function write(method, url, options) {
      const headers = Object.assign({ Authorization: "Bearer " + token.value, Accept: "application/json" },
        options.headers || {});
      const response = await fetch(url, Object.assign({}, options, { method: method, headers: headers }));
      if (response.ok) return response.status === 204 ? {} : response.json();
      let message = "Lỗi HTTP " + response.status + ".";
      try {
        const body = await response.json();
        if (body && body.error) {
          message = (ERRORS[body.error.code] || message) + " Chi tiết: " + body.error.message + " (" + body.error.code + ")";
        }
      } catch (_) { /* keep the status */ }
      throw new Error(message);
    }

    async function report(promise, done, form) {
      status.textContent = "Đang xử lý…";
      try {
        const body = await promise;
        status.textContent = done(body);
        if (form) form.reset(); // added: the fields are free for the next one (a refusal keeps them to send again)
        await load(true);
        // A removed row took the focused button with it: the keyboard goes on from the message that says so.
        if (!document.activeElement || document.activeElement === document.body) status.focus();
      } catch (error) {
        status.textContent = "Không thực hiện được: " + error.message;
      }
    }

    document.getElementById("paste-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const doc = { title: document.getElementById("doc-title").value, text: document.getElementById("doc-text").value };
      const date = document.getElementById("doc-date").value.trim();
      const url = document.getElementById("doc-url").value.trim();
      if (date) doc.date = date;
      if (url) doc.url = url;
      report(write("POST", api, { headers: { "Content-Type": "application/json" }, body: JSON.stringify(doc) }),
        (body) => "Đã thêm: " + body.documents.map((d) => d.id).join(", "), event.target);
    });

    document.getElementById("upload-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const file = document.getElementById("doc-file").files[0];
      if (!file) return;
      const data = new FormData();
      data.append("file", file);
      report(write("POST", api, { body: data }), (body) => "Đã thêm: " + body.documents.map((d) => d.id).join(", "),
        event.target);
    });

    removeDocument = (doc) => {
      if (!window.confirm("Xóa tài liệu \u201c" + doc.title + "\u201d? Câu hỏi sẽ không còn được trả lời từ nó.")) return;
      report(write("DELETE", api + "/" + encodeURIComponent(doc.id).replace(/%2F/g, "/"), {}), () => "Đã xóa: " + doc.id);
    };
  }

  load(true);
})();

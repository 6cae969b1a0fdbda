// The chat page: sends questions to /api/ask and shows the answers. Text from questions and
// passages only ever enters the page as text nodes (textContent), never as HTML.
"use strict";

(function () {
  const form = document.getElementById("ask-form");
  const box = document.getElementById("question");
  const send = document.getElementById("send");
  const log = document.getElementById("conversation");
  const newConversation = document.getElementById("new-conversation");
  const api = form.dataset.api || "/api/ask";
  const maxChars = Number(form.dataset.maxChars) || 1000;
  const scoreFormat = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 2 });
  let busy = false;
  // The conversation's earlier questions, oldest first: sent as history, so a follow-up ("Ông ấy giữ chức vụ gì?")
  // is answered in their context. The server takes at most 5.
  let history = [];
  const MAX_HISTORY = 5;

  // What each API error code means, for the person asking.
  const ERRORS = {
    bad_question: "Câu hỏi trống hoặc không hợp lệ. Hãy nhập một câu hỏi bằng chữ.",
    question_too_long: "Câu hỏi quá dài: tối đa " + maxChars + " ký tự.",
    request_too_large: "Yêu cầu quá lớn, máy chủ từ chối xử lý.",
    bad_top_k: "Số kết quả yêu cầu không hợp lệ.",
    bad_history: "Các câu hỏi trước trong cuộc trò chuyện không hợp lệ. Hãy bắt đầu cuộc trò chuyện mới.",
    bad_json: "Yêu cầu gửi lên không hợp lệ.",
    unsupported_media_type: "Yêu cầu gửi lên không hợp lệ.",
    internal_error: "Máy chủ gặp lỗi. Vui lòng thử lại sau.",
    index_unavailable: "Bộ tài liệu tạm thời không dùng được (đang cập nhật hoặc bị hỏng). Hãy thử lại sau giây lát.",
    request_timeout: "Yêu cầu gửi lên quá chậm. Hãy thử lại.",
  };

  const { el, linkedTo } = window.qaDom;

  /**
   * text[from, to) as text nodes with the matched spans wrapped in <mark>.
   * The API counts offsets in Unicode code points, so work on code points, not UTF-16 units.
   */
  function highlighted(chars, spans, from, to) {
    const fragment = document.createDocumentFragment();
    const valid = (spans || [])
      .filter((s) => Array.isArray(s) && Number.isInteger(s[0]) && Number.isInteger(s[1]))
      .sort((a, b) => a[0] - b[0]);
    let at = from;
    for (const [start, end] of valid) {
      const s = Math.max(start, at);
      const e = Math.min(end, to);
      if (e <= s) continue;
      if (s > at) fragment.append(document.createTextNode(chars.slice(at, s).join("")));
      fragment.append(el("mark", "", chars.slice(s, e).join("")));
      at = e;
    }
    if (at < to) fragment.append(document.createTextNode(chars.slice(at, to).join("")));
    return fragment;
  }

  /** The answer's best sentence, highlighted: the offsets point into text, so find where it sits. */
  function sentenceNode(answer) {
    const node = el("p", "sentence");
    const where = answer.text.indexOf(answer.sentence);
    if (!answer.sentence || where < 0) {
      node.textContent = answer.sentence || answer.text;
      return node;
    }
    const chars = Array.from(answer.text);
    const from = Array.from(answer.text.slice(0, where)).length;
    node.append(highlighted(chars, answer.highlights, from, from + Array.from(answer.sentence).length));
    return node;
  }

  /**
   * One answer: the answer itself (short_answer) first and large when the engine gives one, then the sentence,
   * source and score, then the whole passage behind a disclosure (none when the passage is that one sentence, as
   * qa ask prints no "Đoạn:" line then).
   */
  function answerCard(answer) {
    const card = el("article", "answer");
    const short = answer.short_answer;
    if (short && typeof short.text === "string" && short.text) card.append(el("p", "short-answer", short.text));
    card.append(sentenceNode(answer));

    const source = el("p", "source");
    source.append("Nguồn: ", linkedTo(el("cite", "", answer.title || answer.doc_id), answer.url));
    if (typeof answer.date === "string" && answer.date) source.append(" · ", el("time", "date", answer.date.replace("T", " ")));
    source.append(" · ", el("span", "score", "điểm " + scoreFormat.format(answer.score)));
    card.append(source);

    if (answer.sentence === answer.text) return card; // the passage is its one sentence, shown already
    const more = el("details", "passage");
    more.append(el("summary", "", "Xem cả đoạn văn"));
    const chars = Array.from(answer.text);
    const passage = el("p", "passage-text");
    passage.append(highlighted(chars, answer.highlights, 0, chars.length));
    more.append(passage);
    card.append(more);
    return card;
  }

  function cardList(answers) {
    const list = el("ol", "answers");
    for (const answer of answers) {
      const item = el("li");
      item.append(answerCard(answer));
      list.append(item);
    }
    return list;
  }

  function renderFound(bubble, result) {
    const [best, ...others] = result.answers;
    bubble.append(answerCard(best));
    if (others.length) {
      const more = el("details", "others");
      more.append(el("summary", "", "Các đoạn liên quan khác (" + others.length + ")"));
      more.append(cardList(others));
      bubble.append(more);
    }
  }

  function renderNotFound(bubble, result) {
    bubble.classList.add("not-found");
    bubble.append(
      el("p", "lead", "Không tìm thấy câu trả lời trong các bài đã lập chỉ mục."),
      el("p", "advice", "Hãy thử hỏi lại bằng từ ngữ khác, hoặc hỏi về nội dung có trong tài liệu."),
    );
    if (result.answers.length) {
      const closest = el("details", "closest");
      closest.append(el("summary", "", "Xem các đoạn gần nhất (không chắc chắn)"));
      closest.append(el("p", "warning", "Các đoạn dưới đây chỉ gần giống câu hỏi và có thể không trả lời nó."));
      closest.append(cardList(result.answers));
      bubble.append(closest);
    }
  }

  function renderError(bubble, status, error) {
    bubble.classList.add("error");
    const code = error && typeof error.code === "string" ? error.code : "";
    bubble.append(el("p", "lead", "Máy chủ từ chối câu hỏi"));
    bubble.append(el("p", "error-message", ERRORS[code] || "Đã có lỗi xảy ra (HTTP " + status + ")."));
    if (error && typeof error.message === "string") {
      bubble.append(el("p", "error-detail", "Chi tiết: " + error.message + (code ? " (" + code + ", HTTP " + status + ")" : "")));
    }
  }

  function renderOffline(bubble) {
    bubble.classList.add("error");
    bubble.append(
      el("p", "lead", "Không kết nối được máy chủ"),
      el("p", "error-message", "Kiểm tra kết nối rồi thử lại."),
    );
  }

  function addMessage(who) {
    const item = el("li", "message " + who);
    const bubble = el("div", "bubble");
    item.append(bubble);
    log.append(item);
    return bubble;
  }

  async function ask(question) {
    busy = true;
    send.setAttribute("aria-disabled", "true"); // not `disabled`: that would drop the focus of a keyboard user
    const asked = addMessage("user");
    asked.append(el("p", "user-text", question));
    const bubble = addMessage("bot");
    bubble.setAttribute("aria-busy", "true");
    const waiting = el("p", "waiting", "Đang tìm câu trả lời…");
    bubble.append(waiting);
    bubble.parentElement.scrollIntoView({ block: "nearest" });
    try {
      const response = await fetch(api, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ question: question, top_k: 3, history: history }),
      });
      let body = null;
      try {
        body = await response.json();
      } catch (_) {
        body = null; // e.g. a proxy's HTML error page
      }
      waiting.remove();
      if (response.ok && body && Array.isArray(body.answers)) {
        history = history.concat([question]).slice(-MAX_HISTORY);
        if (typeof body.asked === "string" && body.asked) bubble.append(el("p", "asked", "Hiểu là: " + body.asked));
        if (body.found && body.answers.length) renderFound(bubble, body);
        else renderNotFound(bubble, body);
      } else {
        renderError(bubble, response.status, body && body.error);
      }
    } catch (_) {
      waiting.remove();
      renderOffline(bubble);
    } finally {
      bubble.removeAttribute("aria-busy");
      busy = false;
      send.removeAttribute("aria-disabled");
      // The question, then its answer from the top; a very long question gives way to the answer.
      const short = asked.parentElement.offsetHeight < window.innerHeight / 3;
      (short ? asked : bubble).parentElement.scrollIntoView({ block: "start" });
    }
  }

  function submit() {
    const question = box.value.trim();
    if (busy) return; // one question at a time; keep what was typed
    if (!question) {
      box.focus();
      return;
    }
    box.value = "";
    ask(question);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });

  box.addEventListener("keydown", (event) => {
    // Vietnamese input methods (Telex, VNI) compose with the keyboard: Enter then confirms a word.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submit();
  });

  // A new conversation: the earlier questions are forgotten and the shown conversation cleared.
  newConversation.addEventListener("click", () => {
    if (busy) return;
    history = [];
    log.replaceChildren();
    box.focus();
  });

  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", () => {
      box.value = button.dataset.question || button.textContent;
      submit();
    });
  }
})();

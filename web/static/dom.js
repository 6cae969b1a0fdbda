// What both pages build their content with. Text from questions, passages and documents only ever enters a
// page as text nodes (textContent), never as HTML, and a document's url becomes a link only when it is a web
// address (http or https), so it never runs script.
"use strict";

window.qaDom = {
  /** Make an element with a class and (optional) text, never parsing HTML. */
  el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  },

  /** The node inside a link to url when url is a web address, else the node alone. */
  linkedTo(node, url) {
    let href = null;
    try {
      const parsed = new URL(typeof url === "string" ? url : "");
      href = parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      href = null;
    }
    if (!href) return node;
    const link = document.createElement("a");
    link.href = href;
    link.rel = "noopener noreferrer";
    link.append(node);
    return link;
  },
};

// The one DOM helper the page's modules share.

/** A new ``tag`` element with ``props`` assigned (id, className, textContent, ...) and ``children`` appended. */
export function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

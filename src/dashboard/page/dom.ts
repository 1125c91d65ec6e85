import type { ViewLine } from './api-types.js';

interface ElementProps {
  className?: string;
  /** Set as textContent: never parsed as markup, whatever it holds. */
  text?: string;
  attrs?: Record<string, string>;
}

/** Builds an element. Text only ever goes in through textContent; this page never sets innerHTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, children: Node[] = []): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className !== undefined) element.className = props.className;
  if (props.text !== undefined) element.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** Diff or text lines, one block element per line, painted by tone. */
export function linesBlock(lines: ViewLine[]): HTMLPreElement {
  return el(
    'pre',
    { className: 'lines' },
    lines.map((line) => el('span', { className: line.tone, text: line.text })),
  );
}

export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** A one-line message under a form: what happened or what is wrong. */
export function message(text: string, tone: 'ok' | 'error' | 'info'): HTMLParagraphElement {
  return el('p', { className: `message ${tone}`, text, attrs: { role: tone === 'error' ? 'alert' : 'status' } });
}

// Just enough XML for EC2 Query API responses: elements, text, escaping. No attributes besides the namespace.

export type XmlNode = { name: string; children: XmlNode[] } | { name: string; text: string };

export function el(name: string, children: Array<XmlNode | undefined>): XmlNode {
  return { name, children: children.filter((child): child is XmlNode => child !== undefined) };
}

/** A text element; undefined values produce no element, as EC2 leaves out absent fields. */
export function text(name: string, value: string | number | boolean | undefined): XmlNode | undefined {
  return value === undefined ? undefined : { name, text: String(value) };
}

function escapeXml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

function render(node: XmlNode, depth: number, out: string[]): void {
  const pad = '    '.repeat(depth);
  if ('text' in node) {
    out.push(`${pad}<${node.name}>${escapeXml(node.text)}</${node.name}>`);
  } else if (node.children.length === 0) {
    out.push(`${pad}<${node.name}/>`);
  } else {
    out.push(`${pad}<${node.name}>`);
    for (const child of node.children) render(child, depth + 1, out);
    out.push(`${pad}</${node.name}>`);
  }
}

/** A document whose root carries `xmlns` (success responses) or not (EC2's error documents). */
export function xmlDocument(root: XmlNode, namespace?: string): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const lines: string[] = [];
  render(root, 0, lines);
  if (namespace !== undefined)
    lines[0] = (lines[0] as string).replace(`<${root.name}`, `<${root.name} xmlns="${namespace}"`);
  out.push(...lines);
  return `${out.join('\n')}\n`;
}

// Path patterns of fault rules: a plain path matches as a prefix; with `*`, `**` or `?` it is a glob anchored at
// both ends, where `*` and `?` stay within one path segment and `**` crosses segments.

export interface PathPattern {
  text: string;
  matches(path: string): boolean;
}

export function compilePathPattern(text: string): PathPattern {
  if (!/[*?]/.test(text)) return { text, matches: (path) => path.startsWith(text) };
  let source = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '*' && text[i + 1] === '*') {
      source += '.*';
      i += 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const pattern = new RegExp(`^${source}$`);
  return { text, matches: (path) => pattern.test(path) };
}

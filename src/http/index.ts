// Public surface of the HTTP layer: a strict incremental request parser and a response serializer.
export { DEFAULT_HTTP_LIMITS, resolveLimits, type HttpLimits } from './limits.ts';
export { HttpRequestParser, type HttpParseEvent, type HttpRequest } from './parser.ts';
export { reasonPhrase, serializeResponse, serializeVerbatim } from './serializer.ts';

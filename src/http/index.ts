// Public surface of the HTTP layer: a strict incremental request parser and a response serializer.
export { DEFAULT_HTTP_LIMITS, resolveLimits, type HttpLimits } from './limits.ts';
export {
  HttpRequestParser,
  type HttpParseError,
  type HttpParseErrorCode,
  type HttpParseEvent,
  type HttpRequest,
  type HttpVersion,
} from './parser.ts';
export { reasonPhrase, serializeResponse, serializeVerbatim, type HttpResponse, type SerializeOptions, type VerbatimHeader } from './serializer.ts';

export type { ImdsRequest, ImdsResponse } from './types.ts';
export { TokenAuthority, type TokenVerdict } from './token.ts';
export { PlaceholderEngine, type PlaceholderInstance, type PlaceholderOptions } from './placeholder-engine.ts';

// Types for node-version.mjs (plain JavaScript so that any Node can load it and be told it is too old).
export declare const NODE_MINIMUM: string;
export declare function nodeTooOld(found?: string): boolean;
export declare function requireSupportedNode(what: string): void;

// Kept so `src/config.ts` imports work; the loader lives in src/config/.
export * from './config/index.ts';

/**
 * The test fixtures, one import for every suite:
 * - server.ts: the real app on a real port, on this run's database (or one of its own);
 * - clock.ts: TestClock, the one clock tests move (advance, freeze, thaw), and time units;
 * - world.ts: tenants, tokens, the API client, and payers (a user on a sandbox account);
 * - cards.ts: the sandbox's test cards, from src/processors/sandbox/cards.ts;
 * - page.ts: mint a link, claim its page in a frame, confirm, answer 3-D Secure;
 * - webhooks.ts: Standard Webhooks verification and a receiver that records deliveries.
 */
export * from './server.js'
export * from './clock.js'
export * from './world.js'
export * from './cards.js'
export * from './page.js'
export * from './webhooks.js'
export * from './processors.js'

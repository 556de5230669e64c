/**
 * The forms of the ledger's identifiers, shared by the public contract, the shard protocol and
 * the web app (no runtime dependencies, so type-only importers stay browser-safe).
 */

/** Transaction ids: the orchestrator's UUIDs, or any short token a test or operator chooses. */
export const TX_ID_PATTERN = '^[A-Za-z0-9_-]{1,100}$';
/** Wallet ids are digit strings of any length; the bound only keeps keys indexable. */
export const WALLET_ID_MAX = 1000;
export const WALLET_ID_PATTERN = `^[0-9]{1,${WALLET_ID_MAX}}$`;

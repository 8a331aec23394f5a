// What the line formats share: a line is pure ASCII, so every byte outside it, and the quote and
// backslash that delimit quoted fields, are escaped by each format in its own way.

export const QUOTE: number = 0x22
export const BACKSLASH: number = 0x5c

/**
 * The ASCII bytes a quoted field keeps as they are in both the JSON and the combined/common
 * formats: visible ASCII and space, except '"' and '\' (RFC 8259 §7 for JSON; nginx's
 * ngx_http_log_escape, escape=default, for combined).
 */
export const QUOTED_SAFE: Uint8Array = new Uint8Array(128)
for (let c = 0x20; c <= 0x7e; c++) QUOTED_SAFE[c] = 1
QUOTED_SAFE[QUOTE] = QUOTED_SAFE[BACKSLASH] = 0

// ECMA-262 §21.4.1.1: a Date holds at most ±8.64e15 ms.
export const MAX_TIME_MS: number = 8.64e15

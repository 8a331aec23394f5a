// Every client connection of a worker reads into this one buffer instead of a new 64 KiB
// allocation per read. Those allocations are external memory that V8 frees only at its next GC,
// which it starts only after tens of MiB of them: with them, a 1 GiB upload leaves ~42 MiB of
// dead read buffers in a worker's RSS, and every GET pays for an allocation.
// The price: a chunk is valid only until the read callback returns. Whoever keeps bytes past it
// copies them (http/keep-alive.ts HeldBytes, a waiting request's early body bytes, the upload
// writers).
const READ_BUFFER_BYTES = 256 * 1024

export const sharedReadBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)

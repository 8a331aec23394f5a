// Node's own llhttp, reached the way node's benchmark/http/bench-parser.js reaches it:
// HTTPParser from node:_http_common. Shared by the differential test and the benchmark.
import { createRequire } from 'node:module'

export interface LlhttpParser {
  initialize(type: number, resource: object): void
  execute(buffer: Buffer, offset?: number, length?: number): number | Error
  [key: number]: unknown
}
export interface LlhttpParserClass {
  new (): LlhttpParser
  REQUEST: number
  kOnHeaders: number
  kOnHeadersComplete: number
  kOnBody: number
  kOnMessageComplete: number
}

const require = createRequire(import.meta.url)
const common = require('node:_http_common') as { HTTPParser: LlhttpParserClass; methods: string[] }

export const HTTPParser: LlhttpParserClass = common.HTTPParser
/** llhttp's method table as node exports it (it lags llhttp's numbering for newer methods). */
export const LLHTTP_METHODS: readonly string[] = common.methods

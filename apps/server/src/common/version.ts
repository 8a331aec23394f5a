import { createRequire } from 'node:module'
import { PACKAGE_JSON_PATH } from '../paths.js'

const pkg = createRequire(import.meta.url)(PACKAGE_JSON_PATH) as { version: string }

export const SERVER_VERSION: string = pkg.version
export const SERVER_HEADER = `ThreadServe/${SERVER_VERSION}`

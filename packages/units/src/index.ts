export { DURATION_HINT, parseDuration } from './parse-duration.js'
export { parseSize, SIZE_HINT } from './parse-size.js'

import type { Setting } from './setting-types.js'
import { between, CREDENTIALS, FLAG, NON_EMPTY } from './setting-values.js'

// The settings for uploads: where, how many, how large, who may (settings.ts joins the tables).

export const UPLOAD_SETTINGS = {
  uploadDir: {
    flag: 'upload-dir',
    kind: 'path',
    group: 'uploads',
    fallback: '',
    help: 'where POST /upload stores files (default <root>/uploads)',
    value: NON_EMPTY,
  },
  maxPosts: {
    flag: 'max-posts',
    kind: 'integer',
    group: 'uploads',
    fallback: '5',
    help: 'POST uploads in progress server-wide (then 503)',
    value: between(1, 10_000),
  },
  maxPostsPerClient: {
    flag: 'max-posts-per-client',
    kind: 'integer',
    group: 'uploads',
    fallback: '0',
    help: 'of those, the most one client address may hold (then 503); 0: one fewer than --max-posts, so no one address can take them all',
    value: between(0, 10_000),
  },
  allowCrossSiteUploads: {
    flag: 'allow-cross-site-uploads',
    kind: 'boolean',
    group: 'uploads',
    fallback: 'false',
    help: "accept POST /upload from pages of other sites (by default a browser's cross-site Origin or Sec-Fetch-Site is refused with 403)",
    value: FLAG,
  },
  maxBodyBytes: {
    flag: 'max-body',
    kind: 'size',
    group: 'uploads',
    fallback: '64MiB',
    help: 'largest upload accepted (then 413)',
    value: between(1, Number.MAX_SAFE_INTEGER),
  },
  uploadAuth: {
    flag: 'upload-auth',
    kind: 'credentials',
    group: 'uploads',
    fallback: '',
    help: 'HTTP Basic for POST and /upload: a file of user:hash lines (or user:password, which other users can read in the process list: prefer the file or the environment variable)',
    value: CREDENTIALS,
  },
  authAll: {
    flag: 'auth-all',
    kind: 'boolean',
    group: 'uploads',
    fallback: 'false',
    help: 'with --upload-auth: require the credentials for GET/HEAD too',
    value: FLAG,
  },
} as const satisfies Record<string, Setting<unknown>>

import type { ServerId } from './servers.js'

// What is measured: each workload names the loadtest flags it runs with, the path it asks for
// on each server, and the servers that take part.

export interface Workload {
  readonly id: string
  readonly title: string
  readonly path: (server: ServerId) => string
  readonly args: readonly string[]
  readonly servers: readonly ServerId[]
  /** The status every response should have; unset: any 2xx. */
  readonly expectStatus?: number
}

/**
 * The 16 KiB range the range workload asks for: the fourth of the 100 KiB file's. The load
 * generator sends one request, built once, so the range is fixed rather than cycling over the file.
 */
export const RANGE_16K = 'bytes=49152-65535'

/**
 * Every workload. The bare Node baseline and python's http.server close every connection and take
 * no uploads: they are in the one-request-per-connection GETs only (python when python3 is there);
 * nginx takes part in the uploads only with its dav module, as `PUT`.
 */
export function createWorkloads(available: { readonly hasPython: boolean; readonly hasDav: boolean }): Workload[] {
  const getServers: ServerId[] = [
    'threadserve',
    'threadserve-2w',
    'threadserve-kernel',
    'nginx',
    'node-cluster',
    'bare-node',
  ]
  if (available.hasPython) getServers.push('python')
  const postServers: ServerId[] = ['threadserve', 'threadserve-2w', 'threadserve-kernel', 'node-cluster']
  if (available.hasDav) postServers.push('nginx')
  const uploadPath = (server: ServerId): string => (server === 'nginx' ? '/dav/bench.bin' : '/upload')
  return [
    {
      id: 'get1k',
      title: 'GET 1 KiB, one request per connection, 32 connections',
      path: () => '/1k.bin',
      args: ['-c', '32'],
      servers: getServers,
    },
    {
      id: 'get100k',
      title: 'GET 100 KiB, one request per connection, 32 connections',
      path: () => '/100k.bin',
      args: ['-c', '32'],
      servers: getServers,
    },
    {
      id: 'get100k-range',
      title: `GET a 16 KiB range of a 100 KiB file (Range: ${RANGE_16K}), one request per connection, 32 connections`,
      path: () => '/100k.bin',
      args: ['-c', '32', '-H', `Range: ${RANGE_16K}`],
      // node:http's static baseline, the bare Node baseline and python's http.server ignore
      // Range: they would send the whole 100 KiB.
      servers: ['threadserve', 'threadserve-2w', 'threadserve-kernel', 'nginx'],
      expectStatus: 206,
    },
    {
      id: 'get1k-ka',
      title: 'GET 1 KiB, keep-alive, 32 connections',
      path: () => '/1k.bin',
      args: ['-c', '32', '-k'],
      servers: ['threadserve', 'threadserve-2w', 'threadserve-kernel', 'nginx', 'node-cluster'],
    },
    {
      id: 'post1k',
      title: 'POST 1 KiB (nginx: dav PUT), 4 connections',
      path: uploadPath,
      args: ['-c', '4', '-s', '1KiB'],
      servers: postServers,
    },
    {
      id: 'post1m',
      title: 'POST 1 MiB (nginx: dav PUT), 4 connections',
      path: uploadPath,
      args: ['-c', '4', '-s', '1MiB'],
      servers: postServers,
    },
  ]
}

/** The loadtest flags for one server: nginx takes uploads as WebDAV `PUT`. */
export function argsFor(workload: Workload, server: ServerId): readonly string[] {
  const extra = server === 'nginx' && workload.id.startsWith('post') ? ['-m', 'PUT'] : []
  return [...workload.args, ...extra]
}
